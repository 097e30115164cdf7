"""The review events' hash chain: how an event is hashed and chained, and its check.

An event is hashed as the entries are: its *canonical text* (the JSON object of its fields,
keys sorted, UTF-8, no white space) has a SHA-256, and its chain hash is the SHA-256 of the
previous event's chain hash followed by its own hash (the first event chains from 32 zero
bytes). Recomputing both in id order finds an edited field, an edited hash, and an event
removed from or inserted into the sequence. The check also compares the current marks
(``review_marks``, ``entry_marks``), which are derived, with the latest events.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import orjson

from auditviewer.core.evidence.hash_chain import GENESIS_CHAIN
from auditviewer.core.store.tables import has_table

_FETCH_ROWS: Final = 5000

EVENT_COLUMNS: Final = (
    "id, review_id, seq, disposition, note, tags, reviewer, os_user, created_utc, "
    "raw_sha256, chain_sha256"
)


def event_text(
    event_id: int,
    review_id: int,
    seq: int,
    disposition: str,
    note: str,
    tags: Sequence[str],
    reviewer: str,
    os_user: str,
    created_utc: int,
) -> bytes:
    """The canonical text of one review event, which its SHA-256 is taken of."""
    return orjson.dumps(
        {
            "created_utc": created_utc,
            "disposition": disposition,
            "id": event_id,
            "note": note,
            "os_user": os_user,
            "review": review_id,
            "reviewer": reviewer,
            "seq": seq,
            "tags": list(tags),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def event_hashes(text: bytes, previous_chain: bytes) -> tuple[bytes, bytes]:
    """(raw SHA-256, chain SHA-256) of an event's canonical text after ``previous_chain``."""
    digest = hashlib.sha256(text).digest()
    return digest, hashlib.sha256(previous_chain + digest).digest()


def events_head(connection: sqlite3.Connection) -> tuple[int, bytes]:
    """(id, chain hash) of the last review event; (0, genesis) when there is none."""
    row = connection.execute(
        "SELECT id, chain_sha256 FROM review_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (0, GENESIS_CHAIN) if row is None else (int(row[0]), bytes(row[1]))


@dataclass(frozen=True, slots=True)
class ReviewChainReport:
    """What :func:`verify_review_chain` found: events checked, the head, the first problem."""

    events: int
    chain_head: str | None
    problem: str | None

    @property
    def ok(self) -> bool:
        """Whether every event and every current mark checked out."""
        return self.problem is None


def has_review_tables(connection: sqlite3.Connection) -> bool:
    """Whether the store holds the review tables (a read-only store of an older schema may
    not)."""
    return has_table(connection, "review_events")


def verify_review_chain(connection: sqlite3.Connection) -> ReviewChainReport:
    """Recomputes every review event's hashes in id order, then compares the current marks
    with the latest events; stops at the first problem. Reads inside the caller's transaction.
    """
    if not has_review_tables(connection):
        return ReviewChainReport(0, None, None)
    chain = GENESIS_CHAIN
    checked = 0
    expected_id = 1
    cursor = connection.execute(f"SELECT {EVENT_COLUMNS} FROM review_events ORDER BY id")  # noqa: S608
    while rows := cursor.fetchmany(_FETCH_ROWS):
        for row in rows:
            problem = _event_problem(row, expected_id, chain)
            if problem is not None:
                return ReviewChainReport(checked, chain.hex() if checked else None, problem)
            chain = bytes(row[10])
            expected_id = int(row[0]) + 1
            checked += 1
    head = chain.hex() if checked else None
    return ReviewChainReport(checked, head, _marks_problem(connection))


def _event_problem(row: tuple[object, ...], expected_id: int, chain: bytes) -> str | None:
    event_id, review_id, seq, disposition, note, tags, reviewer, os_user, created = row[:9]
    assert isinstance(event_id, int)
    if event_id != expected_id:
        return (
            f"review event {event_id:,}: the events before it from {expected_id:,} are "
            "missing (events removed)"
        )
    try:
        tag_list = orjson.loads(str(tags))
    except orjson.JSONDecodeError:
        return f"review event {event_id:,}: its tags are not readable"
    text = event_text(
        event_id,
        int(str(review_id)),
        int(str(seq)),
        str(disposition),
        str(note),
        tag_list,
        str(reviewer),
        str(os_user),
        int(str(created)),
    )
    digest, chained = event_hashes(text, chain)
    if digest != bytes(row[9]):  # type: ignore[call-overload]
        return (
            f"review event {event_id:,} (entry seq {seq}): its fields do not match its "
            "SHA-256 (the event was edited)"
        )
    if chained != bytes(row[10]):  # type: ignore[call-overload]
        return (
            f"review event {event_id:,} (entry seq {seq}): its chain hash does not follow "
            "from the event before it"
        )
    return None


_LATEST_PER_REVIEW: Final = """
    SELECT review_id, seq, id, disposition, note, tags, reviewer, os_user, created_utc
    FROM (SELECT *, row_number() OVER (PARTITION BY review_id, seq ORDER BY id DESC) AS newest
          FROM review_events)
    WHERE newest = 1 ORDER BY review_id, seq
"""
_LATEST_PER_ENTRY: Final = """
    SELECT seq, review_id, id, disposition, note, tags, reviewer, os_user, created_utc
    FROM (SELECT *, row_number() OVER (PARTITION BY seq ORDER BY id DESC) AS newest
          FROM review_events)
    WHERE newest = 1 ORDER BY seq
"""


def _marks_problem(connection: sqlite3.Connection) -> str | None:
    """Where the current marks disagree with the latest events, if they do."""
    for label, latest_sql, marks_sql in (
        (
            "within its review",
            _LATEST_PER_REVIEW,
            "SELECT review_id, seq, event_id, disposition, note, tags, reviewer, os_user, "
            "created_utc FROM review_marks ORDER BY review_id, seq",
        ),
        (
            "across reviews",
            _LATEST_PER_ENTRY,
            "SELECT seq, review_id, event_id, disposition, note, tags, reviewer, os_user, "
            "created_utc FROM entry_marks ORDER BY seq",
        ),
    ):
        latest = connection.execute(latest_sql)
        marks = connection.execute(marks_sql)
        while True:
            expected, found = latest.fetchone(), marks.fetchone()
            if expected is None and found is None:
                break
            if expected != found:
                seq = (expected or found)[1 if label == "within its review" else 0]
                return (
                    f"the current review mark of entry seq {seq} {label} does not match its "
                    "latest review event (the marks were edited outside auditviewer)"
                )
    return None
