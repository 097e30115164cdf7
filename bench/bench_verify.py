"""How long each part of ``auditviewer verify`` takes on a store.

Times, in one read snapshot: SQLite's quick check, SQLite's integrity check (``verify
--full``), the hashes and chain, the parts' agreement and the index comparison (given the key
digest the hash check computed, as ``verify`` runs it); then FTS5's check of the full-text
index and the whole check as ``verify`` and ``verify --full`` run it.

    .venv/bin/python bench/synthetic.py --count 100000 --format json -o /tmp/e.json
    .venv/bin/python -m auditviewer --store /tmp/s.sqlite import /tmp/e.json
    .venv/bin/python bench/bench_verify.py /tmp/s.sqlite
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT

sys.path.insert(0, str(ROOT))

from auditviewer.core.evidence.hash_chain import verify_chain
from auditviewer.core.evidence.parts_check import parts_disagreement
from auditviewer.core.evidence.sqlite_check import fts_finding, index_findings
from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.store.connection import Store


def _timed(label: str, work: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = work()
    print(f"| {label} | {time.perf_counter() - started:.2f} s |")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    args = parser.parse_args(argv)
    store = Store.open(args.store, create=False)
    try:
        with store.raw() as connection:
            (entries,) = connection.execute("SELECT count(*) FROM entries").fetchone()
        size = args.store.stat().st_size
        print(f"{entries:,} entries, store {size / 1e6:,.0f} MB\n")
        print("| part | time |\n|---|---|")
        with store.snapshot() as connection:
            _timed("quick_check", lambda: connection.execute("PRAGMA quick_check").fetchall())
            _timed(
                "integrity_check (--full)",
                lambda: connection.execute("PRAGMA integrity_check").fetchall(),
            )
            started = time.perf_counter()
            chain = verify_chain(connection, str(args.store))
            print(f"| hashes and chain | {time.perf_counter() - started:.2f} s |")
            _timed("parts agree", lambda: parts_disagreement(connection, chain.entries))
            known = {"entry_texts_key": chain.key_digest} if chain.key_digest else {}
            _timed("index comparison", lambda: index_findings(connection, known=known))
        with store.raw() as connection:
            _timed("full-text index check", lambda: fts_finding(connection))
        _timed("verify (all of it)", lambda: check_store(store))
        _timed("verify --full (all of it)", lambda: check_store(store, full=True))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
