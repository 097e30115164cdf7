"""The one runner of the window's background work.

The rules live here and nowhere else:

- one writer at a time: an import, a sync or an index rebuild is refused while another
  writes or the store is being checked; the full-text build stops (keeping what it indexed)
  before any of them starts;
- imports asked for while the store is busy or not open yet wait in a queue;
- after a writer or a check ends: the queued files are imported, else text indexing resumes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from auditviewer.ui.tasks.job import HOLDS_WRITERS, Job, Kind
from auditviewer.ui.tasks.jobs import import_job, index_job

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

log = logging.getLogger(__name__)

# Show entries stored by a running writer at most this often (the first batch shows at once).
REFRESH_INTERVAL_MS = 400


class TaskRunner(QObject):
    """Owns every background job of the window and the one-writer rule."""

    job_started = Signal(object)  # Job
    job_finished = Signal(object)  # Job, after its own ``done``
    busy_changed = Signal()
    entries_added = Signal()  # a running writer committed entries (throttled)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.jobs: list[Job] = []
        self.queued_files: list[Path] = []
        self._refresh_pending = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self._refresh_if_pending)

    # --- state ---------------------------------------------------------------------------------

    def running(self, name: str) -> Job | None:
        """The running job called ``name``, if any."""
        return next((job for job in self.jobs if job.name == name), None)

    @property
    def writer_busy(self) -> bool:
        """Whether a writer or a store check runs (no other writer may start)."""
        return any(job.kind in HOLDS_WRITERS for job in self.jobs)

    def set_store(self, store: Store) -> None:
        """The store the jobs work on; queued imports, else text indexing, start now."""
        self.store = store
        self.resume()

    # --- starting ------------------------------------------------------------------------------

    def may_start(self, kind: Kind) -> bool:
        """Whether a job of ``kind`` may start now: the one-writer rule."""
        if kind is Kind.WRITE:
            return not self.writer_busy
        if kind is Kind.INDEX:
            writable = self.store is not None and not self.store.read_only
            return writable and not self.writer_busy and self.running("index") is None
        return True

    def start(self, job: Job) -> bool:
        """Starts ``job``; False (and the job is dropped) when the one-writer rule says wait."""
        if not self.may_start(job.kind):
            job.deleteLater()
            return False
        if job.kind is Kind.WRITE:
            self.stop_indexing(wait=True)
        job.setParent(self)
        job.done.connect(self._on_done)
        job.stored.connect(self._on_stored)
        self.jobs.append(job)
        job.start()
        self.job_started.emit(job)
        self.busy_changed.emit()
        return True

    def import_files(self, paths: list[Path]) -> Job | None:
        """Imports ``paths`` in the background, or queues them while the store is busy."""
        if self.store is None or self.writer_busy:
            self.queued_files.extend(paths)
            return None
        job = import_job(self.store, list(paths))
        return job if self.start(job) else None

    def start_indexing(self) -> Job | None:
        """Indexes new entries for text search, unless a writer runs or it already does."""
        if self.store is None or not self.may_start(Kind.INDEX):
            return None
        job = index_job(self.store)
        return job if self.start(job) else None

    def resume(self) -> None:
        """After a writer or a check: the files that waited, else text indexing."""
        if self.store is None or self.writer_busy:
            return
        if self.queued_files:
            queued, self.queued_files = self.queued_files, []
            self.import_files(queued)
        else:
            self.start_indexing()

    # --- stopping ------------------------------------------------------------------------------

    def stop_indexing(self, *, wait: bool = False) -> None:
        """Stops indexing after its current chunk (what was indexed is kept)."""
        job = self.running("index")
        if job is None:
            return
        job.cancel()
        if wait:
            job.wait()
            job.report_end()

    def cancel(self, *names: str) -> None:
        """Asks the running jobs called ``names`` to stop."""
        for job in list(self.jobs):
            if job.name in names:
                job.cancel()

    def shutdown(self) -> None:
        """Stops every job and waits for it (the window closes); nothing is reported."""
        self._refresh_timer.stop()
        self.queued_files.clear()
        for job in list(self.jobs):
            job.done.disconnect(self._on_done)
            job.cancel()
        for job in list(self.jobs):
            job.wait()
            job.running = False
        self.jobs.clear()

    # --- ending --------------------------------------------------------------------------------

    def _on_done(self, job: Job) -> None:
        if job not in self.jobs:
            return
        self.jobs.remove(job)
        job.deleteLater()
        if not self.writer_busy:
            self._refresh_timer.stop()
            self._refresh_pending = False
        self.job_finished.emit(job)
        self.busy_changed.emit()
        if job.kind in HOLDS_WRITERS:
            self.resume()

    def _on_stored(self) -> None:
        if self._refresh_timer.isActive():
            self._refresh_pending = True
            return
        self._refresh_pending = False
        self.entries_added.emit()
        self._refresh_timer.start()

    def _refresh_if_pending(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.entries_added.emit()
            self._refresh_timer.start()
