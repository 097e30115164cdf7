"""Reading entries for the viewer: counted, sorted, windowed queries and entry details.

:class:`EntryQuery` serves the table model. Its first windows (up to
:data:`DIRECT_WINDOW_LIMIT` rows deep) come straight from an ``ORDER BY .. LIMIT`` that the
``(column, created_utc)`` indexes answer in well under a millisecond, so a new filter shows its
first screen at once. The first window deeper than that materialises the ordered seqs of every
match into a TEMP table on the query's own connection (once; ~0.1 s per million rows), after
which any window — the scrollbar dragged to row 900,000 — is a range lookup on the table's
position key (well under a millisecond), where ``OFFSET`` would walk every skipped row.

A query's result set is frozen when it is created: the store only grows, so later entries are
excluded by seq, and later conflicts by the import that found them.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final

from auditviewer.core import fulltext
from auditviewer.core.query import Bounds, Filter, Sort, Where, order_for, where_clause
from auditviewer.core.store import Store

DIRECT_WINDOW_LIMIT: Final = 1000
_FETCH_CHUNK: Final = 2000
_TABLE_NUMBERS = itertools.count(1)

ROW_COLUMNS: Final = (
    "e.seq, e.entry_key, e.created_utc, e.time_naive, e.action, e.actor_type, e.actor_label, "
    "e.actor_id, e.project, e.entity_type, e.entity_id, e.entity_name, e.ip, e.user_agent, "
    "e.quarantine_reason, "
    "EXISTS (SELECT 1 FROM conflict_keys AS c WHERE c.entry_key = e.entry_key), e.source_id"
)


@dataclass(frozen=True, slots=True)
class EntryRow:
    """The normalised columns of one stored entry, as the table shows them."""

    seq: int
    entry_key: str
    created_utc: int | None
    time_naive: bool
    action: str | None
    actor_type: str
    actor_label: str | None
    actor_id: str | None
    project: str | None
    entity_type: str | None
    entity_id: str | None
    entity_name: str | None
    ip: str | None
    user_agent: str | None
    quarantine_reason: str | None
    conflict: bool
    source_id: int


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One import of a file or one sync run, with its counts."""

    id: int
    kind: str
    location: str
    sha256: str | None
    size_bytes: int | None
    started_utc: int
    finished_utc: int | None
    parsed: int
    imported: int
    duplicates: int
    conflicts: int
    quarantined: int
    first_created_utc: int | None
    last_created_utc: int | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class EntryDetail(EntryRow):
    """Everything about one entry: its row, exact original text, hashes and provenance."""

    raw: str
    raw_sha256: str
    content_sha256: str
    chain_sha256: str
    source_index: int
    source_line: int | None
    source: SourceRecord


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Totals of a store, for the status bar, ``stats`` and integrity views."""

    entries: int
    quarantined: int
    conflict_keys: int
    conflict_entries: int
    first_created_utc: int | None
    last_created_utc: int | None
    imports: int
    sync_runs: int
    last_seq: int
    last_chain_sha256: str | None
    fts_indexed_upto: int


def _row_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """The fields of an :class:`EntryRow` from a row selected with :data:`ROW_COLUMNS`."""
    (seq, key, created, naive, action, actor_type, label, actor_id, project, entity_type,
     entity_id, entity_name, ip, agent, reason, conflict, source_id) = values  # fmt: skip
    return (
        seq, key, created, bool(naive), action, actor_type, label, actor_id, project,
        entity_type, entity_id, entity_name, ip, agent, reason, bool(conflict), source_id,
    )  # fmt: skip


def _row(values: tuple[Any, ...]) -> EntryRow:
    return EntryRow(*_row_values(values))


@dataclass(frozen=True, slots=True)
class _Part:
    """One ordered slice of a query's result: its condition and its ORDER BY."""

    where: str
    params: tuple[object, ...]
    order: str
    order_params: tuple[object, ...]

    @property
    def tail(self) -> str:
        return f"WHERE {self.where} ORDER BY {self.order}"

    @property
    def all_params(self) -> tuple[object, ...]:
        return self.params + self.order_params


class EntryQuery:
    """The entries a filter matches, in a sort order, read in windows.

    Holds one connection of the store until :meth:`close` (also a context manager). Safe to
    call from several threads; calls are serialised.
    """

    def __init__(self, store: Store, filter: Filter | None = None, sort: Sort | None = None):
        self.filter = filter or Filter()
        self.sort = sort or Sort()
        self._lock = threading.RLock()
        self._context: AbstractContextManager[sqlite3.Connection] | None = store.raw()
        self._connection: sqlite3.Connection = self._context.__enter__()
        try:
            fulltext.prepare_connection(self._connection)
            self._max_seq, self._max_source = self._heads()
            self._indexed_seq = fulltext.indexed_upto(self._connection)
            self._sparse_text = fulltext.sparse_phrases(
                self._connection, self.filter.text, self._indexed_seq
            )
        except BaseException:
            self.close()
            raise
        self._bounded = False
        self._count: int | None = None
        self._non_null_count: int | None = None
        self._table: str | None = None

    def __enter__(self) -> EntryQuery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _heads(self) -> tuple[int, int]:
        row = self._connection.execute(
            "SELECT (SELECT max(seq) FROM entries), (SELECT max(id) FROM sources)"
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def _where(self) -> Where:
        # Bounds cost index choices, so they are only added once the store has grown.
        if not self._bounded and self._heads() != (self._max_seq, self._max_source):
            self._bounded = True
        bounds = Bounds(self._max_seq, self._max_source) if self._bounded else None
        return where_clause(
            self.filter,
            indexed_seq=self._indexed_seq,
            bounds=bounds,
            sparse_text=self._sparse_text,
        )

    def _open(self) -> sqlite3.Connection:
        if self._context is None:
            raise RuntimeError("the query is closed")
        return self._connection

    def _parts(self) -> list[_Part]:
        """The parts whose concatenation is the whole ordered result (NULLs of the sort last)."""
        where = self._where()
        order = order_for(self.sort)
        direction = " DESC" if self.sort.descending else ""
        if not order.nullable:
            return [_Part(where.sql, where.params, order.sql, order.params)]
        null_order = (
            f"e.seq{direction}"
            if self.sort.column == "time"
            else f"e.created_utc{direction}, e.seq{direction}"
        )
        return [
            _Part(f"{where.sql} AND {order.primary} IS NOT NULL", where.params, order.sql, ()),
            _Part(f"{where.sql} AND {order.primary} IS NULL", where.params, null_order, ()),
        ]

    def count(self) -> int:
        """How many entries match."""
        with self._lock:
            connection = self._open()
            if self._count is None:
                where = self._where()
                sql = f"SELECT count(*) FROM entries AS e WHERE {where.sql}"  # noqa: S608
                self._count = int(connection.execute(sql, where.params).fetchone()[0])
            return self._count

    def _first_part_count(self) -> int:
        if self._non_null_count is None:
            part = self._parts()[0]
            sql = f"SELECT count(*) FROM entries AS e WHERE {part.where}"  # noqa: S608
            self._non_null_count = int(self._connection.execute(sql, part.params).fetchone()[0])
        return self._non_null_count

    def materialize(self) -> None:
        """Builds the ordered seq list now (window() does it on first need)."""
        with self._lock:
            connection = self._open()
            if self._table is not None:
                return
            name = f"av_window_{next(_TABLE_NUMBERS)}"
            connection.execute(
                f"CREATE TEMP TABLE {name} (pos INTEGER PRIMARY KEY, seq INTEGER NOT NULL)"
            )
            try:
                connection.execute("BEGIN")
                for part in self._parts():
                    connection.execute(
                        f"INSERT INTO temp.{name} (seq) SELECT e.seq FROM entries AS e {part.tail}",  # noqa: S608
                        part.all_params,
                    )
                total = connection.execute(f"SELECT count(*) FROM temp.{name}").fetchone()[0]  # noqa: S608
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                connection.execute(f"DROP TABLE IF EXISTS temp.{name}")
                raise
            self._table = name
            self._count = int(total)

    def window(self, offset: int, limit: int) -> list[EntryRow]:
        """The matching rows at positions ``offset`` .. ``offset + limit - 1`` of the order."""
        offset = max(0, offset)
        limit = max(0, limit)
        if limit == 0:
            return []
        with self._lock:
            connection = self._open()
            if self._table is None and offset + limit > DIRECT_WINDOW_LIMIT:
                self.materialize()
            if self._table is not None:
                sql = (
                    f"SELECT {ROW_COLUMNS} FROM temp.{self._table} AS t "  # noqa: S608
                    "CROSS JOIN entries AS e ON e.seq = t.seq "
                    "WHERE t.pos > ? AND t.pos <= ? ORDER BY t.pos"
                )
                rows = connection.execute(sql, (offset, offset + limit)).fetchall()
                return [_row(r) for r in rows]
            return self._direct_window(connection, offset, limit)

    def _direct_window(
        self, connection: sqlite3.Connection, offset: int, limit: int
    ) -> list[EntryRow]:
        parts = self._parts()
        first = parts[0]
        sql = f"SELECT {ROW_COLUMNS} FROM entries AS e {first.tail} LIMIT ? OFFSET ?"  # noqa: S608
        rows = connection.execute(sql, (*first.all_params, limit, offset)).fetchall()
        if len(rows) < limit and len(parts) > 1:
            null_offset = max(0, offset - self._first_part_count())
            second = parts[1]
            sql = f"SELECT {ROW_COLUMNS} FROM entries AS e {second.tail} LIMIT ? OFFSET ?"  # noqa: S608
            more = (*second.all_params, limit - len(rows), null_offset)
            rows += connection.execute(sql, more).fetchall()
        return [_row(r) for r in rows]

    def iter_seqs(self) -> Iterator[int]:
        """Every matching seq in sort order, streamed in chunks."""
        with self._lock:
            self._open()
            if self._table is not None:
                statements: list[tuple[str, tuple[object, ...]]] = [
                    (f"SELECT seq FROM temp.{self._table} ORDER BY pos", ())  # noqa: S608
                ]
            else:
                statements = [
                    (f"SELECT e.seq FROM entries AS e {part.tail}", part.all_params)  # noqa: S608
                    for part in self._parts()
                ]
        for sql, params in statements:
            with self._lock:
                cursor = self._open().execute(sql, params)
            try:
                while True:
                    with self._lock:
                        chunk = cursor.fetchmany(_FETCH_CHUNK)
                    if not chunk:
                        break
                    for (seq,) in chunk:
                        yield int(seq)
            finally:
                cursor.close()

    def close(self) -> None:
        """Drops the query's TEMP table and gives its connection back. Idempotent."""
        with self._lock:
            context, self._context = self._context, None
            if context is None:
                return
            try:
                if self._table is not None:
                    self._connection.execute(f"DROP TABLE IF EXISTS temp.{self._table}")
                    self._table = None
            finally:
                context.__exit__(None, None, None)


def _source(values: tuple[Any, ...]) -> SourceRecord:
    return SourceRecord(*values)


_SOURCE_COLUMNS: Final = (
    "id, kind, location, sha256, size_bytes, started_utc, finished_utc, parsed, imported, "
    "duplicates, conflicts, quarantined, first_created_utc, last_created_utc, detail"
)


def list_sources(store: Store) -> list[SourceRecord]:
    """Every import and sync run, oldest first."""
    with store.raw() as connection:
        rows = connection.execute(f"SELECT {_SOURCE_COLUMNS} FROM sources ORDER BY id").fetchall()  # noqa: S608
    return [_source(r) for r in rows]


def get_entries(store: Store, seqs: Iterable[int]) -> list[EntryDetail]:
    """The full details of the given entries, in the order asked; unknown seqs are skipped."""
    wanted = [int(s) for s in seqs]
    if not wanted:
        return []
    with store.snapshot() as connection:
        rows = connection.execute(
            f"SELECT {ROW_COLUMNS}, e.raw, e.raw_sha256, e.content_sha256, e.chain_sha256, "  # noqa: S608
            "e.source_index, e.source_line FROM entries AS e "
            "WHERE e.seq IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        ).fetchall()
        source_ids = sorted({r[16] for r in rows})
        sources = {
            s[0]: _source(s)
            for s in connection.execute(
                f"SELECT {_SOURCE_COLUMNS} FROM sources "  # noqa: S608
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(source_ids),),
            )
        }
    by_seq: dict[int, EntryDetail] = {}
    for r in rows:
        values = _row_values(r[:17])
        raw, raw_hash, content_hash, chain_hash, index, line = r[17:]
        by_seq[values[0]] = EntryDetail(  # type: ignore[call-arg]
            *values,
            raw,
            bytes(raw_hash).hex(),
            bytes(content_hash).hex(),
            bytes(chain_hash).hex(),
            index,
            line,
            sources[values[16]],
        )
    return [by_seq[s] for s in wanted if s in by_seq]


def store_stats(store: Store) -> StoreStats:
    """Counts, time span, imports and the chain head of a store, from one snapshot."""
    with store.snapshot() as connection:

        def one(sql: str) -> Any:
            return connection.execute(sql).fetchone()[0]

        entries = int(one("SELECT count(*) FROM entries"))
        # Quarantined entries, and only they, have no time: the created index finds them.
        quarantined = int(
            one(
                "SELECT count(*) FROM entries WHERE created_utc IS NULL "
                "AND quarantine_reason IS NOT NULL"
            )
        )
        conflict_keys = int(one("SELECT count(*) FROM conflict_keys"))
        conflict_entries = int(
            one(
                "SELECT count(*) FROM entries "
                "WHERE entry_key IN (SELECT entry_key FROM conflict_keys)"
            )
        )
        first = one("SELECT min(created_utc) FROM entries")
        last = one("SELECT max(created_utc) FROM entries")
        imports = int(one("SELECT count(*) FROM sources WHERE kind = 'file'"))
        sync_runs = int(one("SELECT count(*) FROM sources WHERE kind = 'sync'"))
        head = connection.execute(
            "SELECT seq, chain_sha256 FROM entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        indexed = fulltext.indexed_upto(connection)
    return StoreStats(
        entries=entries,
        quarantined=quarantined,
        conflict_keys=conflict_keys,
        conflict_entries=conflict_entries,
        first_created_utc=first,
        last_created_utc=last,
        imports=imports,
        sync_runs=sync_runs,
        last_seq=int(head[0]) if head else 0,
        last_chain_sha256=bytes(head[1]).hex() if head else None,
        fts_indexed_upto=indexed,
    )
