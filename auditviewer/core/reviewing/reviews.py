"""Reviews: a name, a scope, a reviewer, and at the end a sign-off that freezes them.

A review's scope is a query, an optional time range, and the entries that had arrived when it
started (seqs ``first_seq`` .. ``last_seq``): entries imported later never change what a review
covers, so its counts stay true. Signing records the statement, the counts by disposition, the
entries' chain head and count and the review events' chain head; from then on the store refuses
any change to the review (its row and its marks), through auditviewer and through raw SQL.
"""

from __future__ import annotations

import getpass
import sqlite3
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import orjson

from auditviewer.core.evidence.review_chain import events_head
from auditviewer.core.querying.columns import BoolArray, Columns, Positions, columns
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import format_moment, parse_query
from auditviewer.core.records import now_micros
from auditviewer.core.reviewing.errors import ReviewError, ReviewNotFound, ReviewSigned
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody_log import (
    REVIEW_SIGN_OFF,
    entry_head,
    has_custody_log,
    record_custody,
)
from auditviewer.core.store.schema_reviews import DISPOSITIONS
from auditviewer.core.store.tables import has_table
from auditviewer.core.timestamps import iso_utc

MAX_NAME: Final = 200


def os_user() -> str:
    """The name of the operating system's user running auditviewer."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass(frozen=True, slots=True)
class DispositionCounts:
    """How many entries of a scope have each disposition."""

    unreviewed: int = 0
    ok: int = 0
    flagged: int = 0
    follow_up: int = 0

    @property
    def total(self) -> int:
        """Every entry of the scope."""
        return self.unreviewed + self.ok + self.flagged + self.follow_up

    @property
    def reviewed(self) -> int:
        """The entries marked ok, flagged or follow-up."""
        return self.ok + self.flagged + self.follow_up

    def by_disposition(self) -> dict[str, int]:
        """The counts under the dispositions' names (``follow-up`` with its hyphen)."""
        return dict(
            zip(DISPOSITIONS, (self.unreviewed, self.ok, self.flagged, self.follow_up), strict=True)
        )

    @classmethod
    def of(cls, counted: dict[str, int]) -> DispositionCounts:
        """The counts from :meth:`by_disposition`'s mapping."""
        return cls(*(int(counted.get(name, 0)) for name in DISPOSITIONS))

    def __str__(self) -> str:
        return (
            f"{self.reviewed:,} of {self.total:,} reviewed, {self.flagged:,} flagged, "
            f"{self.follow_up:,} follow-up"
        )


@dataclass(frozen=True, slots=True)
class Signature:
    """What a review recorded when it was signed."""

    signed_utc: int
    signed_by: str
    statement: str
    counts: DispositionCounts
    entries_count: int
    entries_last_seq: int
    entries_head: str | None
    events_count: int
    events_head: str | None


@dataclass(frozen=True, slots=True)
class Review:
    """One review: its scope, who reviews, and its signature once signed."""

    id: int
    name: str
    query: str
    after_utc: int | None
    before_utc: int | None
    first_seq: int
    last_seq: int
    reviewer: str
    os_user: str
    started_utc: int
    signature: Signature | None

    @property
    def signed(self) -> bool:
        """Whether the review is signed (and so frozen)."""
        return self.signature is not None

    def scope_filter(self) -> Filter:
        """The query and the time range as one filter (the seq range is not part of it)."""
        flt = parse_query(self.query)
        after = (
            max(v for v in (flt.after, self.after_utc) if v is not None)
            if (flt.after is not None or self.after_utc is not None)
            else None
        )
        before = (
            min(v for v in (flt.before, self.before_utc) if v is not None)
            if (flt.before is not None or self.before_utc is not None)
            else None
        )
        return replace(flt, after=after, before=before)

    def scope_text(self) -> str:
        """The scope in words: the query, the time range and the entries it covers."""
        parts = [f"query {self.query!r}" if self.query.strip() else "every entry"]
        if self.after_utc is not None:
            parts.append(f"from {format_moment(self.after_utc)}")
        if self.before_utc is not None:
            parts.append(f"before {format_moment(self.before_utc)}")
        parts.append(f"among entries seq {self.first_seq:,} to {self.last_seq:,}")
        return ", ".join(parts)

    def label(self) -> str:
        """``review 3 ("Daily 2024-09-01")`` for sentences."""
        return f"review {self.id} ({self.name!r})"


_COLUMNS: Final = (
    "id, name, query, after_utc, before_utc, first_seq, last_seq, reviewer, os_user, "
    "started_utc, signed_utc, signed_by, statement, counts, entries_count, entries_last_seq, "
    "entries_head, events_count, events_head"
)


def _review(row: tuple[object, ...]) -> Review:
    (
        rid,
        name,
        query,
        after,
        before,
        first,
        last,
        reviewer,
        user,
        started,
        signed_utc,
        signed_by,
        statement,
        counts,
        entries_count,
        entries_last,
        entries_head,
        events_count,
        events_head_hex,
    ) = row
    signature = None
    if signed_utc is not None:
        signature = Signature(
            signed_utc=int(str(signed_utc)),
            signed_by=str(signed_by),
            statement=str(statement),
            counts=DispositionCounts.of(orjson.loads(str(counts))),
            entries_count=int(str(entries_count)),
            entries_last_seq=int(str(entries_last)),
            entries_head=None if entries_head is None else str(entries_head),
            events_count=int(str(events_count)),
            events_head=None if events_head_hex is None else str(events_head_hex),
        )
    return Review(
        id=int(str(rid)),
        name=str(name),
        query=str(query),
        after_utc=None if after is None else int(str(after)),
        before_utc=None if before is None else int(str(before)),
        first_seq=int(str(first)),
        last_seq=int(str(last)),
        reviewer=str(reviewer),
        os_user=str(user),
        started_utc=int(str(started)),
        signature=signature,
    )


def has_reviews(connection: sqlite3.Connection) -> bool:
    """Whether the store has the review tables (a read-only older store may not)."""
    return has_table(connection, "reviews")


def read_review(connection: sqlite3.Connection, location: object, review_id: int) -> Review:
    """The review ``review_id`` read on ``connection``; :class:`ReviewNotFound` if none."""
    row = None
    if has_reviews(connection):
        row = connection.execute(
            f"SELECT {_COLUMNS} FROM reviews WHERE id = ?",  # noqa: S608 (constant names)
            (review_id,),
        ).fetchone()
    if row is None:
        raise ReviewNotFound(
            f"{location}: there is no review {review_id}; auditviewer review list shows them"
        )
    return _review(row)


def get_review(store: Store, review_id: int) -> Review:
    """The review ``review_id``; raises :class:`ReviewNotFound`."""
    with store.snapshot() as connection:
        return read_review(connection, store.path, review_id)


def list_reviews(store: Store) -> list[Review]:
    """Every review, oldest first."""
    with store.snapshot() as connection:
        return _all(connection)


def _clean(value: str, what: str, location: object, limit: int = MAX_NAME) -> str:
    text = " ".join(value.split())
    if not text:
        raise ReviewError(f"{location}: a review needs {what}; nothing was changed")
    if len(text) > limit:
        raise ReviewError(
            f"{location}: {what} is longer than {limit:,} characters; nothing was changed"
        )
    return text


def _last_seq(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT coalesce(max(seq), 0) FROM entries").fetchone()[0])


def start_review(
    store: Store,
    name: str,
    *,
    reviewer: str,
    query: str = "",
    after_utc: int | None = None,
    before_utc: int | None = None,
    first_seq: int = 1,
) -> Review:
    """Starts a review of the entries stored now (from ``first_seq``) that ``query`` and the
    time range match. Raises :class:`QueryError` for a malformed query and
    :class:`ReviewError` when there is nothing to review."""
    name = _clean(name, "a name", store.path)
    reviewer = _clean(reviewer, "a reviewer's name", store.path)
    parse_query(query)
    with store.write(undone="no review was started") as connection:
        last_seq = _last_seq(connection)
        if last_seq < first_seq:
            since = f" after entry seq {first_seq - 1:,}" if first_seq > 1 else ""
            raise ReviewError(
                f"{store.path}: no entries arrived{since}; there is nothing to review yet"
            )
        cursor = connection.execute(
            "INSERT INTO reviews (name, query, after_utc, before_utc, first_seq, last_seq, "
            "reviewer, os_user, started_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                query.strip(),
                after_utc,
                before_utc,
                first_seq,
                last_seq,
                reviewer,
                os_user(),
                now_micros(),
            ),
        )
        review_id = int(cursor.lastrowid or 0)
        return read_review(connection, store.path, review_id)


@dataclass(frozen=True, slots=True)
class DailyScope:
    """The entries that arrived since the last signed review: seqs ``first_seq`` and up."""

    first_seq: int
    last_seq: int
    after_review: Review | None


def next_daily_scope(store: Store) -> DailyScope:
    """What the next daily review covers: every entry stored after the last signed review's
    scope (every entry when no review is signed yet)."""
    with store.snapshot() as connection:
        last_seq = _last_seq(connection)
        signed = [r for r in _all(connection) if r.signed]
    previous = max(signed, key=lambda r: (r.last_seq, r.id)) if signed else None
    first = previous.last_seq + 1 if previous is not None else 1
    return DailyScope(first, last_seq, previous)


def start_daily_review(
    store: Store, *, reviewer: str, name: str | None = None, query: str = ""
) -> Review:
    """Starts the review of what arrived since the last signed review."""
    scope = next_daily_scope(store)
    title = name or f"Daily review {iso_utc(now_micros())[:10]}"
    return start_review(store, title, reviewer=reviewer, query=query, first_seq=scope.first_seq)


def _all(connection: sqlite3.Connection) -> list[Review]:
    if not has_reviews(connection):
        return []
    return [
        _review(row)
        for row in connection.execute(f"SELECT {_COLUMNS} FROM reviews ORDER BY id")  # noqa: S608
    ]


def scope_positions(snapshot: Columns, review: Review) -> Positions:
    """The positions in ``snapshot`` of the entries in the review's scope, in seq order."""
    mask = snapshot.mask(review.scope_filter())
    low = int(np.searchsorted(snapshot.seq, review.first_seq, side="left"))
    high = int(np.searchsorted(snapshot.seq, review.last_seq, side="right"))
    if mask is None:
        return np.arange(low, high, dtype=np.intp)
    return np.flatnonzero(mask[low:high]) + low


def scope_mask(snapshot: Columns, review: Review) -> BoolArray:
    """Which entries of ``snapshot`` are in the review's scope."""
    inside = np.zeros(snapshot.size, dtype=np.bool_)
    inside[scope_positions(snapshot, review)] = True
    return inside


def count_dispositions(
    connection: sqlite3.Connection, snapshot: Columns, review: Review
) -> DispositionCounts:
    """The review's counts by disposition over its scope, its marks read on ``connection``."""
    inside = scope_mask(snapshot, review)
    total = int(np.count_nonzero(inside))
    counted = dict.fromkeys(DISPOSITIONS, 0)
    rows = connection.execute(
        "SELECT seq, disposition FROM review_marks WHERE review_id = ? AND disposition != ?",
        (review.id, DISPOSITIONS[0]),
    ).fetchall()
    if rows:
        seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        kinds = np.asarray([DISPOSITIONS.index(r[1]) for r in rows], dtype=np.int64)
        index = np.clip(np.searchsorted(snapshot.seq, seqs), 0, max(snapshot.size - 1, 0))
        present = snapshot.seq[index] == seqs if snapshot.size else np.zeros(0, dtype=np.bool_)
        kept = present.copy()
        kept[present] = inside[index[present]]
        per_kind = np.bincount(kinds[kept], minlength=len(DISPOSITIONS))
        for position, name in enumerate(DISPOSITIONS):
            counted[name] = int(per_kind[position])
    counted[DISPOSITIONS[0]] = total - sum(counted[name] for name in DISPOSITIONS[1:])
    return DispositionCounts.of(counted)


def review_progress(store: Store, review_id: int) -> DispositionCounts:
    """How far the review has got: its scope's entries counted by disposition
    ("312 of 4,020 reviewed, 7 flagged, 2 follow-up")."""
    snapshot = columns(store)
    with store.snapshot() as connection:
        review = read_review(connection, store.path, review_id)
        if review.signature is not None:
            return review.signature.counts
        return count_dispositions(connection, snapshot, review)


def refuse_if_signed(review: Review, location: object) -> None:
    """Raises :class:`ReviewSigned` for a signed review."""
    if review.signature is not None:
        raise ReviewSigned(
            f"{location}: {review.label()} was signed by {review.signature.signed_by} on "
            f"{iso_utc(review.signature.signed_utc)[:19].replace('T', ' ')} UTC and can no "
            "longer change; start a new review to mark these entries again"
        )


def pack_reference(review: Review, location: object) -> dict[str, object]:
    """What an evidence pack's manifest records of the signed review it belongs to, as plain
    JSON values: the review, its scope, its signature and the heads it was signed with.

    Raises :class:`ReviewError` for a review not yet signed: a pack may only claim a review
    whose record can no longer change.
    """
    signature = review.signature
    if signature is None:
        raise ReviewError(
            f"{location}: {review.label()} is not signed; a pack names only a signed review "
            f"(auditviewer review sign {review.id} signs it)"
        )
    return {
        "id": review.id,
        "name": review.name,
        "reviewer": review.reviewer,
        "started_utc": iso_utc(review.started_utc),
        "scope": {
            "query": review.query,
            "after_utc": iso_utc(review.after_utc) or None,
            "before_utc": iso_utc(review.before_utc) or None,
            "first_seq": review.first_seq,
            "last_seq": review.last_seq,
        },
        "signed_by": signature.signed_by,
        "signed_utc": iso_utc(signature.signed_utc),
        "statement": signature.statement,
        "counts": signature.counts.by_disposition(),
        "entries_count": signature.entries_count,
        "entries_last_seq": signature.entries_last_seq,
        "entries_chain_head": signature.entries_head,
        "review_events_count": signature.events_count,
        "review_events_chain_head": signature.events_head,
    }


def chain_heads(connection: sqlite3.Connection) -> tuple[int, int, str | None, int, str | None]:
    """What ties a review to the store now: the entries' count, last seq and chain head, and
    the review events' count and chain head (hex; None when there are none)."""
    count = int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
    head = entry_head(connection)
    events, events_chain = events_head(connection)
    return count, head.seq, head.sha256, events, events_chain.hex() if events else None


def sign_review(store: Store, review_id: int, *, by: str, statement: str) -> Review:
    """Signs the review with ``statement``: records the counts and the chain heads, and freezes
    it. Raises :class:`ReviewSigned` when it is signed already."""
    by = _clean(by, "the name of who signs", store.path)
    statement = _clean(statement, "a statement", store.path, limit=10_000)
    snapshot = columns(store)
    with store.write(undone="the review was not signed") as connection:
        review = read_review(connection, store.path, review_id)
        refuse_if_signed(review, store.path)
        counts = count_dispositions(connection, snapshot, review)
        heads = chain_heads(connection)
        connection.execute(
            "UPDATE reviews SET signed_utc = ?, signed_by = ?, statement = ?, counts = ?, "
            "scope_entries = ?, entries_count = ?, entries_last_seq = ?, entries_head = ?, "
            "events_count = ?, events_head = ? WHERE id = ?",
            (
                now_micros(),
                by,
                statement,
                orjson.dumps(counts.by_disposition()).decode(),
                counts.total,
                *heads,
                review_id,
            ),
        )
        signed = read_review(connection, store.path, review_id)
        if has_custody_log(connection):
            record_custody(
                connection,
                REVIEW_SIGN_OFF,
                {
                    "review_id": review_id,
                    "name": signed.name,
                    "signed_by": by,
                    "counts": counts.by_disposition(),
                    "events": heads[3],
                    "events_head": heads[4],
                },
            )
        return signed
