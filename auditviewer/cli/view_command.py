"""``auditviewer view ...``: saved views (a query with its sort, columns and time zone), kept
in the store; ``query --view NAME`` and ``export --view NAME`` use them."""

from __future__ import annotations

import argparse
from typing import Any

from auditviewer.cli.common import open_store, printable, when
from auditviewer.core.querying.filter import SORT_COLUMNS, Sort
from auditviewer.core.vocabulary import TABLE_COLUMNS

NAME = "view"


def add_parser(subparsers: Any) -> None:
    """Registers ``view`` and its actions on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="save, list and delete saved views (named queries kept in the store)",
        description=(
            "A saved view is a name for a query with its sort order, its visible columns and "
            "whether times show in UTC. Views are kept in the store and travel with it; the "
            "viewer's Views menu lists them, and query and export take --view NAME."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True

    save = actions.add_parser("save", help="save a view (replaces one of the same name)")
    save.add_argument("name", metavar="NAME", help="the view's name")
    save.add_argument(
        "--query",
        default="",
        metavar="Q",
        help="the query (default: every entry); write --query=-action:x for one that starts "
        "with '-'",
    )
    save.add_argument(
        "--sort", choices=tuple(SORT_COLUMNS), default="time", help="sort column (default time)"
    )
    save.add_argument("--asc", action="store_true", help="ascending order (default descending)")
    save.add_argument(
        "--columns",
        default="",
        metavar="A,B",
        help=(
            "the visible columns, comma-separated, of "
            + ", ".join(TABLE_COLUMNS)
            + " (default: the viewer's own)"
        ),
    )
    save.add_argument(
        "--local-time", action="store_true", help="show times in local time (default UTC)"
    )
    save.set_defaults(handler=_save)

    listing = actions.add_parser("list", help="list the saved views")
    listing.set_defaults(handler=_list)

    delete = actions.add_parser("delete", help="delete a saved view")
    delete.add_argument("name", metavar="NAME", help="the view's name")
    delete.set_defaults(handler=_delete)


def _save(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.views import SavedView, save_view

    columns = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    view = SavedView(args.name, args.query, Sort(args.sort, not args.asc), columns,
                     utc=not args.local_time)  # fmt: skip
    with open_store(args) as store:
        saved = save_view(store, view)
    print(
        f"Saved the view {printable(repr(saved.name))}: {printable(saved.query or '(every entry)')}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.views import list_views

    with open_store(args) as store:
        views = list_views(store)
    for view in views:
        order = f"{view.sort.column} {'descending' if view.sort.descending else 'ascending'}"
        columns = f", columns {','.join(view.columns)}" if view.columns else ""
        zone = "UTC" if view.utc else "local time"
        print(
            printable(
                f"{view.name}: {view.query or '(every entry)'}  [{order}{columns}, {zone}; "
                f"saved {when(view.saved_utc)}]"
            )
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    from auditviewer.core.reviewing.views import delete_view

    with open_store(args) as store:
        delete_view(store, args.name)
    print(f"Deleted the view {printable(repr(args.name))}")
    return 0
