"""Writes an export file off the GUI thread, with progress and cancel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)

FORMATS = ("json", "csv")


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the user asked to export, and where."""

    path: Path
    format: str  # "json" or "csv"
    selected_only: bool


def _written(report: Any) -> int:
    for name in ("entries", "written", "count", "exported"):
        value = getattr(report, name, None)
        if isinstance(value, int):
            return value
    return 0


class ExportWorker(QThread):
    """Exports the selected entries, or all that match the filter, atomically."""

    progressed = Signal(int, int)  # entries done, entries in all

    def __init__(
        self,
        store: Store,
        request: ExportRequest,
        filter_: Any,
        seqs: list[int] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self.request = request
        self._filter = filter_
        self._seqs = seqs
        self._cancel = CancelToken()
        self.error: str | None = None
        self.cancelled = False
        self.written = 0
        self.report: Any = None

    def cancel(self) -> None:
        """Asks the export to stop; the target file is then not written."""
        self._cancel.cancel()

    def run(self) -> None:
        """Runs in the worker thread."""
        from auditviewer.core.exporting.export import export_csv, export_json

        write = export_csv if self.request.format == "csv" else export_json

        def report_progress(progress: Any) -> None:
            done = int(getattr(progress, "entries", 0) or getattr(progress, "done", 0))
            total = int(getattr(progress, "total", 0))
            self.progressed.emit(done, total)

        try:
            if self._seqs is not None:
                self.report = write(
                    self._store,
                    self.request.path,
                    seqs=self._seqs,
                    progress=report_progress,
                    cancel=self._cancel,
                )
            else:
                self.report = write(
                    self._store,
                    self.request.path,
                    filter=self._filter,
                    progress=report_progress,
                    cancel=self._cancel,
                )
        except AuditViewerError as exc:
            if self._cancel.cancelled:
                self.cancelled = True
            else:
                self.error = str(exc)
            return
        except OSError as exc:
            self.error = f"{self.request.path}: {exc.strerror or exc}"
            return
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            log.exception("export to %s failed", self.request.path)
            self.error = f"{self.request.path}: unexpected error ({type(exc).__name__}: {exc})"
            return
        if self._cancel.cancelled:
            self.cancelled = True
        self.written = _written(self.report)
