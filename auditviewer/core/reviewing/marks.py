"""Marks: a disposition, a note and tags given to entries within a review, each change an event.

:func:`mark` records one event per entry, all in one transaction (ten thousand entries at once
take a fraction of a second); the store keeps each entry's current mark beside the events.
:func:`next_unreviewed` walks the review's scope in the table's order; :func:`history` lists
every event of an entry, in every review.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import orjson

from auditviewer.core.evidence.review_chain import event_hashes, event_text, events_head
from auditviewer.core.querying.columns import BoolArray, Columns, columns
from auditviewer.core.querying.filter import Sort
from auditviewer.core.querying.review_terms import marks_version
from auditviewer.core.records import now_micros
from auditviewer.core.reviewing.errors import ReviewError
from auditviewer.core.reviewing.reviews import (
    Review,
    has_reviews,
    os_user,
    read_review,
    refuse_if_signed,
    scope_mask,
)
from auditviewer.core.store.connection import Store
from auditviewer.core.store.schema_reviews import DISPOSITIONS, keep_marks

MAX_NOTE: Final = 20_000
MAX_TAG: Final = 200
MAX_TAGS: Final = 50
_ALIASES: Final = {"followup": "follow-up", "follow_up": "follow-up"}
_MARK_COLUMNS: Final = (
    "event_id, review_id, seq, disposition, note, tags, reviewer, os_user, created_utc"
)


@dataclass(frozen=True, slots=True)
class MarkEvent:
    """One mark given to one entry within one review: the event, or the entry's current mark."""

    event_id: int
    review_id: int
    seq: int
    disposition: str
    note: str
    tags: tuple[str, ...]
    reviewer: str
    os_user: str
    created_utc: int


def _event(row: Sequence[object]) -> MarkEvent:
    return MarkEvent(
        event_id=int(str(row[0])),
        review_id=int(str(row[1])),
        seq=int(str(row[2])),
        disposition=str(row[3]),
        note=str(row[4]),
        tags=tuple(orjson.loads(str(row[5]))),
        reviewer=str(row[6]),
        os_user=str(row[7]),
        created_utc=int(str(row[8])),
    )


def disposition_named(value: str) -> str:
    """The disposition ``value`` names (``follow_up`` and ``followup`` too); ValueError if none."""
    lowered = value.strip().lower()
    lowered = _ALIASES.get(lowered, lowered)
    if lowered not in DISPOSITIONS:
        raise ValueError(f"{value!r} is not a disposition; use {', '.join(DISPOSITIONS)}")
    return lowered


def clean_tags(tags: Iterable[str], location: object) -> tuple[str, ...]:
    """The tags as given, without surrounding white space, empty ones and repeats."""
    kept: dict[str, str] = {}
    for tag in tags:
        text = tag.strip()
        if not text:
            continue
        if len(text) > MAX_TAG:
            raise ReviewError(
                f"{location}: a tag is longer than {MAX_TAG} characters; nothing was marked"
            )
        kept.setdefault(text.casefold(), text)
    if len(kept) > MAX_TAGS:
        raise ReviewError(f"{location}: an entry takes at most {MAX_TAGS} tags; nothing was marked")
    return tuple(kept.values())


def _unique(seqs: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(s) for s in seqs))


def _check_in_scope(store: Store, review_id: int, seqs: list[int]) -> None:
    """Refuses seqs that are not stored entries or lie outside the review's scope."""
    snapshot = columns(store)
    wanted = np.asarray(seqs, dtype=np.int64)
    index = np.clip(np.searchsorted(snapshot.seq, wanted), 0, max(snapshot.size - 1, 0))
    present = (snapshot.seq[index] == wanted) if snapshot.size else np.zeros(len(seqs), bool)
    if not present.all():
        missing = seqs[int(np.flatnonzero(~present)[0])]
        raise ReviewError(f"{store.path}: there is no entry seq {missing}; nothing was marked")
    with store.snapshot() as connection:
        review = read_review(connection, store.path, review_id)
    refuse_if_signed(review, store.path)
    inside = scope_mask(snapshot, review)[index]
    if not inside.all():
        outside = seqs[int(np.flatnonzero(~inside)[0])]
        raise ReviewError(
            f"{store.path}: entry seq {outside} is outside the scope of {review.label()} "
            f"({review.scope_text()}); nothing was marked"
        )


def mark(
    store: Store,
    review_id: int,
    seqs: Iterable[int],
    disposition: str | None = None,
    *,
    note: str | None = None,
    tags: Iterable[str] | None = None,
    reviewer: str | None = None,
    add_tag: str | None = None,
) -> int:
    """Marks the entries ``seqs`` within the review, in one transaction; returns how many.

    ``disposition``, ``note`` and ``tags`` left as None keep each entry's current value in the
    review (so setting a note keeps the disposition); ``add_tag`` adds a tag to each entry's
    own tags. ``reviewer`` defaults to the review's.
    Raises :class:`ReviewSigned` for a signed review and :class:`ReviewError` for an entry
    outside the review's scope; then nothing is marked.
    """
    wanted = _unique(seqs)
    if not wanted:
        return 0
    chosen = None
    if disposition is not None:
        try:
            chosen = disposition_named(disposition)
        except ValueError as exc:
            raise ReviewError(f"{store.path}: {exc}; nothing was marked") from None
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(
            f"{store.path}: the note is longer than {MAX_NOTE:,} characters; nothing was marked"
        )
    tag_list = None if tags is None else clean_tags(tags, store.path)
    added = clean_tags([add_tag], store.path) if add_tag is not None else []
    _check_in_scope(store, review_id, wanted)
    with store.write(undone="nothing was marked") as connection:
        review = read_review(connection, store.path, review_id)
        refuse_if_signed(review, store.path)
        who = " ".join((reviewer or review.reviewer).split()) or review.reviewer
        current = (
            _kept_values(connection, review_id, wanted) if None in (chosen, note, tag_list) else {}
        )
        last_id, chain = events_head(connection)
        user = os_user()
        when = now_micros()
        rows = []
        # In seq order: the events' and the marks' indexes are then written in order.
        for offset, seq in enumerate(sorted(wanted), start=1):
            kept = current.get(seq, _UNMARKED)
            own_tags = tuple(tag_list) if tag_list is not None else kept[2]
            values = (
                chosen or kept[0],
                note if note is not None else kept[1],
                clean_tags((*own_tags, *added), store.path) if added else own_tags,
            )
            event_id = last_id + offset
            text = event_text(event_id, review_id, seq, *values, who, user, when)
            digest, chain = event_hashes(text, chain)
            rows.append(
                (
                    event_id,
                    review_id,
                    seq,
                    values[0],
                    values[1],
                    orjson.dumps(list(values[2])).decode(),
                    who,
                    user,
                    when,
                    digest,
                    chain,
                )
            )
        connection.executemany(
            "INSERT INTO review_events (id, review_id, seq, disposition, note, tags, reviewer, "
            "os_user, created_utc, raw_sha256, chain_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)",
            rows,
        )
        keep_marks(connection, last_id)
    return len(rows)


_UNMARKED: Final[tuple[str, str, tuple[str, ...]]] = (DISPOSITIONS[0], "", ())


def _kept_values(
    connection: sqlite3.Connection, review_id: int, seqs: list[int]
) -> dict[int, tuple[str, str, tuple[str, ...]]]:
    """(disposition, note, tags) of the entries' current marks within the review."""
    return {
        seq: (mark.disposition, mark.note, mark.tags)
        for seq, mark in _review_marks(connection, review_id, seqs).items()
    }


def _review_marks(
    connection: sqlite3.Connection, review_id: int, seqs: list[int]
) -> dict[int, MarkEvent]:
    rows = connection.execute(
        f"SELECT {_MARK_COLUMNS} FROM review_marks "  # noqa: S608 (constant names)
        "WHERE review_id = ? AND seq IN (SELECT value FROM json_each(?))",
        (review_id, orjson.dumps(seqs).decode()),
    ).fetchall()
    return {int(row[2]): _event(row) for row in rows}


def current_marks(
    store: Store, seqs: Iterable[int], review_id: int | None = None
) -> dict[int, MarkEvent]:
    """The current marks of the given entries: within ``review_id``, or (None) each entry's
    latest in any review. Entries without a mark are left out."""
    wanted = _unique(seqs)
    with store.snapshot() as connection:
        if not wanted or not has_reviews(connection):
            return {}
        if review_id is not None:
            return _review_marks(connection, review_id, wanted)
        rows = connection.execute(
            f"SELECT {_MARK_COLUMNS} FROM entry_marks "  # noqa: S608 (constant names)
            "WHERE seq IN (SELECT value FROM json_each(?))",
            (orjson.dumps(wanted).decode(),),
        ).fetchall()
    return {int(row[2]): _event(row) for row in rows}


def review_marks(store: Store, review_id: int, dispositions: Sequence[str] = ()) -> list[MarkEvent]:
    """The current marks of a review (those with one of ``dispositions``, if given), by seq."""
    with store.snapshot() as connection:
        read_review(connection, store.path, review_id)
        rows = connection.execute(
            f"SELECT {_MARK_COLUMNS} FROM review_marks WHERE review_id = ? "  # noqa: S608
            "AND (? = '[]' OR disposition IN (SELECT value FROM json_each(?))) ORDER BY seq",
            (
                review_id,
                orjson.dumps(list(dispositions)).decode(),
                orjson.dumps(list(dispositions)).decode(),
            ),
        ).fetchall()
    return [_event(row) for row in rows]


def history(store: Store, seq: int) -> list[MarkEvent]:
    """Every mark event of an entry, in every review, oldest first."""
    with store.snapshot() as connection:
        if not has_reviews(connection):
            return []
        rows = connection.execute(
            "SELECT id, review_id, seq, disposition, note, tags, reviewer, os_user, created_utc "
            "FROM review_events WHERE seq = ? ORDER BY id",
            (seq,),
        ).fetchall()
    return [_event(row) for row in rows]


def next_unreviewed(
    store: Store,
    review_id: int,
    *,
    after_seq: int | None = None,
    sort: Sort | None = None,
    backwards: bool = False,
) -> int | None:
    """The seq of the next (or, ``backwards``, the previous) entry of the review's scope that is
    still unreviewed, in ``sort``'s order (the table's; newest first by default), after the
    entry ``after_seq`` (from the start of the order when None or outside the scope). None when
    there is none left that way."""
    snapshot = columns(store)
    with store.snapshot() as connection:
        review = read_review(connection, store.path, review_id)
        open_ = _open_entries(store, connection, snapshot, review)
    order = snapshot.order(sort or Sort())
    keep = open_[order]
    anchor = None
    if after_seq is not None:
        at = snapshot.positions_of(np.asarray([after_seq], dtype=np.int64))
        if at.size:
            anchor = int(np.flatnonzero(order == at[0])[0])
    if backwards:
        window = keep[:anchor] if anchor is not None else keep
        if not window.any():
            return None
        found = len(window) - 1 - int(np.argmax(window[::-1]))
    else:
        start = anchor + 1 if anchor is not None else 0
        window = keep[start:]
        if not window.any():
            return None
        found = start + int(np.argmax(window))
    return int(snapshot.seq[order[found]])


@dataclass
class _OpenEntries:
    """The entries of a review's scope still unreviewed, as of an event, in a column snapshot."""

    snapshot: Columns
    last_event: int
    scope: BoolArray
    open: BoolArray


_OPEN: weakref.WeakKeyDictionary[Store, dict[int, _OpenEntries]] = weakref.WeakKeyDictionary()
_OPEN_LOCK = threading.Lock()


def _open_entries(
    store: Store, connection: sqlite3.Connection, snapshot: Columns, review: Review
) -> BoolArray:
    """Which entries of the snapshot are in the review's scope and unreviewed. Kept between
    calls and brought up to date with the events added since, so that stepping through a
    review reads only what changed."""
    head = marks_version(connection)
    with _OPEN_LOCK:
        known = _OPEN.get(store, {}).get(review.id)
    if known is None or known.snapshot is not snapshot:
        scope = scope_mask(snapshot, review)
        open_ = scope.copy()
        rows = connection.execute(
            "SELECT seq FROM review_marks WHERE review_id = ? AND disposition != ?",
            (review.id, DISPOSITIONS[0]),
        ).fetchall()
        if rows:
            done = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            open_[snapshot.positions_of(done)] = False
    elif known.last_event == head:
        return known.open
    else:
        scope, open_ = known.scope, known.open.copy()
        rows = connection.execute(
            "SELECT seq, disposition = ? FROM review_events WHERE id > ? AND review_id = ? "
            "ORDER BY id",
            (DISPOSITIONS[0], known.last_event, review.id),
        ).fetchall()
        if rows:
            # The latest event of each entry decides: the reversed list's first occurrence.
            seqs = np.fromiter((r[0] for r in reversed(rows)), dtype=np.int64, count=len(rows))
            unreviewed = np.fromiter((bool(r[1]) for r in reversed(rows)), bool, len(rows))
            seqs, first = np.unique(seqs, return_index=True)
            positions = snapshot.positions_of(seqs)
            open_[positions] = unreviewed[first] & scope[positions]
    with _OPEN_LOCK:
        _OPEN.setdefault(store, {})[review.id] = _OpenEntries(snapshot, head, scope, open_)
    return open_
