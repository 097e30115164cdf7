"""The store's schema, versioned by ``PRAGMA user_version`` and migrated step by step.

Each step is a list of SQL statements (or a function); the steps a store lacks are applied
together in one transaction, and ``user_version`` is the number of steps applied. A store whose
version is newer than this program knows is refused rather than guessed at. Steps are never
edited once released: a change to the schema is a new step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

from auditviewer.core.errors import StoreError
from auditviewer.core.store.custody_log import MIGRATION, has_custody_log, record_custody
from auditviewer.core.store.schema_custody import add_custody_log
from auditviewer.core.store.schema_reviews import STEP as REVIEWS_STEP
from auditviewer.core.store.schema_shared import add_shared_counts
from auditviewer.core.store.schema_v2 import upgrade_to_v2

# Marks a SQLite file as an auditviewer store ("AVst").
APPLICATION_ID: Final = 0x41567374

_APPEND_ONLY = "SELECT RAISE(ABORT, '{table} are append-only: {verb} refused')"

_STEP_1: Final[tuple[str, ...]] = (
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('file', 'sync')),
        location TEXT NOT NULL,
        sha256 TEXT,
        size_bytes INTEGER,
        started_utc INTEGER NOT NULL,
        finished_utc INTEGER,
        parsed INTEGER NOT NULL DEFAULT 0,
        imported INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        conflicts INTEGER NOT NULL DEFAULT 0,
        quarantined INTEGER NOT NULL DEFAULT 0,
        first_created_utc INTEGER,
        last_created_utc INTEGER,
        detail TEXT
    )
    """,
    """
    CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        source_index INTEGER NOT NULL,
        source_line INTEGER,
        entry_key TEXT NOT NULL,
        raw TEXT NOT NULL,
        raw_sha256 BLOB NOT NULL,
        content_sha256 BLOB NOT NULL,
        chain_sha256 BLOB NOT NULL,
        created_utc INTEGER,
        time_naive INTEGER NOT NULL DEFAULT 0,
        action TEXT,
        action_group TEXT,
        actor_type TEXT NOT NULL,
        actor_label TEXT,
        actor_id TEXT,
        project TEXT,
        entity_type TEXT,
        entity_id TEXT,
        entity_name TEXT,
        ip TEXT,
        user_agent TEXT,
        quarantine_reason TEXT
    )
    """,
    "CREATE UNIQUE INDEX entries_identity ON entries (entry_key, content_sha256)",
    "CREATE INDEX entries_created ON entries (created_utc)",
    "CREATE INDEX entries_action ON entries (action, created_utc)",
    "CREATE INDEX entries_action_group ON entries (action_group, created_utc)",
    "CREATE INDEX entries_actor ON entries (actor_label, created_utc)",
    "CREATE INDEX entries_actor_type ON entries (actor_type, created_utc)",
    "CREATE INDEX entries_project ON entries (project, created_utc)",
    "CREATE INDEX entries_entity_type ON entries (entity_type, created_utc)",
    "CREATE INDEX entries_ip ON entries (ip, created_utc)",
    "CREATE INDEX entries_source ON entries (source_id)",
    """
    CREATE TABLE conflict_keys (
        entry_key TEXT PRIMARY KEY,
        first_source_id INTEGER NOT NULL REFERENCES sources(id)
    ) WITHOUT ROWID
    """,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # Values of the entries' JSON only: key names would match every row.
    """
    CREATE VIRTUAL TABLE entries_fts USING fts5(
        body, content='', tokenize='unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER entries_refuse_update BEFORE UPDATE ON entries
    BEGIN {_APPEND_ONLY.format(table="entries", verb="update")}; END
    """,
    f"""
    CREATE TRIGGER entries_refuse_delete BEFORE DELETE ON entries
    BEGIN {_APPEND_ONLY.format(table="entries", verb="delete")}; END
    """,
    f"""
    CREATE TRIGGER conflict_keys_refuse_update BEFORE UPDATE ON conflict_keys
    BEGIN {_APPEND_ONLY.format(table="conflict records", verb="update")}; END
    """,
    f"""
    CREATE TRIGGER conflict_keys_refuse_delete BEFORE DELETE ON conflict_keys
    BEGIN {_APPEND_ONLY.format(table="conflict records", verb="delete")}; END
    """,
    f"""
    CREATE TRIGGER sources_refuse_delete BEFORE DELETE ON sources
    BEGIN {_APPEND_ONLY.format(table="sources", verb="delete")}; END
    """,
    """
    CREATE TRIGGER sources_refuse_update_when_finished BEFORE UPDATE ON sources
    WHEN OLD.finished_utc IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a finished import record cannot be changed'); END
    """,
)

# A step is SQL statements, or a function that does the step on the connection.
Step = tuple[str, ...] | Callable[[sqlite3.Connection], None]
MIGRATIONS: Final[tuple[Step, ...]] = (
    _STEP_1,
    upgrade_to_v2,
    add_custody_log,
    REVIEWS_STEP,
    add_shared_counts,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)
# The steps after this version only add tables beside the entries (the custody log, reviews,
# saved views): a read-only store of this version or later is read as it is, without them.
READABLE_FROM_VERSION: Final = 2


def schema_version(connection: sqlite3.Connection) -> int:
    """The number of migration steps applied to a store."""
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def check_identity(connection: sqlite3.Connection, location: str) -> None:
    """Refuses, without changing it, a SQLite file that is not an auditviewer store."""
    app_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
    has_tables = connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0] > 0
    if app_id != APPLICATION_ID and (has_tables or schema_version(connection)):
        raise StoreError(f"{location}: this SQLite file is not an auditviewer store")


def migrate(connection: sqlite3.Connection, location: str) -> None:
    """Brings a store up to the current schema, all its pending steps in one transaction: a
    step that fails leaves the store exactly as it was before the first.

    ``connection`` must be in autocommit mode (``isolation_level=None``); call
    :func:`check_identity` first.
    """
    version = schema_version(connection)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{location}: the store has schema version {version}, newer than this program "
            f"understands ({SCHEMA_VERSION}); use a newer auditviewer"
        )
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another process may have migrated meanwhile.
        version = schema_version(connection)
        created = version == 0
        for step_number in range(version, SCHEMA_VERSION):
            step = MIGRATIONS[step_number]
            if callable(step):
                step(connection)
            else:
                for statement in step:
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {step_number + 1}")
            # A new store records its creation once, when its last step is done; an existing
            # store records each step it is brought through.
            if has_custody_log(connection) and (not created or step_number + 1 == SCHEMA_VERSION):
                record_custody(
                    connection,
                    MIGRATION,
                    {"from_version": 0 if created else step_number, "to_version": step_number + 1},
                )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
