"""How long an import takes into a new store, and again when every entry is already held.

The second import finds every entry stored: it measures the duplicate path, where each stored
version is looked up (and, from schema step 5, the source it came from, for the coverage's
shared entry counts). ``--code`` runs the import of another checkout of auditviewer, to compare
two versions on the same file and machine.

    .venv/bin/python bench/synthetic.py --count 100000 --format json -o /tmp/e.json
    .venv/bin/python bench/bench_reimport.py /tmp/e.json --runs 3
    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/bench_reimport.py /tmp/e.json --runs 3 --code /tmp/before
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, machine, machine_sentence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("export", type=Path, help="the export file to import")
    parser.add_argument("--runs", type=int, default=3, help="new stores to import into")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_import import import_file

    before = machine()
    fresh, again = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(Path(folder) / "store.sqlite")
            try:
                started = time.perf_counter()
                first = import_file(store, args.export)
                fresh.append(time.perf_counter() - started)
                started = time.perf_counter()
                second = import_file(store, args.export)
                again.append(time.perf_counter() - started)
            finally:
                store.close()
        assert second.duplicates == first.parsed, "the second import should find every entry"
    print(f"code: {args.code.resolve()}")
    print(f"entries: {first.parsed:,}")
    print(
        f"into a new store: median {statistics.median(fresh):.2f} s (runs: "
        + ", ".join(f"{t:.2f}" for t in fresh)
        + ")"
    )
    print(
        f"again, all held: median {statistics.median(again):.2f} s (runs: "
        + ", ".join(f"{t:.2f}" for t in again)
        + ")"
    )
    print(machine_sentence({"machine": before, "load_end": machine()["load_start"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
