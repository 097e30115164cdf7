"""Schema step: reviews, their marks on entries, and saved views; the entries are not touched.

- ``reviews``: one review — a name, its scope (a query, a time range and the seqs present when
  it started), the reviewer, start and sign-off; once signed (``signed_utc`` set) its row can no
  longer change and no event can be added to it.
- ``review_events``: every change of a mark — a disposition, a note and tags given to one entry
  within one review, by whom and when. Append-only and hash-chained like the entries: each
  event's ``raw_sha256`` is the SHA-256 of its canonical text (see
  :mod:`auditviewer.core.evidence.review_chain`), ``chain_sha256`` the SHA-256 of the previous
  event's chain hash followed by its own.
- ``review_marks``: the current mark of each entry within each review (the latest event),
  and ``entry_marks``: each entry's current mark whatever the review (its latest event in any
  review). Both are derived, brought up to date in the transaction that adds the events
  (:func:`keep_marks`); ``verify`` compares them with the events.
- ``saved_views``: named queries with their sort, visible columns and time zone choice.
"""

from __future__ import annotations

import sqlite3
from typing import Final

DISPOSITIONS: Final = ("unreviewed", "ok", "flagged", "follow-up")


STEP: Final[tuple[str, ...]] = (
    """
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        query TEXT NOT NULL DEFAULT '',
        after_utc INTEGER,
        before_utc INTEGER,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        reviewer TEXT NOT NULL,
        os_user TEXT NOT NULL,
        started_utc INTEGER NOT NULL,
        signed_utc INTEGER,
        signed_by TEXT,
        statement TEXT,
        scope_entries INTEGER,
        counts TEXT,
        entries_count INTEGER,
        entries_last_seq INTEGER,
        entries_head TEXT,
        events_count INTEGER,
        events_head TEXT
    )
    """,
    """
    CREATE TABLE review_events (
        id INTEGER PRIMARY KEY,
        review_id INTEGER NOT NULL REFERENCES reviews(id),
        seq INTEGER NOT NULL,
        disposition TEXT NOT NULL
            CHECK (disposition IN ('unreviewed', 'ok', 'flagged', 'follow-up')),
        note TEXT NOT NULL,
        tags TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        os_user TEXT NOT NULL,
        created_utc INTEGER NOT NULL,
        raw_sha256 BLOB NOT NULL,
        chain_sha256 BLOB NOT NULL
    )
    """,
    "CREATE INDEX review_events_entry ON review_events (seq)",
    """
    CREATE TABLE review_marks (
        review_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        disposition TEXT NOT NULL,
        note TEXT NOT NULL,
        tags TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        os_user TEXT NOT NULL,
        created_utc INTEGER NOT NULL,
        PRIMARY KEY (review_id, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE entry_marks (
        seq INTEGER PRIMARY KEY,
        review_id INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        disposition TEXT NOT NULL,
        note TEXT NOT NULL,
        tags TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        os_user TEXT NOT NULL,
        created_utc INTEGER NOT NULL
    )
    """,
    "CREATE INDEX entry_marks_disposition ON entry_marks (disposition)",
    """
    CREATE TABLE saved_views (
        name TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        sort_column TEXT NOT NULL,
        sort_descending INTEGER NOT NULL,
        columns TEXT NOT NULL,
        utc INTEGER NOT NULL,
        saved_utc INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TRIGGER review_events_refuse_update BEFORE UPDATE ON review_events
    BEGIN SELECT RAISE(ABORT, 'review events are append-only: update refused'); END
    """,
    """
    CREATE TRIGGER review_events_refuse_delete BEFORE DELETE ON review_events
    BEGIN SELECT RAISE(ABORT, 'review events are append-only: delete refused'); END
    """,
    """
    CREATE TRIGGER review_events_refuse_signed BEFORE INSERT ON review_events
    WHEN (SELECT signed_utc FROM reviews WHERE id = NEW.review_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the review is signed: its marks cannot change'); END
    """,
    """
    CREATE TRIGGER reviews_refuse_update_when_signed BEFORE UPDATE ON reviews
    WHEN OLD.signed_utc IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the review is signed: it cannot change'); END
    """,
    """
    CREATE TRIGGER reviews_refuse_delete BEFORE DELETE ON reviews
    BEGIN SELECT RAISE(ABORT, 'reviews are kept: delete refused'); END
    """,
    """
    CREATE TRIGGER review_marks_refuse_update_when_signed BEFORE UPDATE ON review_marks
    WHEN (SELECT signed_utc FROM reviews WHERE id = OLD.review_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the review is signed: its marks cannot change'); END
    """,
    """
    CREATE TRIGGER review_marks_refuse_delete_when_signed BEFORE DELETE ON review_marks
    WHEN (SELECT signed_utc FROM reviews WHERE id = OLD.review_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the review is signed: its marks cannot change'); END
    """,
)


KEEP_MARKS: Final[tuple[str, ...]] = (
    """
    INSERT INTO review_marks (review_id, seq, event_id, disposition, note, tags, reviewer,
        os_user, created_utc)
    SELECT review_id, seq, id, disposition, note, tags, reviewer, os_user, created_utc
    FROM review_events WHERE id > ? ORDER BY review_id, seq, id
    ON CONFLICT (review_id, seq) DO UPDATE SET
        event_id = excluded.event_id, disposition = excluded.disposition, note = excluded.note,
        tags = excluded.tags, reviewer = excluded.reviewer, os_user = excluded.os_user,
        created_utc = excluded.created_utc
    """,
    """
    INSERT INTO entry_marks (seq, review_id, event_id, disposition, note, tags, reviewer,
        os_user, created_utc)
    SELECT seq, review_id, id, disposition, note, tags, reviewer, os_user, created_utc
    FROM review_events WHERE id > ? ORDER BY seq, id
    ON CONFLICT (seq) DO UPDATE SET
        review_id = excluded.review_id, event_id = excluded.event_id,
        disposition = excluded.disposition, note = excluded.note, tags = excluded.tags,
        reviewer = excluded.reviewer, os_user = excluded.os_user,
        created_utc = excluded.created_utc
    """,
)


def keep_marks(connection: sqlite3.Connection, after_event: int) -> None:
    """Brings the current marks up to date with the events after ``after_event``, inside the
    caller's transaction (the latest event of each review and entry wins)."""
    for statement in KEEP_MARKS:
        connection.execute(statement, (after_event,))
