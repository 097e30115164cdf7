"""Writes entries into the store: deduplication, conflicts, quarantine, hashes and provenance.

File imports (:mod:`auditviewer.core.store.file_import`) and sync runs both store entries
through :class:`EntryWriter`, so an entry is treated the same whichever way it arrived.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from auditviewer.core.reading.prepared import PreparedEntry, prepare_entry
from auditviewer.core.records import QuarantinedEntry, now_micros
from auditviewer.core.reference import ActionReference
from auditviewer.core.store import text_index
from auditviewer.core.store.column_blocks import ENTRY_COLUMNS, arrays_from_rows, write_block
from auditviewer.core.store.schema_shared import has_shared_counts, record_shared
from auditviewer.core.store.terms import TermDictionary
from auditviewer.core.vocabulary import CONFLICT, NAIVE_TIME, QUARANTINED

BATCH_SIZE = 5000
GENESIS_CHAIN = bytes(32)
REPORTED_QUARANTINE_LIMIT = 1000


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

    def totals(self) -> dict[str, int]:
        """The :class:`~auditviewer.core.records.Counts` fields, to build a report from."""
        return {
            "parsed": self.parsed,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "quarantined": self.quarantined,
        }


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
        self._index_text = index_text and text_index.indexed_upto(connection) == self._last_seq
        # Re-delivered entries are counted per earlier source where the schema keeps the counts.
        self._count_shared = has_shared_counts(connection)

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
        created = item.created_utc
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
        known, origin = self._known_versions(pending)
        shared: dict[int, int] = {}
        counts = self.counts
        to_store: list[PreparedEntry] = []
        conflicting: set[int] = set()
        new_conflicts: list[str] = []
        for item in pending:
            key = item.entry_key
            versions = known.setdefault(key, set())
            if item.content_sha256 in versions:
                counts.duplicates += 1
                earlier = origin.get((key, item.content_sha256))
                if earlier is not None and earlier != self._source_id:
                    shared[earlier] = shared.get(earlier, 0) + 1
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
        record_shared(self._connection, self._source_id, shared)
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
            text_index.set_indexed_upto(self._connection, self._last_seq)
            self.counts.indexed += len(narrow)
        if new_conflicts:
            self._connection.executemany(
                "INSERT INTO conflict_keys (entry_key, first_source_id) VALUES (?, ?) "
                "ON CONFLICT (entry_key) DO NOTHING",
                [(key, self._source_id) for key in new_conflicts],
            )

    def _known_versions(
        self, pending: list[PreparedEntry]
    ) -> tuple[dict[str, set[bytes]], dict[tuple[str, bytes], int]]:
        """The stored versions (content hashes) of the batch's entry keys, and the source each
        stored version came from (read only where the shared counts are kept)."""
        known: dict[str, set[bytes]] = {}
        origin: dict[tuple[str, bytes], int] = {}
        keys = list({item.entry_key for item in pending} - {""})
        anonymous = [item.content_sha256 for item in pending if not item.entry_key]
        cursor = self._connection
        source = "e.source_id" if self._count_shared else "0"
        joined = "JOIN entries AS e ON e.seq = t.seq" if self._count_shared else ""
        for start in range(0, len(keys), 10_000):
            chunk = keys[start : start + 10_000]
            marks = ",".join("?" * len(chunk))
            for key, digest, source_id in cursor.execute(
                f"SELECT t.entry_key, t.content_sha256, {source} FROM entry_texts AS t {joined} "  # noqa: S608
                f"WHERE t.entry_key IN ({marks})",
                chunk,
            ):
                known.setdefault(key, set()).add(digest)
                origin[(key, digest)] = source_id
        for start in range(0, len(anonymous), 10_000):
            chunk_hashes = anonymous[start : start + 10_000]
            marks = ",".join("?" * len(chunk_hashes))
            for digest, source_id in cursor.execute(
                f"SELECT t.content_sha256, {source} FROM entry_texts AS t {joined} "  # noqa: S608
                f"WHERE t.entry_key = '' AND t.content_sha256 IN ({marks})",
                chunk_hashes,
            ):
                known.setdefault("", set()).add(digest)
                origin[("", digest)] = source_id
        if not self._count_shared:
            origin.clear()
        return known, origin

    def _flags(self, item: PreparedEntry, conflict: bool) -> int:
        bits = 0
        if item.quarantine_reason is not None:
            bits |= QUARANTINED.bit
        if conflict:
            bits |= CONFLICT.bit
        if item.time_naive:
            bits |= NAIVE_TIME.bit
        return bits | self._reference.flag_bits(item.terms[0], item.created_utc)

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
                    item.created_utc,
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
    created = item.created_utc
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
