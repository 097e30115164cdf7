"""Whether a store's schema has a table: a read-only store of an older schema may lack the
tables later steps add, and is read as it is."""

from __future__ import annotations

import sqlite3


def has_table(connection: sqlite3.Connection, name: str) -> bool:
    """Whether the store has the table ``name``."""
    row = connection.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None
