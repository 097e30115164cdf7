"""A background job of the window: a name, a kind, a function over core, and its outcome.

Every job runs on its own :class:`QThread`: a writer must be waited for by itself (indexing
stops after its chunk before an import starts), which a thread pool cannot do for one of its
runnables. Reads that only the latest request matters for (counts, facets, aggregates) go
through :class:`LatestRead` on a one-thread pool instead, where a queued request is dropped
cheaply.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken

log = logging.getLogger(__name__)


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
        self._thread.finished.connect(self.report_end)

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

    def report_end(self) -> None:
        """Emits :attr:`done` once the function has returned; called on the thread's end, or
        at once by a caller that has waited for it."""
        if not self.running:
            return
        self.running = False
        self.done.emit(self)


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
            # The product's own errors are sentences already; anything else is named.
            message = (
                str(exc) if isinstance(exc, AuditViewerError) else f"{type(exc).__name__}: {exc}"
            )
            self._signals.failed.emit(self._ticket, message)
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
