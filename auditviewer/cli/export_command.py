"""``auditviewer export [QUERY] -o FILE``: writes matching entries to a JSON or CSV file;
``--evidence DIR`` writes a signed evidence pack instead."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from auditviewer.cli.common import ProgressLine, open_store, printable
from auditviewer.cli.query_command import (
    add_query_argument,
    add_view_argument,
    positive,
    view_query,
)
from auditviewer.core.errors import ExportFailed
from auditviewer.core.exporting.atomic import is_stream
from auditviewer.core.exporting.export import FORMATS, ExportTargetReadOnly, export_csv, export_json
from auditviewer.core.exporting.redaction import Redactor
from auditviewer.core.querying.language import parse_query
from auditviewer.core.wording import counted

NAME = "export"
NOT_LOGGED = (
    "Note: this export was not recorded in the store's custody log: the store is read-only "
    "(or another program kept it busy)"
)


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
            "atomically: an interrupted export leaves an existing file as it was. With "
            "--evidence DIR, a signed evidence pack is written into a new folder instead: the "
            "JSON export, a manifest, its Ed25519 signature, the public key, SHA256SUMS and a "
            "README telling the recipient how to check it with sha256sum and openssl. Every "
            "export is recorded in the store's custody log (auditviewer log)."
        ),
    )
    add_query_argument(parser)
    add_view_argument(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="FILE", help="the file to write")
    target.add_argument(
        "--evidence",
        metavar="DIR",
        help="write a signed evidence pack into DIR (a new or empty folder)",
    )
    parser.add_argument(
        "--by",
        metavar="NAME",
        help="with --evidence: the reviewer's name, written into the manifest",
    )
    parser.add_argument(
        "--review",
        metavar="ID",
        type=positive,
        help=(
            "with --evidence: the signed review the pack belongs to; its record (scope, "
            "signature, counts and the heads it was signed with) goes into the manifest"
        ),
    )
    parser.add_argument(
        "--zip",
        action="store_true",
        help="with --evidence: also write DIR.zip holding the pack's folder",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help=(
            "replace e-mail and IP addresses, actor names and token names by pseudonyms that "
            "are consistent within this export (keyed with a random key that is not kept); "
            "the texts are then no longer the originals"
        ),
    )
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
    if args.evidence is not None:
        return _run_pack(args)
    if args.by or args.review or args.zip:
        raise ExportFailed("--by, --review and --zip go with --evidence DIR")
    if not args.output.strip():
        raise ExportFailed("a file name is needed after -o, for example -o entries.json")
    output = Path(args.output)
    if not args.view:
        text = " ".join(args.query)
        parse_query(text)  # a malformed query is refused before the store opens
    fmt = args.format or ("csv" if output.suffix.lower() == ".csv" else "json")
    write = export_csv if fmt == "csv" else export_json
    # Entries sent down a stream (-o /dev/stdout, a pipe) leave the summary to stderr.
    said = sys.stderr if is_stream(output) else sys.stdout
    progress = ProgressLine(f"exporting to {output.name}")
    with open_store(args) as store:
        text, _ = view_query(store, args)
        flt = parse_query(text) if text.strip() else None
        try:
            report = write(
                store,
                output,
                filter=flt,
                progress=progress,
                replace_read_only=args.force,
                redactor=Redactor() if args.redact else None,
            )
        except ExportTargetReadOnly as exc:
            raise ExportFailed(
                f"{exc.target}: the file is read-only and was left as it is; export to another "
                "file, or add --force to replace it"
            ) from None
        finally:
            progress.clear()
    redacted = ", redacted" if report.redacted else ""
    print(
        f"Exported {counted(report.entries, 'entry')} to {printable(str(report.path))} "
        f"({report.format}{redacted}, {report.bytes_written:,} bytes, SHA-256 {report.sha256})",
        file=said,
    )
    if not report.logged:
        print(NOT_LOGGED, file=said)
    return 0


def _run_pack(args: argparse.Namespace) -> int:
    """Writes an evidence pack and prints where, its signer and how to check it."""
    from auditviewer.core.packs.pack import write_evidence_pack
    from auditviewer.core.packs.signing import signing_key
    from auditviewer.core.paths import default_signing_key_path
    from auditviewer.core.reviewing.reviews import get_review, pack_reference

    if not args.evidence.strip():
        raise ExportFailed(
            "a folder name is needed after --evidence, for example --evidence q3-pack"
        )
    if not args.view:
        parse_query(" ".join(args.query))  # a malformed query is refused before the store opens
    folder = Path(args.evidence)
    key = signing_key(default_signing_key_path())
    progress = ProgressLine(f"exporting to {folder.name}")
    with open_store(args) as store:
        text, _ = view_query(store, args)
        flt = parse_query(text) if text.strip() else None
        review = None
        if args.review is not None:
            review = pack_reference(get_review(store, args.review), store.path)
        try:
            report = write_evidence_pack(
                store,
                folder,
                key=key,
                filter=flt,
                reviewer=args.by,
                review=review,
                redactor=Redactor() if args.redact else None,
                make_zip=args.zip,
                progress=progress,
            )
        finally:
            progress.clear()
    kind = "redacted" if report.redacted else "original texts"
    print(
        f"Evidence pack of {counted(report.entries, 'entry')} ({kind}) in {printable(str(folder))}"
    )
    if report.zip_path is not None:
        print(f"Zip: {printable(str(report.zip_path))}")
    made = "a new signing key was made; " if report.key_created else ""
    print(f"Signed with the key whose fingerprint is {report.fingerprint}")
    print(f"Note: {made}{report.key_where}")
    print(
        f"Store chain head at export: seq {report.entry_chain_seq:,} sha256 "
        f"{report.entry_chain_head or '-'}"
    )
    if review is not None:
        print(
            printable(
                f"Belongs to review {review['id']} ({review['name']}), signed by "
                f"{review['signed_by']} at {review['signed_utc']}"
            )
        )
    print(f"Check it: auditviewer verify-pack {printable(str(folder))}, or see its README.txt")
    if not report.logged:
        print(NOT_LOGGED)
    return 0
