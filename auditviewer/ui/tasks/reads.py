"""Reads that keep the window responsive: the count of a filter, facets and the histogram.

Each runs on a :class:`LatestRead`, so a newer request drops the queued one and an answer to
a replaced request is ignored. Every read opens its own connection: SQLite connections stay
per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from auditviewer.ui.tasks.job import LatestRead

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter, Sort
    from auditviewer.core.store.connection import Store

# Merges the filter changes of one gesture (typing, a drag) without delaying a click much.
DEBOUNCE_MS = 30
# How many values the pickers list (store-wide counts).
PICKER_LIMIT = 1000
PICKER_DIMENSIONS = ("action", "actor", "project")


# --- the count ---------------------------------------------------------------------------------


def count_matches(store: Store, filter_: Filter) -> int:
    """How many entries ``filter_`` matches."""
    from auditviewer.core.querying.window import EntryQuery

    with EntryQuery(store, filter_) as query:
        return query.count()


class BackgroundCounter(QObject):
    """Counts one filter at a time; a newer request makes older answers irrelevant."""

    counted = Signal(int, int)  # ticket, count
    failed = Signal(int, str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._reads = LatestRead(self)
        self._reads.answered.connect(self._on_answered)
        self._reads.failed.connect(self.failed)

    def count(self, filter_: Filter) -> int:
        """Starts counting; returns the ticket the answer will carry."""
        store = self._store
        return self._reads.request(lambda: count_matches(store, filter_))

    def _on_answered(self, ticket: int, count: object) -> None:
        if isinstance(count, int):
            self.counted.emit(ticket, count)

    def wait(self, msecs: int = -1) -> bool:
        """Waits for the running count (tests, shutdown)."""
        return self._reads.wait(msecs)

    def shutdown(self) -> None:
        """Drops queued counts and waits for the running one."""
        self._reads.shutdown()


def row_of_entry(store: Store, filter_: Filter, sort: Sort, seq: int) -> int | None:
    """The row of entry ``seq`` among those ``filter_`` matches in ``sort``'s order, if any."""
    import numpy as np

    from auditviewer.core.querying.columns import columns

    snapshot = columns(store)
    found = snapshot.positions_of(np.asarray([seq]))
    if not len(found):
        return None
    position = found[0]
    mask = snapshot.mask(filter_)
    if mask is not None and not mask[position]:
        return None
    rows = np.flatnonzero(snapshot.ordered(mask, sort) == position)
    return int(rows[0]) if len(rows) else None


# --- facets, histogram, picker counts ----------------------------------------------------------

# The facets of review marks: dispositions and tags (counted from the marks, not the entries).
REVIEW_FACETS = ("review", "tag")


@dataclass
class Aggregates:
    """What one background run computed."""

    generation: int
    filter: Any
    facets: dict[str, list[Any]] = field(default_factory=dict)
    bins: list[tuple[int, int]] = field(default_factory=list)
    bucket: str = "day"
    # Matching entries without a time (quarantined): listed in the table, not on the timeline.
    untimed: int = 0
    # Counts over the whole store, for the pickers and the reference panel; None = not asked.
    store_counts: dict[str, list[Any]] | None = None


def compute_aggregates(
    store: Store, result: Aggregates, dimensions: tuple[str, ...], limit: int
) -> Aggregates:
    """Fills ``result`` with the facets of ``dimensions``, the histogram and picker counts."""
    from auditviewer.core.querying.aggregates import facet_counts, histogram_bins
    from auditviewer.core.querying.columns import columns
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.querying.window import untimed_count

    # One snapshot: the facets, the histogram and the picker counts describe the same
    # entries even while an import or a sync adds more.
    snapshot = columns(store)
    for dimension in dimensions:
        if dimension not in REVIEW_FACETS:
            result.facets[dimension] = facet_counts(snapshot, result.filter, dimension, limit=limit)
    if any(dimension in REVIEW_FACETS for dimension in dimensions):
        from auditviewer.core.querying.aggregates import review_facets

        marks = review_facets(store, result.filter, limit=limit)
        for dimension, counts in zip(REVIEW_FACETS, marks, strict=True):
            result.facets[dimension] = list(counts)
    result.bins = [
        (item.start_utc, item.count)
        for item in histogram_bins(snapshot, result.filter, bucket=result.bucket)
    ]
    result.untimed = untimed_count(snapshot, result.filter)
    if result.store_counts is not None:
        everything = Filter()
        for dimension in PICKER_DIMENSIONS:
            result.store_counts[dimension] = facet_counts(
                snapshot, everything, dimension, limit=PICKER_LIMIT
            )
    return result


class AggregateLoader(QObject):
    """Refreshes facets, histogram and picker counts for the latest filter in the background.

    ``dimensions`` and ``limit`` say which facets to count and how many values each lists;
    ``bucket_for`` picks the histogram's bucket for a filter's time range.
    """

    loaded = Signal(object)  # Aggregates
    failed = Signal(str)

    def __init__(
        self,
        store: Store,
        dimensions: tuple[str, ...],
        limit: int,
        bucket_for: Callable[[int | None, int | None], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._dimensions = dimensions
        self._limit = limit
        self._bucket_for = bucket_for
        self._reads = LatestRead(self)
        self._reads.answered.connect(self._on_done)
        self._reads.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._launch)
        self._filter: Filter | None = None
        self._store_wide = False
        self.pending = False

    @property
    def generation(self) -> int:
        """The number of the latest refresh started."""
        return self._reads.ticket

    def request(self, filter_: Filter, *, store_wide: bool = False) -> None:
        """Asks for a refresh; requests in quick succession are merged into one."""
        self._filter = filter_
        self._store_wide = self._store_wide or store_wide
        self.pending = True
        self._timer.start()

    def refresh_now(self) -> None:
        """Starts the pending refresh without waiting for the debounce."""
        if self._timer.isActive():
            self._timer.stop()
            self._launch()

    def _launch(self) -> None:
        if self._filter is None:
            return
        result = Aggregates(
            generation=self._reads.ticket + 1,
            filter=self._filter,
            bucket=self._bucket_for(self._filter.after, self._filter.before),
            store_counts={} if self._store_wide else None,
        )
        store, dimensions, limit = self._store, self._dimensions, self._limit
        # Work queued for an older filter is dropped; a read already running finishes and
        # its answer is ignored.
        self._reads.request(lambda: compute_aggregates(store, result, dimensions, limit))

    def _on_done(self, ticket: int, result: object) -> None:
        if ticket != self._reads.ticket or not isinstance(result, Aggregates):
            return
        if result.store_counts is not None:
            self._store_wide = False
        self.pending = False
        self.loaded.emit(result)

    def _on_failed(self, ticket: int, message: str) -> None:
        if ticket == self._reads.ticket:
            self.pending = False
            self.failed.emit(message)

    def wait(self, msecs: int = -1) -> bool:
        """Waits for running work to finish (tests, shutdown)."""
        return self._reads.wait(msecs)

    def shutdown(self) -> None:
        """Stops refreshing and waits for running work."""
        self._timer.stop()
        self._reads.shutdown()
