"""Counts under a filter: facet values per dimension and a time histogram."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

from auditviewer.core import fulltext
from auditviewer.core.query import Filter, Where, where_clause
from auditviewer.core.store import Store

# Facet dimension -> (column, its (column, created_utc) index).
DIMENSIONS: Final[dict[str, tuple[str, str]]] = {
    "action": ("action", "entries_action"),
    "actor": ("actor_label", "entries_actor"),
    "project": ("project", "entries_project"),
    "entity": ("entity_type", "entries_entity_type"),
    "actor_type": ("actor_type", "entries_actor_type"),
}
BUCKETS: Final[dict[str, int]] = {"hour": 3_600_000_000, "day": 86_400_000_000}


@dataclass(frozen=True, slots=True)
class FacetCount:
    """One value of a dimension (None: entries without one) and how many entries have it."""

    value: str | None
    count: int


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """Entries created in ``[start_utc, start_utc + bucket)`` (UTC microseconds)."""

    start_utc: int
    count: int


def _covered_by_dimension_index(flt: Filter) -> bool:
    """Whether the filter can be answered from any ``(column, created_utc)`` index alone."""
    only_time = Filter(after=flt.after, before=flt.before)
    return flt == only_time


def facets(store: Store, flt: Filter, dimension: str, limit: int = 200) -> list[FacetCount]:
    """The most frequent values of ``dimension`` among the entries ``flt`` matches.

    Dimensions: ``action``, ``actor`` (label), ``project``, ``entity`` (type), ``actor_type``.
    Ordered by count (highest first), then value; at most ``limit`` values.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"no facet {dimension!r}; dimensions: {', '.join(DIMENSIONS)}")
    column, index = DIMENSIONS[dimension]
    with store.raw() as connection:
        fulltext.prepare_connection(connection)
        where = _where(connection, flt)
        # With no filter but a time range, the dimension's own index holds every column the
        # query reads; left alone the planner may pick the created index and sort the groups.
        hint = f" INDEXED BY {index}" if _covered_by_dimension_index(flt) else ""
        sql = (
            f"SELECT e.{column}, count(*) AS n FROM entries AS e{hint} "  # noqa: S608
            f"WHERE {where.sql} GROUP BY e.{column} ORDER BY n DESC, e.{column} LIMIT ?"
        )
        rows = connection.execute(sql, (*where.params, limit)).fetchall()
    return [FacetCount(value, int(n)) for value, n in rows]


def _where(connection: sqlite3.Connection, flt: Filter) -> Where:
    indexed = fulltext.indexed_upto(connection)
    sparse = fulltext.sparse_phrases(connection, flt.text, indexed)
    return where_clause(flt, indexed_seq=indexed, sparse_text=sparse)


def histogram(store: Store, flt: Filter, bucket: str = "day") -> list[HistogramBin]:
    """How many matching entries were created per day or hour (UTC), oldest first.

    Only buckets with entries are listed; entries without a time (quarantined) are not counted.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"no bucket {bucket!r}; buckets: {', '.join(BUCKETS)}")
    width = BUCKETS[bucket]
    with store.raw() as connection:
        fulltext.prepare_connection(connection)
        where = _where(connection, flt)
        # Floor division that is right for times before 1970 too.
        start = f"(e.created_utc - ((e.created_utc % {width}) + {width}) % {width})"
        sql = (
            f"SELECT {start} AS bin, count(*) FROM entries AS e "  # noqa: S608
            f"WHERE e.created_utc IS NOT NULL AND {where.sql} GROUP BY bin ORDER BY bin"
        )
        rows = connection.execute(sql, where.params).fetchall()
    return [HistogramBin(int(b), int(n)) for b, n in rows]
