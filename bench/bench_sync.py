"""The first sync of a big organization, against the local emulator.

The emulator (``tests.support.emulator``, a real HTTP server on 127.0.0.1) runs in this
process with ``--size`` entries. Each measured sync runs in a fresh child process into a new
store, so its peak RSS (``VmHWM``) is the sync's own:

1. a full first sync for each ``--per-page`` value: entries/s and peak RSS;
2. kill and resume: a first sync is killed (SIGKILL) once about half of the entries are stored,
   while new entries keep arriving at the head of the log; a second run resumes. It reports how
   many pages the resumed run fetched against a full sync, and checks that the store ends with
   exactly the server's set of entries.

It prints Markdown; ``--write`` puts it into ``BENCHMARKS.md`` between the ``sync-results``
markers.

    .venv/bin/python bench/bench_sync.py                          # 10^5, as published
    .venv/bin/python bench/bench_sync.py --size 20000 --per-page 100
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from harness import (  # noqa: E402
    emit,
    finish_run,
    machine_sentence,
    markers,
    result_of,
    run_header,
    start_child,
    status_kb,
    use_source_tree,
    write_block,
)

use_source_tree()
if TYPE_CHECKING:
    from tests.support.emulator import AuditLogEmulator

BEGIN_MARK, END_MARK = markers("sync-results")
SECTION = "## First sync of a big organization"


def child_sync(store_path: str, base_url: str, per_page_text: str, token: str) -> None:
    """One sync into ``store_path``; prints a ``PAGE`` line per stored page, then the result."""
    from auditviewer.core.store.connection import Store
    from auditviewer.core.sync import SyncConfig, SyncProgress, sync

    per_page = int(per_page_text)

    def progress(p: SyncProgress) -> None:
        if p.phase == "stored":
            print("PAGE", p.page, p.parsed, flush=True)

    started = time.perf_counter()
    config = SyncConfig(org="acme", base_url=base_url, per_page=per_page, overlap=per_page)
    with Store.open(store_path) as store:
        report = sync(store, config, token, progress=progress)
    seconds = time.perf_counter() - started
    emit(
        {
            "seconds": seconds,
            "new": report.imported,
            "pages": report.pages,
            "resumed": report.resumed,
            "hwm_kb": status_kb("VmHWM:"),
        }
    )


def _child(store: Path, emulator: AuditLogEmulator, per_page: int) -> subprocess.Popen[str]:
    from tests.support.emulator import DEFAULT_TOKEN

    return start_child(
        __file__, "sync", str(store), emulator.base_url, str(per_page), DEFAULT_TOKEN
    )


def _stored_keys(store: Path) -> set[str]:
    with sqlite3.connect(store) as connection:
        return {row[0] for row in connection.execute("SELECT entry_key FROM entry_texts")}


def full_sync(emulator: AuditLogEmulator, per_page: int, folder: Path) -> dict[str, Any]:
    store = folder / f"full-{per_page}.sqlite"
    result = result_of(_child(store, emulator, per_page))
    result["per_page"] = per_page
    result["rate"] = result["new"] / result["seconds"]
    result["store_mb"] = store.stat().st_size / 1e6
    return result


def kill_and_resume(emulator: AuditLogEmulator, per_page: int, folder: Path) -> dict[str, Any]:
    store = folder / f"resume-{per_page}.sqlite"
    total_pages = -(-len(emulator.entry_texts()) // per_page)
    stop_arrivals = threading.Event()

    def arrive() -> None:
        while not stop_arrivals.wait(0.05):
            emulator.add_entries(3)

    arrivals = threading.Thread(target=arrive, daemon=True)
    arrivals.start()
    first = _child(store, emulator, per_page)
    assert first.stdout is not None
    pages_before_kill = 0
    for line in first.stdout:
        if line.startswith("PAGE "):
            pages_before_kill = int(line.split()[1])
            if pages_before_kill >= total_pages // 2:
                first.send_signal(signal.SIGKILL)
                break
    first.wait()
    time.sleep(0.3)
    second = result_of(_child(store, emulator, per_page))
    stop_arrivals.set()
    arrivals.join()
    # Entries that arrived during the resumed run: one more (incremental) run picks them up.
    third = result_of(_child(store, emulator, per_page))
    server = {json.loads(text)["id"] for text in emulator.entry_texts()}
    stored = {int(key) for key in _stored_keys(store)}
    return {
        "per_page": per_page,
        "pages_full": total_pages,
        "pages_before_kill": pages_before_kill,
        "pages_resumed": second["pages"],
        "resumed": second["resumed"],
        "pages_after": third["pages"],
        "exact": stored == server,
        "server_entries": len(server),
        "stored_entries": len(stored),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here, not at the top: the sync children run this file too, and their peak RSS
    # is the sync's own.
    from tests.support.emulator import AuditLogEmulator

    results: dict[str, Any] = {
        **run_header("bench/bench_sync.py"),
        "size": args.size,
        "full": [],
        "resume": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        folder = Path(tmp)
        for per_page in args.per_page:
            with AuditLogEmulator(entries=args.size) as emulator:
                print(f"== full sync, {per_page} per page", file=sys.stderr)
                results["full"].append(full_sync(emulator, per_page, folder))
            with AuditLogEmulator(entries=args.size) as emulator:
                print(f"== kill and resume, {per_page} per page", file=sys.stderr)
                results["resume"].append(kill_and_resume(emulator, per_page, folder))
    return finish_run(results)


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Run {results['started']} – {results['finished']}. Command: `{results['command']}`.",
        "",
        machine_sentence(results),
        "",
        f"First sync of {results['size']:,} entries from the local emulator (HTTP on 127.0.0.1, "
        "in the benchmark's process), each sync in a fresh process into a new store:",
        "",
        "| Entries per page | Time | Entries/s | Peak RSS of the sync | Store size |",
        "|---|---|---|---|---|",
    ]
    for row in results["full"]:
        lines.append(
            f"| {row['per_page']:,} | {row['seconds']:.1f} s | {row['rate']:,.0f} | "
            f"{row['hwm_kb'] / 1024:.0f} MB | {row['store_mb']:.0f} MB |"
        )
    lines += [
        "",
        "Killed (SIGKILL) at half the pages while 60 entries/s arrive at the head, then resumed; "
        "a last incremental run takes what arrived during the resumed run:",
        "",
        "| Entries per page | Pages of a full sync | Stored before the kill | Pages fetched "
        "by the resumed run | Pages of the last run | Store = server's set |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["resume"]:
        lines.append(
            f"| {row['per_page']:,} | {row['pages_full']:,} | {row['pages_before_kill']:,} | "
            f"{row['pages_resumed']:,} | {row['pages_after']:,} | "
            f"{'yes' if row['exact'] else '**no**'} ({row['stored_entries']:,} of "
            f"{row['server_entries']:,}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument(
        "--per-page", type=int, nargs="+", default=[100, 1000], metavar="N", help="page sizes"
    )
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        {"sync": child_sync}[kind](*rest)
        return 0
    markdown = render(run(args))
    print(markdown)
    if args.write:
        write_block(markdown, BEGIN_MARK, END_MARK, section=SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
