"""``auditviewer log``: the store's custody log, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from auditviewer.cli.common import open_store, printable, when

NAME = "log"


def add_parser(subparsers: Any) -> None:
    """Registers ``log`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="list the custody log: every import, sync, export, pack and verify, with who and when",
        description=(
            "List the store's custody log, oldest first: every import, sync run, export, "
            "evidence pack, verification, review sign-off and schema migration, with its time, "
            "the OS user, counts, file hashes and the entry chain head after it. The log is "
            "append-only and hash-chained; auditviewer verify checks it."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON, one object per record")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints the records."""
    from auditviewer.core.store.custody import read_custody

    with open_store(args) as store:
        records = read_custody(store)
    if args.json:
        print(json.dumps([record.as_json() for record in records], indent=2, ensure_ascii=False))
        return 0
    print(f"{'#':>4}  {'time (UTC)':<20}  {'user':<12}  {'what':<16}  {'head seq':>9}  detail")
    for record in records:
        print(
            printable(
                f"{record.seq:>4}  {when(record.recorded_utc):<20}  {record.os_user:<12.12}  "
                f"{record.what:<16}  {record.entries_seq:>9,}  {_detail(record.detail)}"
            )
        )
    return 0


def _detail(detail: Any) -> str:
    """The detail's fields for one line: names first, counts, then hashes shortened."""
    parts = []
    for name, value in detail.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, str) and len(value) == 64:
            value = value[:12] + "…"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
            if len(value) > 60:
                value = value[:59] + "…"
        parts.append(f"{name}={value}")
    return " ".join(parts)
