"""``auditviewer review ...``: start a review, mark entries, sign it off and write its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from auditviewer.cli.common import PROGRAM, open_store, printable, when
from auditviewer.cli.query_command import positive
from auditviewer.core.errors import AuditViewerError
from auditviewer.core.querying.filter import SORT_COLUMNS, Sort

NAME = "review"
MARKS = ("ok", "flagged", "follow-up", "unreviewed")


def add_parser(subparsers: Any) -> None:
    """Registers ``review`` and its actions on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="review entries: start a review, mark entries, sign it off, write its report",
        description=(
            "Reviews record that the log was looked at: each entry of a review's scope is "
            "marked ok, flagged or follow-up, with an optional note and tags; the reviewer "
            "signs the review off with a statement, which freezes it; the report (PDF, JSON "
            "or CSV) lists every flagged and follow-up entry and the hashes that tie it to the "
            "store. Marks are kept beside the entries, never in them."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True

    start = actions.add_parser("start", help="start a review; prints its id")
    start.add_argument("name", metavar="NAME", help="the review's name")
    start.add_argument(
        "--query",
        default="",
        metavar="Q",
        help="the scope, as a query (default: every entry); write --query=-action:x for a "
        "query that starts with '-'",
    )
    start.add_argument("--by", metavar="NAME", help="the reviewer (default: your user name)")
    start.set_defaults(handler=_start)

    daily = actions.add_parser(
        "daily", help="start the review of what arrived since the last signed review"
    )
    daily.add_argument("--name", metavar="NAME", help="the name (default: Daily review DATE)")
    daily.add_argument("--query", default="", metavar="Q", help="narrow the scope by a query")
    daily.add_argument("--by", metavar="NAME", help="the reviewer (default: your user name)")
    daily.set_defaults(handler=_daily)

    mark = actions.add_parser("mark", help="mark entries of a review")
    mark.add_argument("id", type=positive, metavar="ID", help="the review")
    mark.add_argument("seqs", type=positive, nargs="+", metavar="SEQ", help="the entries' seqs")
    mark.add_argument("--as", dest="disposition", choices=MARKS, help="the disposition")
    mark.add_argument("--note", metavar="TEXT", help="a note (replaces the entries' note)")
    mark.add_argument(
        "--tag",
        dest="tags",
        action="append",
        metavar="T",
        help="a tag; repeat for several (replaces the entries' tags)",
    )
    mark.add_argument("--by", metavar="NAME", help="who marks (default: the review's reviewer)")
    mark.set_defaults(handler=_mark)

    sign = actions.add_parser("sign", help="sign a review off, which freezes it")
    sign.add_argument("id", type=positive, metavar="ID", help="the review")
    sign.add_argument("--by", required=True, metavar="NAME", help="who signs")
    sign.add_argument("--statement", required=True, metavar="TEXT", help="the statement")
    sign.set_defaults(handler=_sign)

    listing = actions.add_parser("list", help="list the reviews")
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="show a review, its progress and its exceptions")
    show.add_argument("id", type=positive, metavar="ID", help="the review")
    show.set_defaults(handler=_show)

    report = actions.add_parser("report", help="write a review's report (PDF, JSON or CSV)")
    report.add_argument("id", type=positive, metavar="ID", help="the review")
    report.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the file to write; its suffix (.pdf, .json, .csv) chooses the format",
    )
    report.set_defaults(handler=_report)

    step = actions.add_parser("next", help="print the next unreviewed entry of a review")
    step.add_argument("id", type=positive, metavar="ID", help="the review")
    step.add_argument("--after", type=positive, metavar="SEQ", help="go on from this entry")
    step.add_argument("--previous", action="store_true", help="the previous one instead")
    step.add_argument(
        "--sort", choices=tuple(SORT_COLUMNS), default="time", help="sort column (default time)"
    )
    step.add_argument("--asc", action="store_true", help="ascending order (default descending)")
    step.set_defaults(handler=_next)

    history = actions.add_parser("history", help="every mark an entry has had, in any review")
    history.add_argument("seq", type=positive, metavar="SEQ", help="the entry")
    history.set_defaults(handler=_history)


def _user(name: str | None) -> str:
    from auditviewer.core.reviewing.reviews import os_user

    return name if name is not None else os_user()


def _start(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.reviews import review_progress, start_review

    with open_store(args) as store:
        review = start_review(store, args.name, reviewer=_user(args.by), query=args.query)
        progress = review_progress(store, review.id)
    print(review.id)
    print(
        f"{PROGRAM}: started {printable(review.label())}: {progress.total:,} entries to review",
        file=sys.stderr,
    )
    return 0


def _daily(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.reviews import review_progress, start_daily_review

    with open_store(args) as store:
        review = start_daily_review(
            store, reviewer=_user(args.by), name=args.name, query=args.query
        )
        progress = review_progress(store, review.id)
    print(review.id)
    print(
        f"{PROGRAM}: started {printable(review.label())} of entries seq "
        f"{review.first_seq:,} to {review.last_seq:,}: {progress.total:,} entries to review",
        file=sys.stderr,
    )
    return 0


def _mark(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.marks import mark
    from auditviewer.core.reviewing.reviews import review_progress

    if args.disposition is None and args.note is None and args.tags is None:
        print(
            f"{PROGRAM} review mark: give --as, --note or --tag (see {PROGRAM} review mark --help)",
            file=sys.stderr,
        )
        return 2
    with open_store(args) as store:
        marked = mark(
            store,
            args.id,
            args.seqs,
            args.disposition,
            note=args.note,
            tags=args.tags,
            reviewer=args.by,
        )
        progress = review_progress(store, args.id)
    print(f"Marked {marked:,} {'entry' if marked == 1 else 'entries'}; {progress}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.reviews import sign_review

    with open_store(args) as store:
        review = sign_review(store, args.id, by=args.by, statement=args.statement)
    signature = review.signature
    assert signature is not None
    print(
        f"Signed {printable(review.label())} by {printable(signature.signed_by)}: "
        f"{signature.counts}; entries chain head {signature.entries_head or '-'}, "
        f"review events chain head {signature.events_head or '-'}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.reviews import list_reviews, review_progress

    with open_store(args) as store:
        reviews = [(r, review_progress(store, r.id)) for r in list_reviews(store)]
    print(f"{'ID':>4}  {'STARTED (UTC)':20}  {'STATUS':7}  {'REVIEWER':20}  {'NAME':30}  PROGRESS")
    for review, progress in reviews:
        status = "signed" if review.signed else "open"
        print(
            f"{review.id:>4}  {when(review.started_utc):20}  {status:7}  "
            f"{printable(review.reviewer)[:20]:20}  {printable(review.name)[:30]:30}  {progress}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.report import build_report

    with open_store(args) as store:
        report = build_report(store, args.id)
    review = report.review
    lines = [
        f"Review {review.id}: {review.name}",
        f"Scope: {review.scope_text()}",
        f"Reviewer: {review.reviewer} (user {review.os_user}), started {when(review.started_utc)}",
        f"Status: {report.status()}",
    ]
    if review.signature is not None:
        lines.append(f"Statement: {review.signature.statement}")
    lines += [
        f"Progress: {report.counts}",
        f"Entries: {report.entries_count:,}, chain head {report.entries_head or '-'}",
        f"Review events: {report.events_count:,}, chain head {report.events_head or '-'}",
        f"Flagged and follow-up entries: {len(report.entries):,}",
    ]
    for line in lines:
        print(printable(line))
    for entry in report.entries:
        note = " ".join(entry.note.split())
        tags = f" [{', '.join(entry.tags)}]" if entry.tags else ""
        print(
            printable(
                f"  {entry.seq:>8}  {when(entry.time_utc)}  {entry.disposition:9}  "
                f"{entry.action}  {entry.actor}{tags}{'  ' + note if note else ''}"
            )
        )
    return 0


def _report(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.report import (
        REPORT_FORMATS,
        build_report,
        report_format,
        write_report_csv,
        write_report_json,
    )

    output = Path(args.output)
    try:
        fmt = report_format(output)
    except ValueError:
        print(
            f"{PROGRAM} review report: {printable(str(output))}: the file name must end in "
            f"{', '.join(f'.{name}' for name in REPORT_FORMATS)}, which chooses the report's "
            "format",
            file=sys.stderr,
        )
        return 2
    with open_store(args) as store:
        report = build_report(store, args.id)
    if fmt == "pdf":
        written = _write_pdf(report, output)
    elif fmt == "json":
        written = write_report_json(report, output)
    else:
        written = write_report_csv(report, output)
    print(
        f"Wrote the report of {printable(report.review.label())} to {printable(str(output))} "
        f"({fmt}, {written:,} bytes, {len(report.entries):,} flagged and follow-up entries)"
    )
    return 0


def _write_pdf(report: Any, output: Path) -> int:
    """Writes the PDF with Qt, loaded only now (offscreen: no display is needed)."""
    try:
        from auditviewer.ui.reports.review_pdf import write_report_pdf
    except ImportError as exc:
        raise AuditViewerError(
            f"{output}: a PDF report needs Qt, which cannot be loaded here ({exc}); write "
            "a .json or .csv report instead"
        ) from None
    return write_report_pdf(report, output)


def _next(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.marks import next_unreviewed

    with open_store(args) as store:
        seq = next_unreviewed(
            store,
            args.id,
            after_seq=args.after,
            sort=Sort(args.sort, not args.asc),
            backwards=args.previous,
        )
    if seq is None:
        print(f"{PROGRAM}: no unreviewed entry left that way in review {args.id}", file=sys.stderr)
        return 0
    print(seq)
    return 0


def _history(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.marks import history

    with open_store(args) as store:
        events = history(store, args.seq)
    if not events:
        print(f"{PROGRAM}: entry seq {args.seq} has no marks", file=sys.stderr)
    for event in events:
        tags = f" [{', '.join(event.tags)}]" if event.tags else ""
        note = " ".join(event.note.split())
        print(
            printable(
                f"{when(event.created_utc)}  review {event.review_id}  {event.disposition:10}  "
                f"{event.reviewer} (user {event.os_user}){tags}{'  ' + note if note else ''}"
            )
        )
    return 0
