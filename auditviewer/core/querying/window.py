"""Reading entries for the viewer: counted, sorted, windowed queries and entry details.

:class:`EntryQuery` serves the table model, the CLI and the exports. It works on a snapshot of
the column cache (:mod:`.columns`): the matching positions in sort order are
computed once with vectorised operations (a few milliseconds at a million entries), so the
count is known at once and any window — the scrollbar dragged to row 900,000 — is a slice of
that order whose rows are then read from SQLite by seq.

A query's result set is frozen when it is created: the store only grows, and the snapshot
holds the entries and the conflicts that existed then.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
from sqlalchemy.exc import DBAPIError

from auditviewer.core.errors import StoreError
from auditviewer.core.querying.columns import Columns, Positions, columns
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.reading.fieldmap import ENTRY_FIELDS
from auditviewer.core.reading.normalize import Normalized, normalize, parse_time
from auditviewer.core.records import Counts, now_micros
from auditviewer.core.reference import ActionReference
from auditviewer.core.store import text_index
from auditviewer.core.store.connection import Store
from auditviewer.core.store.environment_errors import translate
from auditviewer.core.vocabulary import (
    CONFLICT,
    NAIVE_TIME,
    PAST_RETENTION,
    QUARANTINED,
)

_FETCH_CHUNK: Final = 2000
# A quarantined entry's raw text longer than this is not read for its fields.
READABLE_LIMIT: Final = 1_000_000

ROW_COLUMNS: Final = (
    "v.seq, v.entry_key, v.created_utc, v.time_naive, v.action, v.actor_type, v.actor_label, "
    "v.actor_id, v.project, v.entity_type, v.entity_id, v.entity_name, v.ip, v.user_agent, "
    "v.quarantine_reason, "
    "EXISTS (SELECT 1 FROM conflict_keys AS c WHERE c.entry_key = v.entry_key), v.source_id, "
    "v.flags"
)


@dataclass(frozen=True, slots=True)
class ReadableFields(Normalized):
    """What a quarantined entry's raw text still says, read leniently and not verified:
    the entry was quarantined because some of it could not be understood.

    ``created_text`` is the time as the entry writes it, also when it cannot be read as one.
    """

    created_text: str | None


def _first_present(entry: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((entry[name] for name in names if entry.get(name) is not None), None)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def readable_fields(raw: str, reason: str) -> ReadableFields | None:
    """The fields a quarantined entry's raw text still holds, quarantined for ``reason``; None
    when it is not a JSON object (or too long to read for display)."""
    if len(raw) > READABLE_LIMIT:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    created: int | None = None
    naive = False
    moment = _first_present(value, ENTRY_FIELDS["created"])
    if moment is not None:
        try:
            created, naive = parse_time(moment)
        except (ValueError, OverflowError):
            created = None
    action = _first_present(value, ENTRY_FIELDS["action"])
    # The rest is read by the importer's own rules: with a usable action and time standing in
    # for the ones that may be missing, the entry normalises like any other.
    stand_in = {
        key: item
        for key, item in value.items()
        if key not in ENTRY_FIELDS["action"] and key not in ENTRY_FIELDS["created"]
    }
    stand_in[ENTRY_FIELDS["action"][0]] = "readable"
    stand_in[ENTRY_FIELDS["created"][0]] = 0
    n = normalize(stand_in)
    return ReadableFields(
        n.entry_key,
        created,
        naive,
        action if isinstance(action, str) and action.strip() else None,
        n.actor_type,
        n.actor_label,
        n.actor_id,
        n.project,
        n.entity_type,
        n.entity_id,
        n.entity_name,
        n.ip,
        n.user_agent,
        reason,
        None if moment is None else _as_text(moment),
    )


@dataclass(frozen=True, slots=True)
class EntryRow(Normalized):
    """The normalised columns of one stored entry, as the table shows them.

    ``flags`` holds the bits of :data:`auditviewer.core.vocabulary.FLAGS` as of reading;
    ``readable`` what a quarantined entry's raw text still says (None for other entries).
    """

    seq: int
    conflict: bool
    source_id: int
    flags: int
    readable: ReadableFields | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRecord(Counts):
    """One import of a file or one sync run, with its counts."""

    id: int
    kind: str
    location: str
    sha256: str | None
    size_bytes: int | None
    started_utc: int
    finished_utc: int | None
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


def current_flags(
    stored: int, conflict: bool, action: str | None, created: int | None, now: int
) -> int:
    """An entry's flag bits now: stored at import, plus those that depend on the reference,
    on later imports (conflicts) and on the date (retention)."""
    reference = ActionReference.shared()
    bits = stored & (QUARANTINED.bit | NAIVE_TIME.bit)
    if conflict:
        bits |= CONFLICT.bit
    bits |= reference.flag_bits(action, created)
    if reference.past_retention(created, now):
        bits |= PAST_RETENTION.bit
    return bits


def _row_values(values: tuple[Any, ...], now: int) -> tuple[Any, ...]:
    """The fields of an :class:`EntryRow` from a row selected with :data:`ROW_COLUMNS`."""
    (seq, key, created, naive, action, actor_type, label, actor_id, project, entity_type,
     entity_id, entity_name, ip, agent, reason, conflict, source_id, stored) = values  # fmt: skip
    flags = current_flags(stored, bool(conflict), action, created, now)
    return (
        key, created, bool(naive), action, actor_type, label, actor_id, project, entity_type,
        entity_id, entity_name, ip, agent, reason, seq, bool(conflict), source_id, flags,
    )  # fmt: skip


def _fetch_rows(connection: sqlite3.Connection, seqs: list[int]) -> dict[int, EntryRow]:
    rows = connection.execute(
        f"SELECT {ROW_COLUMNS} FROM entry_view AS v "  # noqa: S608
        "WHERE v.seq IN (SELECT value FROM json_each(?))",
        (json.dumps(seqs),),
    ).fetchall()
    now = now_micros()
    found = {int(r[0]): EntryRow(*_row_values(r, now)) for r in rows}
    quarantined = [seq for seq, row in found.items() if row.quarantine_reason is not None]
    if quarantined:
        for seq, raw in connection.execute(
            "SELECT seq, raw FROM entry_view WHERE seq IN (SELECT value FROM json_each(?))",
            (json.dumps(quarantined),),
        ):
            row = found[int(seq)]
            reason = row.quarantine_reason or ""
            found[int(seq)] = replace(row, readable=readable_fields(raw or "", reason))
    return found


class EntryQuery:
    """The entries a filter matches, in a sort order, read in windows.

    Holds one connection of the store until :meth:`close` (also a context manager). Safe to
    call from several threads; calls are serialised.
    """

    def __init__(self, store: Store, filter: Filter | None = None, sort: Sort | None = None):
        self.filter = filter or Filter()
        self.sort = sort or Sort()
        self._store = store
        self._lock = threading.RLock()
        self._columns: Columns = columns(store)
        self._order: Positions | None = None
        self._closed = False

    @property
    def snapshot(self) -> Columns:
        """The column snapshot the query answers from."""
        return self._columns

    def __enter__(self) -> EntryQuery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ordered(self) -> Positions:
        if self._closed:
            raise RuntimeError("the query is closed")
        if self._order is None:
            snapshot = self._columns
            self._order = snapshot.ordered(snapshot.mask(self.filter), self.sort)
        return self._order

    def count(self) -> int:
        """How many entries match."""
        with self._lock:
            if self._order is not None:
                return len(self._order)
            mask = self._columns.mask(self.filter)
            return self._columns.size if mask is None else int(np.count_nonzero(mask))

    def materialize(self) -> None:
        """Computes the ordered matches now (window() does it on first need)."""
        with self._lock:
            self._ordered()

    def seqs(self, offset: int, limit: int) -> list[int]:
        """The seqs at positions ``offset`` .. ``offset + limit - 1`` of the order."""
        offset = max(0, offset)
        limit = max(0, limit)
        with self._lock:
            positions = self._ordered()[offset : offset + limit]
            return [int(s) for s in self._columns.seq[positions]]

    def window(self, offset: int, limit: int) -> list[EntryRow]:
        """The matching rows at positions ``offset`` .. ``offset + limit - 1`` of the order."""
        wanted = self.seqs(offset, limit)
        if not wanted:
            return []
        with self._store.raw() as connection:
            rows = _fetch_rows(connection, wanted)
        return [rows[s] for s in wanted if s in rows]

    def iter_seqs(self) -> Iterator[int]:
        """Every matching seq in sort order, streamed in chunks."""
        with self._lock:
            order = self._ordered()
            seq = self._columns.seq
        for start in range(0, len(order), _FETCH_CHUNK):
            for value in seq[order[start : start + _FETCH_CHUNK]]:
                yield int(value)

    def close(self) -> None:
        """Lets go of the query's snapshot. Idempotent."""
        with self._lock:
            self._closed = True
            self._order = None


def untimed_count(snapshot: Columns, flt: Filter) -> int:
    """How many of the entries ``flt`` matches have no time (quarantined ones): a query lists
    them, a histogram cannot place them."""
    untimed = ~snapshot.has_time()
    mask = snapshot.mask(flt)
    return int(np.count_nonzero(untimed if mask is None else untimed & mask))


def store_failure(store: Store, error: BaseException, outcome: str = "") -> StoreError:
    """The error to report for ``error``, met while reading ``store``: a sentence that names
    the store, says what happened, then ``outcome`` (what became of the work), then what to do.
    """
    cause: BaseException | None = error
    if isinstance(error, StoreError) and error.__cause__ is not None:
        cause = error.__cause__  # the SQLite error the store already put in words
    if isinstance(cause, DBAPIError):
        cause = cause.orig
    translated = None if cause is None else translate(cause, store.path, outcome)
    if translated is not None:
        return translated
    then = f"; {outcome}" if outcome else ""
    if isinstance(error, StoreError):
        return type(error)(f"{error}{then}")
    return StoreError(f"{store.path}: cannot read the store ({cause}){then}")


@contextmanager
def reading(store: Store) -> Iterator[None]:
    """Turns any error of SQLite's while reading ``store`` into a :class:`StoreError` naming it
    (the store itself words the conditions of the machine; this covers the rest)."""
    try:
        yield
    except (sqlite3.Error, DBAPIError) as exc:
        raise store_failure(store, exc) from None


def _source(values: tuple[Any, ...]) -> SourceRecord:
    return SourceRecord(**dict(zip(_SOURCE_FIELDS, values, strict=True)))


_SOURCE_COLUMNS: Final = (
    "id, kind, location, sha256, size_bytes, started_utc, finished_utc, parsed, imported, "
    "duplicates, conflicts, quarantined, first_created_utc, last_created_utc, detail"
)
_SOURCE_FIELDS: Final = tuple(name.strip() for name in _SOURCE_COLUMNS.split(","))


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
            f"SELECT {ROW_COLUMNS}, v.raw, v.raw_sha256, v.content_sha256, v.chain_sha256, "  # noqa: S608
            "v.source_index, v.source_line FROM entry_view AS v "
            "WHERE v.seq IN (SELECT value FROM json_each(?))",
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
    now = now_micros()
    for r in rows:
        seq, reason, source_id = r[0], r[14], r[16]
        raw, raw_hash, content_hash, chain_hash, index, line = r[18:]
        by_seq[seq] = EntryDetail(  # type: ignore[call-arg, misc]
            *_row_values(r[:18], now),
            raw,
            bytes(raw_hash).hex(),
            bytes(content_hash).hex(),
            bytes(chain_hash).hex(),
            index,
            line,
            sources[source_id],
            readable=None if reason is None else readable_fields(raw or "", reason),
        )
    return [by_seq[s] for s in wanted if s in by_seq]


def store_stats(store: Store) -> StoreStats:
    """Counts, time span, imports and the chain head of a store."""
    snapshot = columns(store)
    with store.snapshot() as connection:

        def one(sql: str, *params: object) -> Any:
            return connection.execute(sql, params).fetchone()[0]

        conflict_keys = int(one("SELECT count(*) FROM conflict_keys"))
        imports = int(
            one("SELECT count(*) FROM sources WHERE kind = 'file' AND id <= ?", snapshot.max_source)
        )
        sync_runs = int(
            one("SELECT count(*) FROM sources WHERE kind = 'sync' AND id <= ?", snapshot.max_source)
        )
        last_seq = snapshot.last_seq
        head = connection.execute(
            "SELECT seq, chain_sha256 FROM entry_texts WHERE seq = ?", (last_seq,)
        ).fetchone()
        indexed = text_index.indexed_upto(connection)
    timed = snapshot.created[snapshot.has_time()]
    return StoreStats(
        entries=snapshot.size,
        quarantined=int(np.count_nonzero(snapshot.quarantined())),
        conflict_keys=conflict_keys,
        conflict_entries=int(np.count_nonzero(snapshot.conflicts())),
        first_created_utc=int(timed.min()) if timed.size else None,
        last_created_utc=int(timed.max()) if timed.size else None,
        imports=imports,
        sync_runs=sync_runs,
        last_seq=int(head[0]) if head else 0,
        last_chain_sha256=bytes(head[1]).hex() if head else None,
        fts_indexed_upto=indexed,
    )
