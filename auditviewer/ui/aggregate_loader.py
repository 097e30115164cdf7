"""Computes facets and the histogram off the GUI thread, debounced, newest request wins."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from auditviewer.ui.facet_panel import FACET_DIMENSIONS, FACET_LIMIT
from auditviewer.ui.timeline_widget import bucket_for_span

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)

# Merges the filter changes of one gesture (typing, a drag) without delaying a click much.
DEBOUNCE_MS = 30
# How many values the pickers list (store-wide counts).
PICKER_LIMIT = 1000
PICKER_DIMENSIONS = ("action", "actor", "project")


@dataclass
class Aggregates:
    """What one background run computed."""

    generation: int
    filter: Any
    facets: dict[str, list[Any]] = field(default_factory=dict)
    bins: list[tuple[int, int]] = field(default_factory=list)
    bucket: str = "day"
    # Counts over the whole store, for the pickers and the reference panel; None = not asked.
    store_counts: dict[str, list[Any]] | None = None


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(int, str)


class _AggregateJob(QRunnable):
    def __init__(self, store: Store, result: Aggregates, signals: _Signals) -> None:
        super().__init__()
        self._store = store
        self._result = result
        self._signals = signals

    def run(self) -> None:
        from auditviewer.core.querying.aggregates import facet_counts, histogram_bins
        from auditviewer.core.querying.columns import columns
        from auditviewer.core.querying.filter import Filter

        result = self._result
        try:
            # One snapshot: the facets, the histogram and the picker counts describe the same
            # entries even while an import or a sync adds more.
            snapshot = columns(self._store)
            for dimension, _ in FACET_DIMENSIONS:
                result.facets[dimension] = facet_counts(
                    snapshot, result.filter, dimension, limit=FACET_LIMIT
                )
            result.bins = [
                (item.start_utc, item.count)
                for item in histogram_bins(snapshot, result.filter, bucket=result.bucket)
            ]
            if result.store_counts is not None:
                everything = Filter()
                for dimension in PICKER_DIMENSIONS:
                    result.store_counts[dimension] = facet_counts(
                        snapshot, everything, dimension, limit=PICKER_LIMIT
                    )
        except Exception as exc:  # reported in the window; a failed refresh must not crash
            log.exception("facet refresh failed")
            self._signals.failed.emit(result.generation, f"{type(exc).__name__}: {exc}")
            return
        self._signals.done.emit(result)


class AggregateLoader(QObject):
    """Refreshes facets, histogram and picker counts for the latest filter in the background."""

    loaded = Signal(object)  # Aggregates
    failed = Signal(str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._launch)
        self._filter: Filter | None = None
        self._store_wide = False
        self.generation = 0
        self.pending = False

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
        self.generation += 1
        after, before = self._filter.after, self._filter.before
        result = Aggregates(
            generation=self.generation,
            filter=self._filter,
            bucket=bucket_for_span(after, before),
            store_counts={} if self._store_wide else None,
        )
        # Work queued for an older filter is dropped; a job already running finishes and is
        # ignored.
        self._pool.clear()
        self._pool.start(_AggregateJob(self._store, result, self._signals))

    def _on_done(self, result: Aggregates) -> None:
        if result.generation != self.generation:
            return
        if result.store_counts is not None:
            self._store_wide = False
        self.pending = False
        self.loaded.emit(result)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.pending = False
            self.failed.emit(message)

    def wait(self, msecs: int = -1) -> bool:
        """Waits for running work to finish (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Stops refreshing and waits for running work."""
        self._timer.stop()
        self._pool.clear()
        self._pool.waitForDone()
