"""``auditviewer stats``: what the store holds and where it came from."""

from __future__ import annotations

import argparse
from typing import Any

from auditviewer.cli.common import open_store, printable, span, when
from auditviewer.core.querying.window import list_sources, store_stats
from auditviewer.core.wording import counted

_IDS_CONFLICTING = "ids with conflicting versions"

NAME = "stats"


def add_parser(subparsers: Any) -> None:
    """Registers ``stats`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="print counts, time span, imports, conflicts, quarantine and the chain head",
        description=(
            "Print what the store holds: entry counts, the time span covered, quarantined "
            "entries, conflicts, every import and sync run with its counts, how far the "
            "full-text index reaches, and the chain head (note it down to prove later that "
            "nothing was changed or removed: see verify)."
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints the statistics of the store."""
    with open_store(args) as store:
        stats = store_stats(store)
        sources = list_sources(store)
        location = store.path
    head = (
        f"seq {stats.last_seq:,}  sha256 {stats.last_chain_sha256}"
        if stats.last_chain_sha256
        else "- (the store is empty)"
    )
    rows = (
        ("store", printable(str(location))),
        ("entries", f"{stats.entries:,}"),
        ("time span", span(stats.first_created_utc, stats.last_created_utc)),
        ("quarantined", f"{stats.quarantined:,}"),
        (
            "conflicts",
            f"{counted(stats.conflict_keys, 'id with conflicting versions', _IDS_CONFLICTING)} "
            f"({counted(stats.conflict_entries, 'entry')})",
        ),
        ("imports", f"{counted(stats.imports, 'file')}, {counted(stats.sync_runs, 'sync run')}"),
        ("full-text", f"indexed up to seq {stats.fts_indexed_upto:,} of {stats.last_seq:,}"),
        ("chain head", head),
    )
    for label, value in rows:
        print(f"{label:<12} {value}")
    if sources:
        print()
        print("sources:")
        for source in sources:
            state = "" if source.finished_utc is not None else "  (unfinished)"
            print(
                f"  #{source.id} {source.kind} {when(source.started_utc)}  "
                f"{printable(source.location)}{state}"
            )
            print(
                f"      parsed {source.parsed:,}: {source.imported:,} imported, "
                f"{counted(source.duplicates, 'duplicate')}, "
                f"{counted(source.conflicts, 'conflict')}, "
                f"{source.quarantined:,} quarantined; "
                f"span {span(source.first_created_utc, source.last_created_utc)}"
            )
            if source.sha256:
                print(f"      sha256 {source.sha256}")
    return 0
