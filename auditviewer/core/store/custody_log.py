"""The custody log: an append-only, hash-chained record of what was done to the store.

Each record says when, by which OS user, what (:data:`OPERATIONS`), a JSON ``detail`` (counts,
file names and hashes, targets, outcomes) and the entry chain head after the operation (the
last entry's seq and chain hash). Its chain hash is the SHA-256 of the previous record's chain
hash followed by the SHA-256 of the record's canonical JSON (:func:`record_digest`); the first
record chains from 32 zero bytes. Rewriting a record, or removing one from the middle, breaks
the chain; the entry heads are checkpoints that show entries removed from the end of the store.

Operations that write the store call :func:`record_custody` inside their own transaction;
read-only operations (exports, verification) call
:func:`~auditviewer.core.store.custody.append_custody`, their own small write. This module works
on a connection only: the store's migrations record here.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from auditviewer.core.records import now_micros
from auditviewer.core.store.schema_custody import STORE_ID_KEY
from auditviewer.core.store.tables import has_table

GENESIS: Final = bytes(32)

IMPORT: Final = "import"
SYNC: Final = "sync"
EXPORT: Final = "export"
EVIDENCE_PACK: Final = "evidence pack"
VERIFY: Final = "verify"
REVIEW_SIGN_OFF: Final = "review sign-off"
MIGRATION: Final = "schema migration"
OPERATIONS: Final = (IMPORT, SYNC, EXPORT, EVIDENCE_PACK, VERIFY, REVIEW_SIGN_OFF, MIGRATION)

_COLUMNS: Final = (
    "seq, recorded_utc, os_user, what, detail, entries_seq, entries_head, chain_sha256"
)


@dataclass(frozen=True, slots=True)
class EntryHead:
    """The entry chain's head: the last entry's seq and chain hash (hex); seq 0 when empty."""

    seq: int
    sha256: str | None


@dataclass(frozen=True, slots=True)
class CustodyRecord:
    """One record of the custody log."""

    seq: int
    recorded_utc: int
    os_user: str
    what: str
    detail: Mapping[str, Any]
    entries_seq: int
    entries_head: str | None
    chain_sha256: str

    def as_json(self) -> dict[str, Any]:
        """The record as plain JSON values (``auditviewer log --json``)."""
        return {
            "seq": self.seq,
            "recorded_utc": self.recorded_utc,
            "os_user": self.os_user,
            "what": self.what,
            "detail": dict(self.detail),
            "entries_seq": self.entries_seq,
            "entries_head": self.entries_head,
            "chain_sha256": self.chain_sha256,
        }


def os_user() -> str:
    """The name of the operating-system user running this program ("unknown" if none)."""
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):
        return "unknown"


def entry_head(connection: sqlite3.Connection) -> EntryHead:
    """The entry chain's head as stored (not recomputed)."""
    row = connection.execute(
        "SELECT seq, chain_sha256 FROM entry_texts ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return EntryHead(0, None)
    return EntryHead(int(row[0]), bytes(row[1]).hex())


def store_id(connection: sqlite3.Connection) -> str | None:
    """The store's id (given by the migration that added the custody log)."""
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (STORE_ID_KEY,)).fetchone()
    return None if row is None else str(row[0])


def has_custody_log(connection: sqlite3.Connection) -> bool:
    """Whether the store's schema has the custody log yet."""
    return has_table(connection, "custody_log")


def canonical_detail(detail: Mapping[str, Any]) -> str:
    """The detail as stored: compact JSON with sorted keys."""
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_digest(
    seq: int,
    recorded_utc: int,
    user: str,
    what: str,
    detail_text: str,
    entries_seq: int,
    entries_head: str | None,
) -> bytes:
    """The SHA-256 of a record's canonical JSON (the detail as its stored text)."""
    canonical = json.dumps(
        [seq, recorded_utc, user, what, detail_text, entries_seq, entries_head],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def chain_step(previous: bytes, digest: bytes) -> bytes:
    """A record's chain hash from the previous one's and its own digest."""
    return hashlib.sha256(previous + digest).digest()


def record_custody(
    connection: sqlite3.Connection,
    what: str,
    detail: Mapping[str, Any] | None = None,
    *,
    user: str | None = None,
    recorded_utc: int | None = None,
) -> CustodyRecord:
    """Appends a record inside the caller's write transaction on ``connection``.

    The entry head recorded is the one the transaction sees, so it is the head after the
    operation when called at its end.
    """
    if what not in OPERATIONS:
        raise ValueError(f"unknown custody operation {what!r}")
    last = connection.execute(
        "SELECT seq, chain_sha256 FROM custody_log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    seq = 1 if last is None else int(last[0]) + 1
    previous = GENESIS if last is None else bytes(last[1])
    head = entry_head(connection)
    when = now_micros() if recorded_utc is None else recorded_utc
    who = os_user() if user is None else user
    detail_text = canonical_detail(detail or {})
    digest = record_digest(seq, when, who, what, detail_text, head.seq, head.sha256)
    chain = chain_step(previous, digest)
    connection.execute(
        f"INSERT INTO custody_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (seq, when, who, what, detail_text, head.seq, head.sha256, chain),
    )
    return CustodyRecord(seq, when, who, what, detail or {}, head.seq, head.sha256, chain.hex())


def custody_records(connection: sqlite3.Connection) -> list[CustodyRecord]:
    """Every record of the custody log on ``connection``, oldest first."""
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM custody_log ORDER BY seq"  # noqa: S608
    ).fetchall()
    return [_record(row) for row in rows]


def _record(row: tuple[Any, ...]) -> CustodyRecord:
    try:
        detail = json.loads(row[4])
    except (TypeError, ValueError):
        detail = {"unreadable": str(row[4])}
    if not isinstance(detail, dict):
        detail = {"value": detail}
    return CustodyRecord(
        seq=int(row[0]),
        recorded_utc=int(row[1]),
        os_user=str(row[2]),
        what=str(row[3]),
        detail=detail,
        entries_seq=int(row[5]),
        entries_head=None if row[6] is None else str(row[6]),
        chain_sha256=bytes(row[7]).hex(),
    )
