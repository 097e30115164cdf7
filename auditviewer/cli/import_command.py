"""``auditviewer import FILE...``: adds export files to the store, then updates the text index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from auditviewer.cli.common import ProgressLine, fail, open_store, printable, span
from auditviewer.core.errors import ImportRejected, StoreError
from auditviewer.core.records import ImportReport
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.text_index import build_fulltext
from auditviewer.core.wording import counted, rejection

NAME = "import"
EXIT_INTERRUPTED = 130


def add_parser(subparsers: Any) -> None:
    """Registers ``import`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="add audit-log export files to the store",
        description=(
            "Add audit-log export files (JSON array, wrapped array, JSON Lines, any of them "
            "gzip-compressed) to the store. Each file is imported whole or not at all; entries "
            "already stored are counted as duplicates, an id seen with other content is kept "
            "as a conflict, and entries that cannot be understood are quarantined with the "
            "reason. New entries are added to the full-text index in the same pass."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="export files")
    parser.add_argument(
        "--no-index",
        action="store_true",
        help="leave the full-text index for later (text search still finds everything)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Imports each file in its own transaction; 1 if any file was rejected."""
    rejected = 0
    stored = 0
    indexed = 0
    with open_store(args, create=True) as store:
        for path in args.files:
            progress = ProgressLine(f"importing {path.name}")
            try:
                report = import_file(store, path, progress=progress, index_text=not args.no_index)
            except ImportRejected as exc:
                progress.clear()
                fail(rejection(str(exc)))
                rejected += 1
                continue
            except KeyboardInterrupt:
                progress.clear()
                fail(f"interrupted; nothing of {path} was stored")
                return EXIT_INTERRUPTED
            progress.clear()
            print_report(report)
            stored += report.imported + report.conflicts + report.quarantined
            indexed += report.indexed
        if stored and not args.no_index:
            indexing = ProgressLine("full-text index")
            try:
                # Entries an earlier --no-index import left out.
                indexed += build_fulltext(store, progress=indexing)
            except KeyboardInterrupt:
                indexing.clear()
                fail("index update interrupted; what was indexed is kept, the rest follows later")
                return EXIT_INTERRUPTED
            except StoreError as exc:
                # The entries are committed; only the derived text index is behind.
                indexing.clear()
                return fail(f"{counted(stored, 'entry')} imported and kept. {exc}")
            indexing.clear()
            print(f"Full-text index: {counted(indexed, 'entry')} added")
    return 1 if rejected else 0


def print_report(report: ImportReport) -> None:
    """The import report of one file, for people."""
    out = sys.stdout
    out.write(f"{printable(report.location)}\n")
    rows = [
        ("sha256", report.sha256 or "-"),
        ("parsed", f"{report.parsed:,}"),
        ("imported", f"{report.imported:,}"),
        ("duplicates", f"{report.duplicates:,}"),
        ("conflicts", f"{report.conflicts:,}"),
        ("quarantined", f"{report.quarantined:,}"),
        ("time span", span(report.first_created_utc, report.last_created_utc)),
    ]
    if report.naive_times:
        rows.append(("naive times", f"{report.naive_times:,} without an offset, read as UTC"))
    for label, value in rows:
        out.write(f"  {label:<12} {value}\n")
    if report.quarantine:
        out.write("  quarantined entries:\n")
        for entry in report.quarantine:
            where = f"element {entry.index + 1}"
            if entry.line is not None:
                where += f", line {entry.line}"
            out.write(f"    {where}: {printable(entry.reason)}\n")
        hidden = report.quarantined - len(report.quarantine)
        if hidden > 0:
            out.write(f"    ... and {hidden:,} more (query them with: quarantined:yes)\n")
