"""``auditviewer coverage``: what the archive holds, its holes, and the retention horizon."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from auditviewer.cli.common import open_store, printable, span, when
from auditviewer.core.errors import AuditViewerError
from auditviewer.core.wording import counted

NAME = "coverage"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
# The text report lists this many gaps, the longest; --json lists every one.
GAPS_SHOWN = 20


def add_parser(subparsers: Any) -> None:
    """Registers ``coverage`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="show what the archive covers: sources, gaps, overlaps, months, retention horizon",
        description=(
            "Report what the archive holds and where it has holes: each source's (file or "
            "sync run) time span and counts; gaps longer than --gap with no entries, with "
            "their dates; overlaps between sources, where shared entries prove continuity; "
            "which of the last 12 months hold entries; and the retention horizon: the "
            "service keeps entries one year, so it warns, with the date, when entries that "
            "exist only on the service will expire before the next expected sync."
        ),
    )
    parser.add_argument(
        "--gap",
        default="1d",
        metavar="DURATION",
        help="the shortest stretch without entries reported as a gap: 12h, 1d, 2w (default 1d)",
    )
    parser.add_argument(
        "--sync-every",
        metavar="DURATION",
        help=(
            "how often the archive is synced or downloaded (default: the median time between "
            "its recent imports and sync runs, else 30d)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def duration_micros(text: str, option: str) -> int:
    """``12h``, ``1d``, ``2w`` in microseconds; raises :class:`AuditViewerError` otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise AuditViewerError(f"{option} {text!r}: give a duration such as 12h, 1d or 2w")
    hours = float(match.group(1)) * _UNIT_HOURS[match.group(2)]
    if hours <= 0:
        raise AuditViewerError(f"{option} {text!r}: the duration must be more than zero")
    return int(hours * 3600 * 1_000_000)


def run(args: argparse.Namespace) -> int:
    """Prints the report."""
    from auditviewer.core.querying.coverage import coverage

    gap = duration_micros(args.gap, "--gap")
    interval = None if args.sync_every is None else duration_micros(args.sync_every, "--sync-every")
    with open_store(args) as store:
        report = coverage(store, gap=gap, sync_interval=interval)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        return 0
    print(f"{counted(report.entries, 'entry')}, {span(report.first_utc, report.last_utc)}")
    if report.undated:
        print(f"{counted(report.undated, 'entry')} without a time, left out below")
    print("\nSources:")
    for source in report.sources:
        print(
            printable(
                f"  #{source.id} {source.kind} {source.location}: "
                f"{span(source.first_utc, source.last_utc)}; {counted(source.parsed, 'entry')} "
                f"read, {source.stored:,} stored, {source.duplicates:,} already held"
            )
        )
    print(f"\nGaps longer than {args.gap} with no entries: {len(report.gaps) or 'none'}")
    longest = sorted(report.gaps, key=lambda g: g.before_utc - g.after_utc)[-GAPS_SHOWN:]
    if len(report.gaps) > GAPS_SHOWN:
        print(f"  the {GAPS_SHOWN} longest (--json lists all; --gap sets the threshold):")
    for gap_found in sorted(longest, key=lambda g: g.after_utc):
        print(
            f"  {when(gap_found.after_utc)} .. {when(gap_found.before_utc)} "
            f"({gap_found.days:.1f} days)"
        )
    print(f"\nOverlaps between sources: {len(report.overlaps) or 'none'}")
    for overlap in report.overlaps:
        print(
            f"  #{overlap.earlier} and #{overlap.later}: {span(overlap.start_utc, overlap.end_utc)}"
            f"; {overlap.proof()}"
        )
    print(f"\nMonths with entries in the last 12: {report.months_covered} of 12")
    print("  " + "  ".join(f"{month}:{count:,}" for month, count in report.months))
    print(f"\nNext expected sync: {when(report.next_sync_utc)[:10]}")
    if report.retention is not None:
        print(f"Warning: {report.retention}")
    elif report.last_utc is not None:
        print("Retention: the next expected sync comes before entries expire on the service")
    return 0
