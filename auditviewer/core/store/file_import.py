"""Imports one export file: read in a parsing process, stored through the entry writer, whole or
not at all."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auditviewer.core.errors import ImportCancelled, ImportRejected
from auditviewer.core.reading.parse_process import FileRead, prepared_batches
from auditviewer.core.records import CancelToken, ImportReport, Progress, ProgressCallback
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody_log import IMPORT, record_custody
from auditviewer.core.store.entry_writer import EntryWriter, begin_source, record_counts


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector for the import.

    An import creates no reference cycles, but each batch of parsed dicts would set off
    collections that rescan the heap (about 5 µs per entry in the profile in BENCHMARKS.md).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_file(
    store: Store,
    path: Path | str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    index_text: bool = True,
) -> ImportReport:
    """Imports one export file in a single transaction; all of it is stored or nothing.

    With ``index_text`` (and a full-text index complete so far) the new entries are added to
    the full-text index in the same transaction; otherwise
    :func:`~auditviewer.core.store.text_index.build_fulltext` indexes them later (text search
    finds them either way).

    Raises :class:`ImportRejected` for a file that is not a valid export and
    :class:`ImportCancelled` when ``cancel`` is set; the store is then unchanged.
    """
    file_path = Path(path)
    started = time.perf_counter()
    try:
        size = file_path.stat().st_size
    except OSError as exc:
        raise ImportRejected(
            str(file_path), f"cannot read the file ({exc.strerror or exc})"
        ) from None
    # A pipe (/dev/stdin) is named as given: resolving it would name a file descriptor.
    location = str(file_path.resolve() if file_path.is_file() else file_path.absolute())
    # The hash and size recorded are those of the bytes the entries were read from, taken while
    # reading: a file changed during the import cannot pass off other content under its hash.
    read = FileRead()
    undone = f"nothing of {file_path} was imported"
    with store.write(undone=undone) as connection, store.bulk_cache(connection):
        source_id = begin_source(connection, "file", location)
        writer = EntryWriter(connection, source_id, index_text=index_text)
        batches = prepared_batches(file_path, writer.batch_size, read=read)
        try:
            with _collector_paused():
                for batch, bytes_read in batches:
                    for item in batch:
                        writer.add_prepared(item)
                    writer.flush()
                    if cancel is not None and cancel.cancelled:
                        raise ImportCancelled(f"{file_path}: import cancelled")
                    if progress is not None:
                        progress(Progress(bytes_read, size, writer.counts.parsed))
        finally:
            batches.close()
        if cancel is not None and cancel.cancelled:
            raise ImportCancelled(f"{file_path}: import cancelled")
        connection.execute(
            "UPDATE sources SET sha256 = ?, size_bytes = ? WHERE id = ?",
            (read.sha256, read.size, source_id),
        )
        record_counts(connection, source_id, writer.counts, finished=True)
        record_custody(
            connection,
            IMPORT,
            {
                "source_id": source_id,
                "file": location,
                "sha256": read.sha256,
                "size_bytes": read.size,
                **writer.counts.totals(),
            },
        )
    # The import passed through the WAL (gigabytes for a big file): move it into the store file
    # now, so committed work does not live only in the -wal file and the disk space comes back.
    store.checkpoint()
    counts = writer.counts
    return ImportReport(
        source_id=source_id,
        location=location,
        sha256=read.sha256,
        **counts.totals(),
        first_created_utc=counts.first_created,
        last_created_utc=counts.last_created,
        naive_times=counts.naive_times,
        indexed=counts.indexed,
        quarantine=tuple(counts.quarantine),
        seconds=time.perf_counter() - started,
    )
