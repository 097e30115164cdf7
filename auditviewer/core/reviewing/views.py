"""Saved views: a name for a query with its sort, visible columns and time zone choice.

Views are kept in the store, so they travel with it. Saving under an existing name replaces
that view; views are the one thing in the store a user may change or delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson

from auditviewer.core.querying.filter import Sort
from auditviewer.core.querying.language import parse_query
from auditviewer.core.records import now_micros
from auditviewer.core.reviewing.errors import ReviewError, ViewNotFound
from auditviewer.core.reviewing.reviews import has_reviews
from auditviewer.core.store.connection import Store
from auditviewer.core.vocabulary import TABLE_COLUMNS

MAX_VIEW_NAME: Final = 100
_COLUMNS: Final = "name, query, sort_column, sort_descending, columns, utc, saved_utc"


@dataclass(frozen=True, slots=True)
class SavedView:
    """A named query with the sort, the visible columns (none: the window's own) and whether
    times show in UTC."""

    name: str
    query: str
    sort: Sort = field(default_factory=Sort)
    columns: tuple[str, ...] = ()
    utc: bool = True
    saved_utc: int = 0


def _view(row: Sequence[object]) -> SavedView:
    return SavedView(
        name=str(row[0]),
        query=str(row[1]),
        sort=Sort(str(row[2]), bool(row[3])),
        columns=tuple(orjson.loads(str(row[4]))),
        utc=bool(row[5]),
        saved_utc=int(str(row[6])),
    )


def save_view(store: Store, view: SavedView) -> SavedView:
    """Saves ``view`` (replacing a view of the same name). Raises :class:`QueryError` for a
    malformed query and :class:`ReviewError` for a missing or overlong name or a column that
    is not one of :data:`TABLE_COLUMNS` (case aside)."""
    name = " ".join(view.name.split())
    if not name or len(name) > MAX_VIEW_NAME:
        raise ReviewError(
            f"{store.path}: a view needs a name of 1 to {MAX_VIEW_NAME} characters; "
            "nothing was saved"
        )
    parse_query(view.query)
    columns = tuple(dict.fromkeys(column.strip().lower() for column in view.columns))
    unknown = [column for column in columns if column not in TABLE_COLUMNS]
    if unknown:
        raise ReviewError(
            f"{store.path}: there is no column {unknown[0]!r}; the columns are "
            f"{', '.join(TABLE_COLUMNS)}; nothing was saved"
        )
    saved = SavedView(name, view.query.strip(), view.sort, columns, view.utc, now_micros())
    with store.write(undone="the view was not saved") as connection:
        connection.execute(
            f"INSERT OR REPLACE INTO saved_views ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                saved.name,
                saved.query,
                saved.sort.column,
                int(saved.sort.descending),
                orjson.dumps(list(saved.columns)).decode(),
                int(saved.utc),
                saved.saved_utc,
            ),
        )
    return saved


def list_views(store: Store) -> list[SavedView]:
    """Every saved view, by name."""
    with store.snapshot() as connection:
        if not has_reviews(connection):
            return []
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM saved_views ORDER BY name COLLATE NOCASE"  # noqa: S608
        ).fetchall()
    return [_view(row) for row in rows]


def get_view(store: Store, name: str) -> SavedView:
    """The view called ``name`` (case-insensitively); raises :class:`ViewNotFound`."""
    for view in list_views(store):
        if view.name.casefold() == " ".join(name.split()).casefold():
            return view
    raise ViewNotFound(
        f"{store.path}: there is no saved view {name!r}; auditviewer view list shows them"
    )


def delete_view(store: Store, name: str) -> None:
    """Deletes the view called ``name``; raises :class:`ViewNotFound`."""
    view = get_view(store, name)
    with store.write(undone="the view was not deleted") as connection:
        connection.execute("DELETE FROM saved_views WHERE name = ?", (view.name,))
