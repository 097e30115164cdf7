"""Counts under a filter: facet values per dimension, a time histogram, and the review marks'
dispositions and tags.

Both are computed on the column cache (:mod:`.columns`): one selection of the
matching positions for the filter, then one gather and ``bincount`` per facet and one for the
histogram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import orjson

from auditviewer.core.querying.columns import Columns, columns
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.review_terms import UNREVIEWED, has_marks_table
from auditviewer.core.store.connection import Store
from auditviewer.core.store.schema_reviews import DISPOSITIONS
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


def review_facets(store: Store, flt: Filter, limit: int = 200) -> tuple[list[FacetCount], ...]:
    """(dispositions, tags) among the entries ``flt`` matches, by each entry's current mark
    (its latest in any review): every disposition with its count (``unreviewed`` included),
    then the most frequent tags, ordered like :func:`facets`."""
    snapshot = columns(store)
    mask = snapshot.mask(flt)
    selected = snapshot.size if mask is None else int(np.count_nonzero(mask))
    with store.snapshot() as connection:
        rows = (
            connection.execute(
                "SELECT seq, disposition, tags FROM entry_marks WHERE disposition != ? "
                "OR tags != '[]'",
                (UNREVIEWED,),
            ).fetchall()
            if has_marks_table(connection)
            else []
        )
    kept = _in_selection(snapshot, mask, [int(r[0]) for r in rows])
    per_disposition = dict.fromkeys(DISPOSITIONS, 0)
    per_tag: dict[str, list[object]] = {}
    for row, inside in zip(rows, kept, strict=True):
        if not inside:
            continue
        per_disposition[row[1]] += 1
        for tag in orjson.loads(row[2]):
            counted = per_tag.setdefault(tag.casefold(), [tag, 0])
            counted[1] = int(str(counted[1])) + 1
    per_disposition[UNREVIEWED] = selected - sum(
        count for name, count in per_disposition.items() if name != UNREVIEWED
    )
    dispositions = [FacetCount(name, count) for name, count in per_disposition.items()]
    tags = [FacetCount(str(tag), int(str(count))) for tag, count in per_tag.values()]
    tags.sort(key=lambda item: (-item.count, (item.value or "").casefold()))
    return dispositions, tags[:limit]


def _in_selection(
    snapshot: Columns, mask: npt.NDArray[np.bool_] | None, seqs: list[int]
) -> list[bool]:
    """Whether each of ``seqs`` is an entry of the snapshot that ``mask`` lets through."""
    if not seqs or not snapshot.size:
        return [False] * len(seqs)
    wanted = np.asarray(seqs, dtype=np.int64)
    index = np.clip(np.searchsorted(snapshot.seq, wanted), 0, snapshot.size - 1)
    present = snapshot.seq[index] == wanted
    if mask is not None:
        present &= mask[index]
    return [bool(v) for v in present]
