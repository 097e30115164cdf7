"""Builds the full-text index off the GUI thread after a store opens or an import ends."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken, Progress

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)


class IndexWorker(QThread):
    """Indexes the entries not yet in the full-text index, in committed chunks.

    Cancelling keeps what was indexed; text search stays complete meanwhile (the core scans
    the entries the index does not reach yet).
    """

    progressed = Signal(int, int)  # entries indexed, entries to index

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._cancel = CancelToken()
        self.indexed = 0
        self.error: str | None = None

    def cancel(self) -> None:
        """Stops after the current chunk."""
        self._cancel.cancel()

    def run(self) -> None:
        """Runs in the worker thread."""
        from auditviewer.core.store.text_index import build_fulltext

        def report(progress: Progress) -> None:
            self.progressed.emit(progress.done, progress.total)

        try:
            self.indexed = build_fulltext(self._store, progress=report, cancel=self._cancel)
        except AuditViewerError as exc:
            self.error = str(exc)
        except Exception as exc:  # indexing is an optimisation: never take the window down
            log.exception("full-text indexing failed")
            self.error = f"{type(exc).__name__}: {exc}"
