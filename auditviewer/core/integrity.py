"""Proves a store unaltered: every entry's raw SHA-256 and the hash chain, recomputed.

Each entry stores the SHA-256 of its exact original text and a chain hash, the SHA-256 of the
previous entry's chain hash followed by its own raw hash (the first entry chains from 32 zero
bytes). Recomputing both from the raw texts, in seq order, finds an edited text, an edited
hash, and an entry removed from or inserted into the middle of the sequence. The last chain
hash (the *chain head*) stands for the whole store: noted down elsewhere, it also shows that
nothing was cut off the end.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from auditviewer.core.errors import AuditViewerError, StoreError
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store import Store

GENESIS_CHAIN: Final = bytes(32)
FETCH_ROWS: Final = 5000

ProgressCallback = Callable[[Progress], None]


class VerifyCancelled(AuditViewerError):
    """The user cancelled a verification before it reached the end of the store."""


@dataclass(frozen=True, slots=True)
class IntegrityProblem:
    """The first entry whose stored hashes do not match its text or its place in the chain."""

    seq: int
    entry_key: str
    reason: str

    def __str__(self) -> str:
        key = f" (id {self.entry_key})" if self.entry_key else ""
        return f"entry seq {self.seq}{key}: {self.reason}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify_store`."""

    entries: int
    last_seq: int
    chain_head: str | None
    problem: IntegrityProblem | None

    @property
    def ok(self) -> bool:
        """Whether every entry checked out."""
        return self.problem is None


def verify_store(
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VerifyReport:
    """Recomputes every raw hash and the chain, in one snapshot; stops at the first mismatch.

    Raises :class:`VerifyCancelled` when ``cancel`` is set and :class:`StoreError` when the
    store cannot be read.
    """
    try:
        with store.snapshot() as connection:
            return verify_chain(connection, str(store.path), progress=progress, cancel=cancel)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{store.path}: cannot read the store ({exc})") from None


def verify_chain(
    connection: sqlite3.Connection,
    location: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VerifyReport:
    """:func:`verify_store` inside the caller's read transaction on ``connection``.

    Raises :class:`VerifyCancelled` when ``cancel`` is set, and :class:`sqlite3.DatabaseError`
    when the texts cannot be read.
    """
    checked = 0
    expected_seq = 1
    chain = GENESIS_CHAIN
    total = int(connection.execute("SELECT count(*) FROM entry_texts").fetchone()[0])
    # The raw text as stored bytes: hashing needs no decoding, and bytes that are not
    # UTF-8 (an edit outside the app) are hashed as they are instead of failing.
    cursor = connection.execute(
        "SELECT seq, entry_key, CAST(raw AS BLOB), raw_sha256, chain_sha256 "
        "FROM entry_texts ORDER BY seq"
    )
    while rows := cursor.fetchmany(FETCH_ROWS):
        if cancel is not None and cancel.cancelled:
            raise VerifyCancelled(f"{location}: verification cancelled")
        for seq, key, raw, raw_sha256, chain_sha256 in rows:
            problem = _check(seq, key, raw, raw_sha256, chain_sha256, expected_seq, chain)
            if problem is not None:
                return VerifyReport(checked, seq - 1, chain.hex() if checked else None, problem)
            chain = bytes(chain_sha256)
            expected_seq = seq + 1
            checked += 1
        if progress is not None:
            progress(Progress(checked, total, checked, phase="verify"))
    return VerifyReport(checked, expected_seq - 1, chain.hex() if checked else None, None)


def _check(
    seq: int,
    key: str,
    raw: bytes | None,
    raw_sha256: bytes,
    chain_sha256: bytes,
    expected_seq: int,
    previous_chain: bytes,
) -> IntegrityProblem | None:
    if seq != expected_seq:
        missing = (
            f"seq {expected_seq}"
            if seq == expected_seq + 1
            else (f"seqs {expected_seq}..{seq - 1}")
        )
        return IntegrityProblem(seq, key, f"{missing} missing before it (entries removed)")
    digest = hashlib.sha256(raw or b"").digest()
    if digest != bytes(raw_sha256):
        return IntegrityProblem(
            seq,
            key,
            f"its text does not match its SHA-256 (stored {bytes(raw_sha256).hex()}, "
            f"text hashes to {digest.hex()})",
        )
    chained = hashlib.sha256(previous_chain + digest).digest()
    if chained != bytes(chain_sha256):
        return IntegrityProblem(
            seq,
            key,
            f"its chain hash does not follow from the entry before it (stored "
            f"{bytes(chain_sha256).hex()}, expected {chained.hex()})",
        )
    return None
