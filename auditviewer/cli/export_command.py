"""``auditviewer export [QUERY] -o FILE``: writes matching entries to a JSON or CSV file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditviewer.cli.common import ProgressLine, open_store, printable
from auditviewer.cli.query_command import add_query_argument
from auditviewer.core.export import FORMATS, export_csv, export_json
from auditviewer.core.query_language import parse_query

NAME = "export"


def add_parser(subparsers: Any) -> None:
    """Registers ``export`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="write the entries a query matches (default: all) to a JSON or CSV file",
        description=(
            "Write the entries a query matches (without a query: every entry) to a file, "
            "newest first. JSON is an array of the entries' original texts, byte for byte, "
            "and imports again into identical entries; CSV holds the normalised columns, "
            "with cells a spreadsheet would run as formulas neutralised. The file is written "
            "atomically: an interrupted export leaves an existing file as it was."
        ),
    )
    add_query_argument(parser)
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="FILE", help="the file to write"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="json or csv (default: csv for a FILE ending in .csv, else json)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Exports and prints what was written."""
    text = " ".join(args.query)
    flt = parse_query(text) if text.strip() else None
    fmt = args.format or ("csv" if args.output.suffix.lower() == ".csv" else "json")
    write = export_csv if fmt == "csv" else export_json
    progress = ProgressLine(f"exporting to {args.output.name}")
    with open_store(args) as store:
        try:
            report = write(store, args.output, filter=flt, progress=progress)
        finally:
            progress.clear()
    print(
        f"Exported {report.entries:,} entries to {printable(str(report.path))} "
        f"({report.format}, {report.bytes_written:,} bytes)"
    )
    return 0
