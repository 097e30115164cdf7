"""Counts the entries a filter matches off the GUI thread, so a new filter shows rows at once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)


class _Signals(QObject):
    counted = Signal(int, int)  # ticket, count
    failed = Signal(int, str)


class _CountJob(QRunnable):
    def __init__(self, store: Store, filter_: Filter, ticket: int, signals: _Signals) -> None:
        super().__init__()
        self._store = store
        self._filter = filter_
        self._ticket = ticket
        self._signals = signals

    def run(self) -> None:
        from auditviewer.core.querying.window import EntryQuery

        try:
            # Its own query, hence its own connection: SQLite connections stay per thread.
            with EntryQuery(self._store, self._filter) as query:
                count = query.count()
        except Exception as exc:  # reported; the table keeps its provisional count
            log.exception("count failed")
            self._signals.failed.emit(self._ticket, f"{type(exc).__name__}: {exc}")
            return
        self._signals.counted.emit(self._ticket, count)


class BackgroundCounter(QObject):
    """Counts one filter at a time; a newer request makes older answers irrelevant."""

    counted = Signal(int, int)  # ticket, count
    failed = Signal(int, str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.counted.connect(self.counted)
        self._signals.failed.connect(self.failed)
        self._ticket = 0

    def count(self, filter_: Filter) -> int:
        """Starts counting; returns the ticket the answer will carry."""
        self._ticket += 1
        self._pool.clear()
        self._pool.start(_CountJob(self._store, filter_, self._ticket, self._signals))
        return self._ticket

    def wait(self, msecs: int = -1) -> bool:
        """Waits for the running count (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Drops queued counts and waits for the running one."""
        self._pool.clear()
        self._pool.waitForDone()
