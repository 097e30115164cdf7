"""``auditviewer query [QUERY]``: lists the entries a query matches, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from auditviewer.cli.common import open_store, printable, when
from auditviewer.core.entry_labels import actor_text, entity_text
from auditviewer.core.exporting.export import CSV_COLUMNS, csv_row, entry_flags, entry_record
from auditviewer.core.querying.filter import SORT_COLUMNS, Filter, Sort
from auditviewer.core.querying.language import MAX_NUMBER, parse_query
from auditviewer.core.querying.window import EntryQuery, EntryRow, list_sources, reading
from auditviewer.core.wording import counted

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

NAME = "query"
FORMATS = ("table", "json", "csv", "count")
WINDOW_ROWS = 1000
# Column title, width (None: the rest of the line) of the table format.
TABLE_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("SEQ", 8),
    ("TIME (UTC)", 20),
    ("ACTION", 34),
    ("ACTOR", 26),
    ("PROJECT", 18),
    ("ENTITY", 30),
    ("FLAGS", None),
)


def positive(text: str) -> int:
    """An argparse type: a whole number from 1 to the largest SQLite stores (2**63 - 1)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    if value > MAX_NUMBER:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_NUMBER}: {value}")
    return value


def add_query_argument(parser: argparse.ArgumentParser) -> None:
    """The optional QUERY words shared by ``query`` and ``export``."""
    parser.add_argument(
        "query",
        nargs="*",
        metavar="QUERY",
        help=(
            "filter, e.g. 'action:release.* actor-type:token after:2024-09-01 -project:demo'; "
            "several words are joined with spaces; none matches every entry; a negated term "
            "may stand anywhere, before or after the options"
        ),
    )


def add_view_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--view NAME`` option shared by ``query`` and ``export``."""
    parser.add_argument(
        "--view",
        metavar="NAME",
        help="start from a saved view (see the view command): its query, which QUERY words "
        "narrow further, and its sort order",
    )


def view_query(store: Store, args: argparse.Namespace) -> tuple[str, Sort | None]:
    """The query text of ``args`` (after the ``--view``'s query, if one is named) and the
    view's sort order (None without a view)."""
    text = " ".join(args.query)
    if not getattr(args, "view", None):
        return text, None
    from auditviewer.core.reviewing.views import get_view

    view = get_view(store, args.view)
    return f"{view.query} {text}".strip(), view.sort


def add_parser(subparsers: Any) -> None:
    """Registers ``query`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="list the entries a query matches",
        description=(
            "List the stored entries a query matches, newest first unless --sort/--asc say "
            "otherwise. Keys: action, actor, actor-type, project, entity, after, before, "
            "conflicts, quarantined, unknown, anomaly, source, seq, review, note, tag, "
            "reviewed-by; '-' negates a term, '*' is "
            "a wildcard, quoted phrases and bare words search the entries' text."
        ),
    )
    add_query_argument(parser)
    parser.add_argument(
        "--sort",
        choices=tuple(SORT_COLUMNS),
        help="sort column (default time, or the --view's)",
    )
    parser.add_argument("--asc", action="store_true", help="ascending order (default descending)")
    add_view_argument(parser)
    parser.add_argument("--limit", type=positive, metavar="N", help="at most N entries")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), json (an array of records), csv, or count (the bare number)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints the matching entries (or their number) on stdout."""
    if not args.view:
        parse_query(" ".join(args.query))  # a malformed query is refused before the store opens
    with open_store(args) as store, reading(store):
        text, view_sort = view_query(store, args)
        flt = parse_query(text)
        if args.sort is not None or view_sort is None:
            sort = Sort(args.sort or "time", not args.asc)
        else:
            sort = Sort(view_sort.column, view_sort.descending and not args.asc)
        return _listing(args, store, flt, sort)


def _listing(args: argparse.Namespace, store: Store, flt: Filter, sort: Sort) -> int:
    """Prints what ``flt`` matches in the format ``args`` asks for."""
    with EntryQuery(store, flt, sort) as query:
        total = query.count()
        if args.format == "count":
            print(total)
            return 0
        shown = total if args.limit is None else min(args.limit, total)
        rows = _rows(query, shown)
        if args.format == "table":
            _table(rows)
            print(f"{shown:,} of {counted(total, 'entry')}", file=sys.stderr)
            return 0
        sources = {source.id: source.location for source in list_sources(store)}
        if args.format == "json":
            _json(entry_record(row, sources.get(row.source_id, str(row.source_id))) for row in rows)
        else:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerows(
                csv_row(row, sources.get(row.source_id, str(row.source_id))) for row in rows
            )
    return 0


def _rows(query: EntryQuery, count: int) -> Iterator[EntryRow]:
    for offset in range(0, count, WINDOW_ROWS):
        yield from query.window(offset, min(WINDOW_ROWS, count - offset))


def _cell(text: str, width: int | None) -> str:
    text = printable(text)
    if width is None:
        return text
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.ljust(width)


def _table(rows: Iterator[EntryRow]) -> None:
    out = sys.stdout
    out.write("  ".join(_cell(title, width) for title, width in TABLE_COLUMNS).rstrip() + "\n")
    for row in rows:
        actor = actor_text(row)
        if row.actor_type != "user" and actor:
            actor = f"{actor} ({row.actor_type})"
        entity = entity_text(row)
        values = (
            str(row.seq).rjust(TABLE_COLUMNS[0][1] or 0),
            when(row.created_utc) if row.created_utc is not None else "-",
            row.action or "-",
            actor or "-",
            row.project or "-",
            entity or "-",
            " ".join(entry_flags(row)),
        )
        line = "  ".join(_cell(v, w) for v, (_, w) in zip(values, TABLE_COLUMNS, strict=True))
        out.write(line.rstrip() + "\n")


def _json(records: Iterator[dict[str, Any]]) -> None:
    out = sys.stdout
    out.write("[")
    first = True
    for record in records:
        out.write("\n" if first else ",\n")
        out.write(json.dumps(record, ensure_ascii=False))
        first = False
    out.write("\n]\n" if not first else "]\n")
