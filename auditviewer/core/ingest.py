"""Writes entries into the store: deduplication, conflicts, quarantine, hashes and provenance.

File imports and sync runs both store entries through :class:`EntryWriter`, so an entry is
treated the same whichever way it arrived.
"""

from __future__ import annotations

import gc
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditviewer.core import fulltext
from auditviewer.core.column_blocks import ENTRY_COLUMNS, arrays_from_rows, write_block
from auditviewer.core.errors import ImportCancelled, ImportRejected
from auditviewer.core.parse_process import FileRead, prepared_batches
from auditviewer.core.prepared import PreparedEntry, prepare_entry
from auditviewer.core.records import (
    CancelToken,
    ImportReport,
    Progress,
    QuarantinedEntry,
    now_micros,
)
from auditviewer.core.reference import ActionReference
from auditviewer.core.store import Store
from auditviewer.core.terms import TermDictionary
from auditviewer.core.vocabulary import CONFLICT, NAIVE_TIME, QUARANTINED

BATCH_SIZE = 5000
GENESIS_CHAIN = bytes(32)
REPORTED_QUARANTINE_LIMIT = 1000

ProgressCallback = Callable[[Progress], None]

_INSERT_ENTRY = (
    f"INSERT INTO entries (seq, {', '.join(ENTRY_COLUMNS)}) "  # noqa: S608 (constant names)
    f"VALUES (?, {', '.join('?' for _ in ENTRY_COLUMNS)})"
)
_INSERT_TEXT = (
    "INSERT INTO entry_texts (seq, entry_key, source_index, source_line, raw_sha256, "
    "content_sha256, chain_sha256, entity_name, quarantine_reason, raw) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class WriteCounts:
    """Running totals of an :class:`EntryWriter`."""

    parsed: int = 0
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: int = 0
    naive_times: int = 0
    indexed: int = 0
    first_created: int | None = None
    last_created: int | None = None
    quarantine: list[QuarantinedEntry] = field(default_factory=list)


class EntryWriter:
    """Adds entries to the store inside the caller's write transaction, in batches."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        source_id: int,
        batch_size: int | None = None,
        *,
        index_text: bool = True,
    ) -> None:
        self._connection = connection
        self._source_id = source_id
        self.batch_size = batch_size or BATCH_SIZE
        self.counts = WriteCounts()
        self._pending: list[PreparedEntry] = []
        self._terms = TermDictionary(connection)
        self._reference = ActionReference.shared()
        row = connection.execute(
            "SELECT seq, chain_sha256 FROM entry_texts ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        self._last_seq: int = row[0] if row else 0
        self._chain: bytes = row[1] if row else GENESIS_CHAIN
        # The full-text index is filled in the same transaction when it is complete so far;
        # when it lags behind, the index build catches up later.
        self._index_text = index_text and fulltext.indexed_upto(connection) == self._last_seq

    @property
    def full(self) -> bool:
        """Whether a batch is ready to be flushed."""
        return len(self._pending) >= self.batch_size

    def add(
        self,
        index: int,
        line: int | None,
        text: str,
        value: Any,
        duplicate_key: str | None = None,
    ) -> None:
        """Queues one element; call :meth:`flush` when :attr:`full` and at the end."""
        self.add_prepared(prepare_entry(index, line, text, value, duplicate_key))

    def add_prepared(self, item: PreparedEntry) -> None:
        """Queues one element already normalised and hashed by :func:`prepare_entry`."""
        self._pending.append(item)
        counts = self.counts
        counts.parsed += 1
        created = item.created_micros
        if created is not None:
            if counts.first_created is None or created < counts.first_created:
                counts.first_created = created
            if counts.last_created is None or created > counts.last_created:
                counts.last_created = created

    def flush(self) -> None:
        """Stores the queued entries that are not already in the store."""
        if self._pending:
            pending, self._pending = self._pending, []
            self._store(pending)

    def _store(self, pending: list[PreparedEntry]) -> None:
        known = self._known_versions(pending)
        counts = self.counts
        to_store: list[PreparedEntry] = []
        conflicting: set[int] = set()
        new_conflicts: list[str] = []
        for item in pending:
            key = item.entry_key
            versions = known.setdefault(key, set())
            if item.content_sha256 in versions:
                counts.duplicates += 1
                continue
            if item.quarantine_reason is not None:
                counts.quarantined += 1
                if len(counts.quarantine) < REPORTED_QUARANTINE_LIMIT:
                    counts.quarantine.append(
                        QuarantinedEntry(item.position, item.line, item.quarantine_reason)
                    )
            elif key and versions:
                counts.conflicts += 1
            else:
                counts.imported += 1
            if key and versions:
                new_conflicts.append(key)
                conflicting.add(id(item))
            if item.time_naive:
                counts.naive_times += 1
            versions.add(item.content_sha256)
            to_store.append(item)
        # Exports run newest first; storing each batch oldest first keeps pages full and
        # sequence numbers close to time order.
        to_store.sort(key=_storage_order)
        if not to_store:
            return
        first_seq = self._last_seq + 1
        narrow, texts = self._rows(to_store, conflicting)
        self._terms.write_new(self._connection)
        self._connection.executemany(_INSERT_ENTRY, narrow)
        self._connection.executemany(_INSERT_TEXT, texts)
        write_block(self._connection, first_seq, arrays_from_rows(narrow))
        if self._index_text:
            self._connection.executemany(
                "INSERT INTO entries_fts (rowid, body) VALUES (?, ?)",
                [(row[0], item.body) for row, item in zip(narrow, to_store, strict=True)],
            )
            fulltext.set_indexed_upto(self._connection, self._last_seq)
            self.counts.indexed += len(narrow)
        if new_conflicts:
            self._connection.executemany(
                "INSERT INTO conflict_keys (entry_key, first_source_id) VALUES (?, ?) "
                "ON CONFLICT (entry_key) DO NOTHING",
                [(key, self._source_id) for key in new_conflicts],
            )

    def _known_versions(self, pending: list[PreparedEntry]) -> dict[str, set[bytes]]:
        known: dict[str, set[bytes]] = {}
        keys = list({item.entry_key for item in pending} - {""})
        anonymous = [item.content_sha256 for item in pending if not item.entry_key]
        cursor = self._connection
        for start in range(0, len(keys), 10_000):
            chunk = keys[start : start + 10_000]
            marks = ",".join("?" * len(chunk))
            for key, digest in cursor.execute(
                f"SELECT entry_key, content_sha256 FROM entry_texts WHERE entry_key IN ({marks})",  # noqa: S608
                chunk,
            ):
                known.setdefault(key, set()).add(digest)
        for start in range(0, len(anonymous), 10_000):
            chunk_hashes = anonymous[start : start + 10_000]
            marks = ",".join("?" * len(chunk_hashes))
            for (digest,) in cursor.execute(
                "SELECT content_sha256 FROM entry_texts "  # noqa: S608
                f"WHERE entry_key = '' AND content_sha256 IN ({marks})",
                chunk_hashes,
            ):
                known.setdefault("", set()).add(digest)
        return known

    def _flags(self, item: PreparedEntry, conflict: bool) -> int:
        bits = 0
        if item.quarantine_reason is not None:
            bits |= QUARANTINED.bit
        if conflict:
            bits |= CONFLICT.bit
        if item.time_naive:
            bits |= NAIVE_TIME.bit
        return bits | self._reference.flag_bits(item.terms[0], item.created_micros)

    def _rows(
        self, items: list[PreparedEntry], conflicting: set[int]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        narrow = []
        texts = []
        seq = self._last_seq
        chain = self._chain
        source_id = self._source_id
        term_ids = self._terms.ids
        for item in items:
            seq += 1
            chain = hashlib.sha256(chain + item.raw_sha256).digest()
            narrow.append(
                (
                    seq,
                    item.created_micros,
                    self._flags(item, id(item) in conflicting),
                    source_id,
                    *term_ids(item.terms),
                )
            )
            texts.append(
                (
                    seq,
                    item.entry_key,
                    item.position,
                    item.line,
                    item.raw_sha256,
                    item.content_sha256,
                    chain,
                    item.entity_name,
                    item.quarantine_reason,
                    item.text,
                )
            )
        self._last_seq = seq
        self._chain = chain
        return narrow, texts


def _storage_order(item: PreparedEntry) -> tuple[bool, int, int]:
    created = item.created_micros
    return (created is None, created or 0, -item.position)


def begin_source(
    connection: sqlite3.Connection,
    kind: str,
    location: str,
    sha256: str | None = None,
    size_bytes: int | None = None,
) -> int:
    """Records the start of an import or sync run and returns its id."""
    cursor = connection.execute(
        "INSERT INTO sources (kind, location, sha256, size_bytes, started_utc) "
        "VALUES (?, ?, ?, ?, ?)",
        (kind, location, sha256, size_bytes, now_micros()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def record_counts(
    connection: sqlite3.Connection, source_id: int, counts: WriteCounts, *, finished: bool
) -> None:
    """Writes a source's running totals; once ``finished`` the record is frozen."""
    connection.execute(
        "UPDATE sources SET parsed = ?, imported = ?, duplicates = ?, conflicts = ?, "
        "quarantined = ?, first_created_utc = ?, last_created_utc = ?, finished_utc = ? "
        "WHERE id = ?",
        (
            counts.parsed,
            counts.imported,
            counts.duplicates,
            counts.conflicts,
            counts.quarantined,
            counts.first_created,
            counts.last_created,
            now_micros() if finished else None,
            source_id,
        ),
    )


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
    the full-text index in the same transaction; otherwise :func:`fulltext.build_fulltext`
    indexes them later (text search finds them either way).

    Raises :class:`ImportRejected` for a file that is not a valid export and
    :class:`ImportCancelled` when ``cancel`` is set; the store is then unchanged.
    """
    file_path = Path(path)
    started = time.perf_counter()
    try:
        size = file_path.stat().st_size
    except OSError as exc:
        raise ImportRejected(str(file_path), f"cannot read the file ({exc.strerror})") from None
    location = str(file_path.resolve())
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
    # The import passed through the WAL (gigabytes for a big file): move it into the store file
    # now, so committed work does not live only in the -wal file and the disk space comes back.
    store.checkpoint()
    counts = writer.counts
    return ImportReport(
        source_id=source_id,
        location=location,
        sha256=read.sha256,
        parsed=counts.parsed,
        imported=counts.imported,
        duplicates=counts.duplicates,
        conflicts=counts.conflicts,
        quarantined=counts.quarantined,
        first_created_utc=counts.first_created,
        last_created_utc=counts.last_created,
        naive_times=counts.naive_times,
        indexed=counts.indexed,
        quarantine=tuple(counts.quarantine),
        seconds=time.perf_counter() - started,
    )
