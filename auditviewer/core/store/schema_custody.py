"""Schema step: the custody log, and the store's own id.

The custody log records who did what to the store and when (imports, sync runs, exports,
evidence packs, verifications, review sign-offs, schema migrations), append-only and
hash-chained like the entries (see :mod:`auditviewer.core.store.custody_log`). Each record keeps
the entry chain head after the operation: a checkpoint that lets ``verify`` see entries cut off
the end of the store.

The step also gives the store a random id (``meta.store_id``), which evidence packs name.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Final

STORE_ID_KEY: Final = "store_id"

_REFUSE = "SELECT RAISE(ABORT, 'custody records are append-only: {verb} refused')"

TABLES: Final[tuple[str, ...]] = (
    """
    CREATE TABLE custody_log (
        seq INTEGER PRIMARY KEY,
        recorded_utc INTEGER NOT NULL,
        os_user TEXT NOT NULL,
        what TEXT NOT NULL,
        detail TEXT NOT NULL,
        entries_seq INTEGER NOT NULL,
        entries_head TEXT,
        chain_sha256 BLOB NOT NULL
    )
    """,
    *(
        f"CREATE TRIGGER custody_log_refuse_{verb} BEFORE {verb.upper()} ON custody_log "
        f"BEGIN {_REFUSE.format(verb=verb)}; END"
        for verb in ("update", "delete")
    ),
)


def add_custody_log(connection: sqlite3.Connection) -> None:
    """Creates the custody log and, if the store has none, its id; in the caller's transaction."""
    for statement in TABLES:
        connection.execute(statement)
    connection.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (STORE_ID_KEY, str(uuid.uuid4()))
    )
