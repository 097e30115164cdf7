"""The one runner of the window's background work.

Every job is a small function over core run on its own :class:`QThread`: a writer must be
waited for by itself (indexing stops after its chunk before an import starts), which a thread
pool cannot do for one of its runnables. Reads that only the latest request matters for
(counts, facets, aggregates) go through :class:`LatestRead` on a one-thread pool instead.

The rules live here and nowhere else:

- one writer at a time: an import, a sync or an index rebuild is refused while another
  writes or the store is being checked; the full-text build stops (keeping what it indexed)
  before any of them starts;
- imports asked for while the store is busy or not open yet wait in a queue;
- after a writer or a check ends: the queued files are imported, else text indexing resumes.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken

if TYPE_CHECKING:
    from auditviewer.core.store import Store

log = logging.getLogger(__name__)

# Show entries stored by a running writer at most this often (the first batch shows at once).
REFRESH_INTERVAL_MS = 400


class Kind(enum.Enum):
    """How a job may share the store with the others."""

    READ = "read"  # reads only: runs alongside anything
    WRITE = "write"  # import, sync, index rebuild: one at a time
    INDEX = "index"  # the full-text build: writes, but yields to every other writer
    CHECK = "check"  # the store check: reads, but no writer starts while it runs


HOLDS_WRITERS = (Kind.WRITE, Kind.CHECK)


class JobContext:
    """What a job function receives: the cancel token and the ways to report back."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.cancel_token = CancelToken()

    @property
    def cancelled(self) -> bool:
        """Whether the user asked the job to stop."""
        return self.cancel_token.cancelled

    def progress(self, text: str, done: int = 0, total: int = 0) -> None:
        """Says what the job is doing and how far it has got (``total`` 0 = unknown)."""
        self._job.progressed.emit(text, done, total)

    def note(self, payload: object) -> None:
        """Passes a job-specific note to whoever listens (a page stored, a file imported)."""
        self._job.noted.emit(payload)

    def stored(self) -> None:
        """Says that entries were committed, so the window may show them."""
        self._job.stored.emit()


Work = Callable[[JobContext], Any]


class _JobThread(QThread):
    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self._job = job

    def run(self) -> None:
        self._job._run_in_thread()


class Job(QObject):
    """One piece of background work: a name, a kind, a title for the user, and a function.

    ``result`` holds what the function returned; ``error`` a sentence for the user when it
    failed; ``cancelled`` whether it stopped because it was asked to.
    """

    progressed = Signal(str, int, int)  # what is being done, done, total (0 = unknown)
    noted = Signal(object)  # job-specific notes
    stored = Signal()  # entries were committed
    done = Signal(object)  # the job, once it has ended (in the GUI thread)

    def __init__(
        self,
        name: str,
        kind: Kind,
        title: str,
        work: Work,
        parent: QObject | None = None,
        *,
        subject: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.kind = kind
        self.title = title
        # What an unexpected error's message names: the file or store the job works on.
        self.subject = subject if subject is not None else title
        self._work: Work | None = work
        self.context = JobContext(self)
        self.result: Any = None
        self.error: str | None = None
        self.cancelled = False
        self.running = False
        self._thread = _JobThread(self)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        """Starts the function on the job's thread."""
        self.running = True
        self._thread.start()

    def cancel(self) -> None:
        """Asks the function to stop at its next chance."""
        self.context.cancel_token.cancel()

    def wait(self) -> None:
        """Blocks until the function has returned (shutdown, a writer about to start)."""
        self._thread.wait()

    def _run_in_thread(self) -> None:
        work = self._work
        if work is None:
            return
        try:
            self.result = work(self.context)
        except AuditViewerError as exc:
            if self.context.cancelled:
                self.cancelled = True
            else:
                self.error = str(exc)
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            log.exception("%s failed", self.name)
            self.error = f"{self.subject}: unexpected error ({type(exc).__name__}: {exc})"
        finally:
            # What the function held (a token, a store) goes with it.
            self._work = None

    def _on_thread_finished(self) -> None:
        if not self.running:
            return
        self.running = False
        self.done.emit(self)


ImportJobFactory = Callable[["Store", list[Path]], Job]


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

    def start(self, job: Job) -> bool:
        """Starts ``job``; False (and the job is dropped) when a writer may not start now."""
        if job.kind is Kind.WRITE and self.writer_busy:
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
        from auditviewer.ui.tasks.jobs import import_job

        job = import_job(self.store, list(paths))
        return job if self.start(job) else None

    def start_indexing(self) -> Job | None:
        """Indexes new entries for text search, unless a writer runs or it already does."""
        store = self.store
        if store is None or store.read_only or self.writer_busy or self.running("index"):
            return None
        from auditviewer.ui.tasks.jobs import index_job

        job = index_job(store)
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
            job._on_thread_finished()

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
        if job.kind is not Kind.READ and not self.writer_busy:
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


class _ReadSignals(QObject):
    answered = Signal(int, object)  # ticket, answer
    failed = Signal(int, str)  # ticket, message


class _ReadRunnable(QRunnable):
    def __init__(self, ticket: int, read: Callable[[], object], signals: _ReadSignals) -> None:
        super().__init__()
        self._ticket = ticket
        self._read = read
        self._signals = signals

    def run(self) -> None:
        try:
            answer = self._read()
        except Exception as exc:  # reported; the view keeps what it shows
            log.exception("background read failed")
            self._signals.failed.emit(self._ticket, f"{type(exc).__name__}: {exc}")
            return
        self._signals.answered.emit(self._ticket, answer)


class LatestRead(QObject):
    """Reads one request at a time; a newer request drops the queued one.

    Each answer carries the ticket its request got, so the caller can drop answers to
    requests that a newer one has replaced.
    """

    answered = Signal(int, object)  # ticket, answer
    failed = Signal(int, str)  # ticket, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _ReadSignals(self)
        self._signals.answered.connect(self.answered)
        self._signals.failed.connect(self.failed)
        self.ticket = 0

    def request(self, read: Callable[[], object]) -> int:
        """Queues ``read`` in place of any queued one; returns the ticket its answer carries."""
        self.ticket += 1
        self._pool.clear()
        self._pool.start(_ReadRunnable(self.ticket, read, self._signals))
        return self.ticket

    def wait(self, msecs: int = -1) -> bool:
        """Waits for the running read (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Drops the queued read and waits for the running one."""
        self._pool.clear()
        self._pool.waitForDone()
