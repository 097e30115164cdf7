"""Checks the store, or rebuilds its indexes and then checks it, off the GUI thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken, Progress

if TYPE_CHECKING:
    from auditviewer.core.evidence.store_check import StoreCheckReport
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)

PHASES = {
    "sqlite": "SQLite is checking the store file…",
    "verify": "Checking every entry's SHA-256 and the hash chain",
    "compare": "Checking that the entries, texts and column blocks agree",
    "indexes": "Comparing each index with its table…",
    "index": "Rebuilding the full-text index",
}


class VerifyWorker(QThread):
    """Runs :func:`check_store` (after :func:`rebuild_store_indexes` when ``rebuild``).

    A rebuild writes: the caller makes sure no import, sync or index build runs meanwhile.
    """

    progressed = Signal(str, int, int)  # what is being done, done, total (0 = unknown)

    def __init__(
        self, store: Store, *, full: bool, rebuild: bool, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self.full = full
        self.rebuild = rebuild
        self._cancel = CancelToken()
        self.report: StoreCheckReport | None = None
        self.error: str | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """Stops at the next chance; a rebuild keeps the indexes it has rebuilt."""
        self._cancel.cancel()

    def run(self) -> None:
        """Runs in the worker thread."""
        from auditviewer.core.evidence.store_check import check_store, rebuild_store_indexes

        def report(progress: Progress) -> None:
            text = PHASES.get(progress.phase, "Checking…")
            if progress.total:
                text = f"{text}: {progress.done:,} of {progress.total:,} entries"
            self.progressed.emit(text, progress.done, progress.total)

        try:
            if self.rebuild:
                self.progressed.emit("Rebuilding the indexes…", 0, 0)
                rebuild_store_indexes(self._store, progress=report, cancel=self._cancel)
            if not self._cancel.cancelled:
                self.report = check_store(
                    self._store, full=self.full, progress=report, cancel=self._cancel
                )
        except AuditViewerError as exc:
            if self._cancel.cancelled:
                self.cancelled = True
            else:
                self.error = str(exc)
            return
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            log.exception("checking the store failed")
            self.error = f"{self._store.path}: unexpected error ({type(exc).__name__}: {exc})"
            return
        self.cancelled = self._cancel.cancelled and self.report is None
