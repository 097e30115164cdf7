"""``auditviewer verify``: SQLite's check of the store, every entry's hash and the hash chain."""

from __future__ import annotations

import argparse
from typing import Any

from auditviewer.cli.common import ProgressLine, fail, open_store, printable
from auditviewer.core.evidence.custody_check import head_text
from auditviewer.core.evidence.sqlite_check import REBUILD_ADVICE
from auditviewer.core.evidence.store_check import check_store, rebuild_store_indexes
from auditviewer.core.wording import counted

NAME = "verify"


def add_parser(subparsers: Any) -> None:
    """Registers ``verify`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="check the store file, every entry's SHA-256 and the hash chain; exit 1 on a problem",
        description=(
            "Run SQLite's quick check of the store file, recompute the SHA-256 of every "
            "entry's original text and the hash chain over all entries, check that the "
            "entries, their texts and the column blocks agree, and check the full-text "
            "index. The custody log is checked too: its own hash chain, and the entry chain "
            "heads it recorded after each import and sync, which show entries removed from the "
            "end. Prints every problem found, naming the table, index or entry, and the "
            "chain head, which stands for the whole store. Exits with 1 on a problem."
        ),
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="also compare every index with its table (SQLite's integrity_check; slower)",
    )
    parser.add_argument(
        "--rebuild-indexes",
        action="store_true",
        help="rebuild every index from its table first (under the write lock), then check",
    )
    parser.add_argument(
        "--expect-head",
        metavar="HEX",
        type=_head,
        help=(
            "a chain head noted outside the store (an earlier verify, an evidence pack's "
            "manifest); it must be in the store's chain"
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """0 when the store is intact, 1 when a check found a problem."""
    progress = ProgressLine("verifying")
    with open_store(args) as store:
        try:
            if args.rebuild_indexes:
                indexing = ProgressLine("indexing text")
                try:
                    indexed = rebuild_store_indexes(store, progress=indexing)
                finally:
                    indexing.clear()
                again = f"; {counted(indexed, 'entry')} indexed for text search again"
                text = again if indexed else ""
                print(f"Indexes rebuilt{text}")
            report = check_store(
                store, full=args.full, progress=progress, expect_head=args.expect_head
            )
        finally:
            progress.clear()
        location = store.path
    if report.text_index_skipped is not None:
        print(f"Note: {report.text_index_skipped}")
    if report.logged is False:
        print(
            "Note: this check was not recorded in the store's custody log: the store is "
            "read-only (or another program kept it busy)"
        )
    if report.ok:
        print(report.summary())
        return 0
    problems = report.problems()
    if report.chain is not None and report.chain.problem is not None:
        print(f"{counted(report.chain.entries, 'entry')} checked before the mismatch")
    if len(problems) > 1:
        print(report.summary())
        for problem in problems:
            print(printable(f"{location}: {problem}"))
    if report.only_indexes_damaged:
        print("Only indexes are damaged: the entries, their hashes and the hash chain are intact.")
    others = len(problems) - 1
    more = f" ({others} more problem{'s' if others > 1 else ''} listed above)" if others else ""
    advice = "" if REBUILD_ADVICE in problems[0] else f"; {report.advice()}"
    return fail(f"{location}: {problems[0]}{more}{advice}")


def _head(text: str) -> str:
    try:
        return head_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
