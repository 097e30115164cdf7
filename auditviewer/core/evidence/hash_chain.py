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
from dataclasses import dataclass
from typing import Final

from auditviewer.core.errors import AuditViewerError, StoreError
from auditviewer.core.records import CancelToken, Progress, ProgressCallback
from auditviewer.core.store.connection import Store

GENESIS_CHAIN: Final = bytes(32)
FETCH_ROWS: Final = 5000


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
    # Count and sum of ``hash((entry_key, seq))`` over every entry when all checked out: what
    # the ``entry_texts_key`` index must hold (comparable within this process only).
    key_digest: tuple[int, int] | None = None

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

    Texts that cannot be read (a damaged page) are a problem at the first unreadable entry:
    the entries before it are checked. Raises :class:`VerifyCancelled` when ``cancel`` is set.
    """
    walk = _ChainWalk(connection)
    # max(seq), not count(*): the rowid tree answers it at once, without an index.
    total = int(connection.execute("SELECT coalesce(max(seq), 0) FROM entry_texts").fetchone()[0])
    try:
        cursor = connection.execute(_TEXTS_FROM, (1,))
        while rows := cursor.fetchmany(FETCH_ROWS):
            if cancel is not None and cancel.cancelled:
                raise VerifyCancelled(f"{location}: verification cancelled")
            for row in rows:
                if not walk.step(*row):
                    return walk.report()
            if progress is not None:
                progress(Progress(walk.checked, total, walk.checked, phase="verify"))
    except sqlite3.DatabaseError:
        # fetchmany drops the rows it read before the damage: go on one row at a time.
        try:
            for row in connection.execute(_TEXTS_FROM, (walk.expected_seq,)):
                if not walk.step(*row):
                    return walk.report()
        except sqlite3.DatabaseError as exc:
            walk.unreadable(str(exc))
    return walk.report()


# The raw text as stored bytes: hashing needs no decoding, and bytes that are not UTF-8 (an
# edit outside the app) are hashed as they are instead of failing.
_TEXTS_FROM: Final = (
    "SELECT seq, entry_key, CAST(raw AS BLOB), raw_sha256, chain_sha256 "
    "FROM entry_texts WHERE seq >= ? ORDER BY seq"
)


class _ChainWalk:
    """The hash chain recomputed entry by entry, up to the first problem."""

    def __init__(self, connection: sqlite3.Connection | None = None) -> None:
        self._connection = connection
        self.checked = 0
        self.expected_seq = 1
        self.chain = GENESIS_CHAIN
        self.problem: IntegrityProblem | None = None
        self.key_sum = 0

    def step(
        self, seq: int, key: str, raw: bytes | None, raw_sha256: bytes, chain_sha256: bytes
    ) -> bool:
        """Checks the next entry; False (and :attr:`problem` set) when it fails."""
        if seq < self.expected_seq:
            # Rows come back in seq order from an intact table: a damaged page misleads the read.
            self.unreadable(f"the table gave seq {seq:,} after seq {self.expected_seq - 1:,}")
            return False
        if seq > self.expected_seq and self._entries_hold(self.expected_seq, seq):
            # The texts skip seqs the entries table holds: the texts are damaged, not removed.
            self.unreadable(
                f"the texts table skips from seq {self.expected_seq - 1:,} to seq {seq:,}, "
                "though the entries table holds the seqs between"
            )
            return False
        self.problem = _check(
            seq, key, raw, raw_sha256, chain_sha256, self.expected_seq, self.chain
        )
        if self.problem is not None:
            return False
        self.chain = bytes(chain_sha256)
        self.expected_seq = seq + 1
        self.checked += 1
        self.key_sum += hash((key, seq))
        return True

    def _entries_hold(self, first: int, after: int) -> bool:
        """Whether the narrow entries table has a row with a seq in ``first..after-1``."""
        if self._connection is None:
            return False
        try:
            row = self._connection.execute(
                "SELECT 1 FROM entries WHERE seq >= ? AND seq < ? LIMIT 1", (first, after)
            ).fetchone()
        except (sqlite3.DatabaseError, OverflowError):
            return False
        return row is not None

    def unreadable(self, error: str) -> None:
        """The texts from the next expected entry on cannot be read."""
        self.problem = IntegrityProblem(
            self.expected_seq,
            "",
            f"its text, or a text after it, cannot be read ({error}); the entries before it "
            "are intact",
        )

    def report(self) -> VerifyReport:
        head = self.chain.hex() if self.checked else None
        digest = None if self.problem is not None else (self.checked, self.key_sum)
        return VerifyReport(self.checked, self.expected_seq - 1, head, self.problem, digest)


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
