"""Counts under a filter: facet values per dimension and a time histogram.

Both are computed on the column cache (:mod:`.columns`): one selection of the
matching positions for the filter, then one gather and ``bincount`` per facet and one for the
histogram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from auditviewer.core.querying.columns import Columns, columns
from auditviewer.core.querying.filter import Filter
from auditviewer.core.store.connection import Store
from auditviewer.core.vocabulary import FACETS

DIMENSIONS: Final[tuple[str, ...]] = tuple(FACETS)
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


def facet_counts(
    snapshot: Columns, flt: Filter, dimension: str, limit: int = 200
) -> list[FacetCount]:
    """:func:`facets` on a given column snapshot."""
    if dimension not in FACETS:
        raise ValueError(f"no facet {dimension!r}; dimensions: {', '.join(FACETS)}")
    counted = snapshot.facet(snapshot.selection(flt), FACETS[dimension].name)
    # Among equal counts "(none)" first, then the values case-insensitively.
    counted.sort(key=lambda item: (-item[1], item[0] is not None, (item[0] or "").casefold()))
    return [FacetCount(value, count) for value, count in counted[:limit]]


def facets(store: Store, flt: Filter, dimension: str, limit: int = 200) -> list[FacetCount]:
    """The most frequent values of ``dimension`` among the entries ``flt`` matches.

    Dimensions: ``action``, ``actor`` (label), ``project``, ``entity`` (type), ``actor_type``.
    Values that differ only in case are counted together, under their first spelling.
    Ordered by count (highest first), then value; at most ``limit`` values.
    """
    return facet_counts(columns(store), flt, dimension, limit)


def histogram_bins(snapshot: Columns, flt: Filter, bucket: str = "day") -> list[HistogramBin]:
    """:func:`histogram` on a given column snapshot."""
    if bucket not in BUCKETS:
        raise ValueError(f"no bucket {bucket!r}; buckets: {', '.join(BUCKETS)}")
    return [
        HistogramBin(start, count)
        for start, count in snapshot.histogram(snapshot.selection(flt), BUCKETS[bucket])
    ]


def histogram(store: Store, flt: Filter, bucket: str = "day") -> list[HistogramBin]:
    """How many matching entries were created per day or hour (UTC), oldest first.

    Only buckets with entries are listed; entries without a time (quarantined) are not counted.
    """
    return histogram_bins(columns(store), flt, bucket)
