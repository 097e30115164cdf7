"""Parses a large export in a child process, so that parsing and storing use two cores.

The child reads the file with :class:`ExportReader`, normalises and hashes each element
(:func:`prepare_entry`) and sends batches back; the caller stores them. SQLite work holds the
GIL for much of its time, so a second thread gains nothing; a second process does. Small files
are parsed in-process, where starting a process would cost more than it saves.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditviewer.core.errors import AuditViewerError, ImportRejected
from auditviewer.core.jsonstream import ExportReader
from auditviewer.core.prepared import PreparedEntry, prepare_entry

# Below this size a file is parsed in the calling process.
PARALLEL_MIN_BYTES = 16 << 20
_QUEUE_BATCHES = 4
_POLL_SECONDS = 0.5


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
        raise ImportRejected(source, f"cannot read the file ({exc.strerror})") from None
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


def _parse_in_child(path: str, source: str, batch_size: int, out: Any) -> None:
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


def _batches_in_child(
    path: Path, source: str, batch_size: int, read: FileRead | None = None
) -> Generator[Batch, None, None]:
    # "spawn": forking a process that runs Qt or other threads is unsafe.
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue(maxsize=_QUEUE_BATCHES)
    process = context.Process(
        target=_parse_in_child,
        args=(str(path), source, batch_size, messages),
        name="auditviewer-parser",
        daemon=True,
    )
    with _caller_main_hidden():
        process.start()
    try:
        while True:
            try:
                message = messages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    raise ParserFailed(
                        f"{source}: the parsing process ended unexpectedly "
                        f"(exit code {process.exitcode})"
                    ) from None
                continue
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
        if process.is_alive():
            process.terminate()
        process.join()
        messages.cancel_join_thread()
        messages.close()


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
