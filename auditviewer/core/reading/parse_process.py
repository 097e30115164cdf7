"""Parses a large export in a child process, so that parsing and storing use two cores.

The child reads the file with :class:`ExportReader`, normalises and hashes each element
(:func:`prepare_entry`) and sends batches back; the caller stores them. SQLite work holds the
GIL for much of its time, so a second thread gains nothing; a second process does. Small files
are parsed in-process, where starting a process would cost more than it saves.

The parsing process lives no longer than the import that started it: on Linux the kernel kills
it when its parent dies (even by SIGKILL), and everywhere it watches its parent and ends itself
when the parent is gone, as it does when the pipe it sends on has no reader left. It writes
nothing to the caller's terminal or pipes (it reports only through its pipe), so a script reading
the caller's output to its end is not kept waiting by it. Multiprocessing's resource tracker,
which "spawn" starts too and which inherits the caller's output, ends once both are gone.

A pipe, not a multiprocessing queue: a queue's semaphores outlive a killed caller until the
resource tracker removes them, with a warning on the caller's stderr, and its feeder thread can
keep a process from exiting.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

from auditviewer.core.errors import AuditViewerError, ImportRejected
from auditviewer.core.reading.jsonstream import ExportReader
from auditviewer.core.reading.prepared import PreparedEntry, prepare_entry

# Below this size a file is parsed in the calling process.
PARALLEL_MIN_BYTES = 16 << 20
_POLL_SECONDS = 0.5
# How long a stopped parsing process gets to end on SIGTERM before it is killed.
_STOP_SECONDS = 2.0
# The exit code of a parsing process that ended itself because its parent was gone.
EXIT_ORPHANED = 3
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class ParserFailed(AuditViewerError):
    """The parsing process stopped without a verdict on the file (it crashed or was killed)."""


Batch = tuple[list[PreparedEntry], int]


@dataclass
class FileRead:
    """The SHA-256 (hex) and size of the bytes the entries came from, set once reading ends."""

    sha256: str = ""
    size: int = 0


def _batches_in_process(
    path: Path, source: str, batch_size: int, read: FileRead | None = None
) -> Generator[Batch, None, None]:
    try:
        reader = ExportReader(path, source=source)
    except OSError as exc:
        raise ImportRejected(source, f"cannot read the file ({exc.strerror or exc})") from None
    with reader:
        batch: list[PreparedEntry] = []
        for element in reader:
            batch.append(
                prepare_entry(
                    element.ordinal,
                    element.line,
                    element.text,
                    element.value,
                    element.duplicate_key,
                    element.quarantine_reason,
                )
            )
            if len(batch) >= batch_size:
                yield batch, reader.bytes_consumed
                batch = []
        if read is not None:
            read.sha256, read.size = reader.digest()
        yield batch, reader.bytes_consumed


def _parent_gone(parent_pid: int) -> bool:
    """Whether the process that started this one has ended (this one was re-parented)."""
    if os.getppid() != parent_pid:
        return True
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def _end_with_parent(parent_pid: int) -> None:
    """Makes this parsing process end as soon as the process that started it ends.

    On Linux the kernel sends SIGKILL when the parent thread that started this process ends
    (the thread that reads the batches, which lives until the import ends). The parent may
    have died before that was set up, so it is checked right after. A watcher thread covers
    every system: it waits on the pipe that closes when the parent ends.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if _parent_gone(parent_pid):
        os._exit(EXIT_ORPHANED)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    parent = multiprocessing.parent_process()
    while not _parent_gone(parent_pid):
        if parent is not None:
            parent.join(_POLL_SECONDS)  # returns at once when the parent's pipe closes
        else:
            time.sleep(_POLL_SECONDS)
    os._exit(EXIT_ORPHANED)


def _detach_from_caller_terminal() -> None:
    """Points stdin, stdout and stderr at the null device.

    The caller's output may be a pipe a script reads to its end; no parsing process must hold
    it open. Everything the parsing process has to say goes through its pipe. Ctrl+C in the
    terminal is for the caller, which stops this process when it stops the import.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


class _PipeToParent:
    """Sends messages to the parent, and ends this process when the parent no longer reads.

    A put waits while the parent is still storing the batch before, which keeps one batch in
    flight and memory bounded.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def put(self, message: tuple[Any, ...]) -> None:
        try:
            self._connection.send(message)
        except OSError:  # EPIPE: nobody reads any more
            os._exit(EXIT_ORPHANED)


def _parse_in_child(
    path: str, source: str, batch_size: int, messages: Any, parent_pid: int
) -> None:
    _detach_from_caller_terminal()
    _end_with_parent(parent_pid)
    out = _PipeToParent(messages)
    # Parsing makes no reference cycles; the collector would only rescan millions of dicts.
    gc.disable()
    read = FileRead()
    try:
        for batch, bytes_read in _batches_in_process(Path(path), source, batch_size, read):
            out.put(("batch", batch, bytes_read))
        out.put(("done", read.sha256, read.size))
    except ImportRejected as exc:
        out.put(("rejected", exc.source, exc.reason, exc.line, exc.column, exc.offset))
    except BaseException as exc:  # reported to the parent, which raises it as ParserFailed
        out.put(("failed", f"{type(exc).__name__}: {exc}"))


@contextmanager
def _caller_main_hidden() -> Iterator[None]:
    """Keeps "spawn" from re-running the caller's main script in the child.

    The child needs nothing from ``__main__``; a script without an ``if __name__ ==
    "__main__"`` guard would otherwise run again in it.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {
        name: main.__dict__[name] for name in ("__spec__", "__file__") if name in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Holds back Ctrl+C (SIGINT) in this thread while it starts the parsing process.

    Ctrl+C in a terminal reaches the whole process group. The new process inherits the held
    signal, so it cannot be interrupted half-started (with a traceback on the caller's
    terminal); once running it ignores SIGINT. Here the signal arrives when released.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # Started first: starting it would release SIGINT in this thread (bpo-33613).
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _batches_in_child(
    path: Path, source: str, batch_size: int, read: FileRead | None = None
) -> Generator[Batch, None, None]:
    # "spawn": forking a process that runs Qt or other threads is unsafe.
    context = multiprocessing.get_context("spawn")
    messages, to_caller = context.Pipe(duplex=False)
    process = context.Process(
        target=_parse_in_child,
        args=(str(path), source, batch_size, to_caller, os.getpid()),
        name="auditviewer-parser",
        daemon=True,
    )
    try:
        with _caller_main_hidden(), _ctrl_c_held():
            process.start()
    finally:
        to_caller.close()  # the parsing process holds the only writing end
    try:
        while True:
            message = _next_message(messages, process, source)
            kind = message[0]
            if kind == "batch":
                yield message[1], message[2]
            elif kind == "done":
                if read is not None:
                    read.sha256, read.size = message[1], message[2]
                return
            elif kind == "rejected":
                _, where, reason, line, column, offset = message
                raise ImportRejected(where, reason, line=line, column=column, offset=offset)
            else:
                raise ParserFailed(f"{source}: parsing failed ({message[1]})")
    finally:
        _stop(process)
        messages.close()


def _next_message(messages: Any, process: Any, source: str) -> tuple[Any, ...]:
    """The parsing process's next message; ParserFailed when it ended without a verdict."""
    while not messages.poll(_POLL_SECONDS):
        if not process.is_alive():
            break
    try:
        message: tuple[Any, ...] = messages.recv()
    except EOFError:
        process.join(_STOP_SECONDS)
        raise ParserFailed(
            f"{source}: the parsing process ended unexpectedly (exit code {process.exitcode})"
        ) from None
    return message


def _stop(process: Any) -> None:
    """Ends the parsing process (SIGTERM, then SIGKILL if it lingers) and reaps it."""
    if process.is_alive():
        process.terminate()
        process.join(_STOP_SECONDS)
    if process.is_alive():
        process.kill()
    process.join()


def prepared_batches(
    path: Path, batch_size: int, *, source: str | None = None, read: FileRead | None = None
) -> Generator[Batch, None, None]:
    """Batches of prepared entries and how many bytes of the file have been read.

    Raises :class:`ImportRejected` exactly as reading the file in-process would. Closing the
    iterator early (cancel) stops the parsing process. Once the batches are exhausted, ``read``
    holds the SHA-256 and size of the bytes they were read from.
    """
    name = source or str(path)
    size = path.stat().st_size
    if size >= PARALLEL_MIN_BYTES:
        return _batches_in_child(path, name, batch_size, read)
    return _batches_in_process(path, name, batch_size, read)
