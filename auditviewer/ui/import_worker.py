"""Imports export files into the store off the GUI thread, with progress and cancel."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from auditviewer.core.errors import AuditViewerError, ImportCancelled
from auditviewer.core.records import CancelToken, ImportReport, Progress

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)


class ImportWorker(QThread):
    """Imports files one after another; each file is stored whole or not at all."""

    progressed = Signal(int, int, int, int, int)  # file index, files, bytes done, bytes, entries
    file_imported = Signal(object)  # ImportReport
    file_failed = Signal(str, str)  # path, message for the user

    def __init__(self, store: Store, paths: list[Path], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.paths = list(paths)
        self._cancel = CancelToken()
        self.reports: list[ImportReport] = []
        self.failures: list[tuple[Path, str]] = []
        self.cancelled = False

    def cancel(self) -> None:
        """Asks the import to stop; the file being imported is then not stored at all."""
        self._cancel.cancel()

    def run(self) -> None:
        """Runs in the worker thread."""
        from auditviewer.core.store.file_import import import_file

        count = len(self.paths)
        for index, path in enumerate(self.paths):
            if self._cancel.cancelled:
                self.cancelled = True
                return

            def report_progress(progress: Progress, index: int = index) -> None:
                self.progressed.emit(index, count, progress.done, progress.total, progress.entries)

            try:
                report = import_file(
                    self._store, path, progress=report_progress, cancel=self._cancel
                )
            except ImportCancelled:
                self.cancelled = True
                return
            except AuditViewerError as exc:
                message = str(exc)
                self.failures.append((path, message))
                self.file_failed.emit(str(path), message)
            except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
                log.exception("import of %s failed", path)
                message = f"{path}: unexpected error ({type(exc).__name__}: {exc})"
                self.failures.append((path, message))
                self.file_failed.emit(str(path), message)
            else:
                self.reports.append(report)
                self.file_imported.emit(report)
