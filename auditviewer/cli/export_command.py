"""``auditviewer export [QUERY] -o FILE``: writes matching entries to a JSON or CSV file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditviewer.cli.common import ProgressLine, open_store, printable
from auditviewer.cli.query_command import add_query_argument, add_view_argument, view_query
from auditviewer.core.errors import ExportFailed
from auditviewer.core.exporting.export import FORMATS, ExportTargetReadOnly, export_csv, export_json
from auditviewer.core.querying.language import parse_query
from auditviewer.core.wording import counted

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
    add_view_argument(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    parser.add_argument(
        "--force",
        action="store_true",
        help=(
            "replace FILE even when it is read-only: when its mode has no write permission bit "
            "(chmod 444) or you may not write to it; without --force such a file is left as it is"
        ),
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="json or csv (default: csv for a FILE ending in .csv, else json)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Exports and prints what was written."""
    if not args.output.strip():
        raise ExportFailed("a file name is needed after -o, for example -o entries.json")
    output = Path(args.output)
    if not args.view:
        text = " ".join(args.query)
        parse_query(text)  # a malformed query is refused before the store opens
    fmt = args.format or ("csv" if output.suffix.lower() == ".csv" else "json")
    write = export_csv if fmt == "csv" else export_json
    progress = ProgressLine(f"exporting to {output.name}")
    with open_store(args) as store:
        text, _ = view_query(store, args)
        flt = parse_query(text) if text.strip() else None
        try:
            report = write(
                store, output, filter=flt, progress=progress, replace_read_only=args.force
            )
        except ExportTargetReadOnly as exc:
            raise ExportFailed(
                f"{exc.target}: the file is read-only and was left as it is; export to another "
                "file, or add --force to replace it"
            ) from None
        finally:
            progress.clear()
    print(
        f"Exported {counted(report.entries, 'entry')} to {printable(str(report.path))} "
        f"({report.format}, {report.bytes_written:,} bytes)"
    )
    return 0
