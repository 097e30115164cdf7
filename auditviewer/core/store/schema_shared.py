"""Schema step: which earlier source each import or sync run re-delivered entries from.

When a source brings an entry the store already holds, the entry is not stored again; this
step counts such shared entries per pair of sources (``source_shared``): the later source, the
earlier source whose stored entry it matched, and how many. Coverage reads it to prove two
sources continuous by the entries they share. The counts grow while a source runs and are
frozen, as its record is, once it finishes; no row is ever deleted.

Sources imported before this step have no counts (only their total of duplicates):
``meta.shared_counted_from`` is the first source id whose shared entries are counted.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from auditviewer.core.store.tables import has_table

SHARED_FROM_KEY: Final = "shared_counted_from"

TABLES: Final[tuple[str, ...]] = (
    """
    CREATE TABLE source_shared (
        source_id INTEGER NOT NULL REFERENCES sources(id),
        earlier_source_id INTEGER NOT NULL REFERENCES sources(id),
        entries INTEGER NOT NULL,
        PRIMARY KEY (source_id, earlier_source_id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TRIGGER source_shared_refuse_delete BEFORE DELETE ON source_shared
    BEGIN SELECT RAISE(ABORT, 'shared entry counts are append-only: delete refused'); END
    """,
    """
    CREATE TRIGGER source_shared_refuse_update_when_finished BEFORE UPDATE ON source_shared
    WHEN (SELECT finished_utc FROM sources WHERE id = OLD.source_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a finished source''s shared entry counts cannot be changed'); END
    """,
)


def add_shared_counts(connection: sqlite3.Connection) -> None:
    """Creates the shared entry counts; sources from now on are counted. In the caller's
    transaction."""
    for statement in TABLES:
        connection.execute(statement)
    next_source = int(
        connection.execute("SELECT coalesce(max(id), 0) + 1 FROM sources").fetchone()[0]
    )
    connection.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (SHARED_FROM_KEY, str(next_source))
    )


def has_shared_counts(connection: sqlite3.Connection) -> bool:
    """Whether the store's schema has the shared entry counts (an older read-only one may not)."""
    return has_table(connection, "source_shared")


def shared_counted_from(connection: sqlite3.Connection) -> int | None:
    """The first source id whose shared entries are counted; None without the counts."""
    if not has_shared_counts(connection):
        return None
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (SHARED_FROM_KEY,)).fetchone()
    return int(row[0]) if row is not None else 1


def record_shared(connection: sqlite3.Connection, source_id: int, shared: dict[int, int]) -> None:
    """Adds ``shared`` (earlier source id -> entries re-delivered) to a running source's counts."""
    if not shared or not has_shared_counts(connection):
        return
    connection.executemany(
        "INSERT INTO source_shared (source_id, earlier_source_id, entries) VALUES (?, ?, ?) "
        "ON CONFLICT (source_id, earlier_source_id) DO UPDATE SET entries = entries + "
        "excluded.entries",
        [(source_id, earlier, count) for earlier, count in sorted(shared.items())],
    )
