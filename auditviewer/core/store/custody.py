"""The custody log on an open store: appending for read-only operations, and reading it.

See :mod:`auditviewer.core.store.custody_log` for what a record holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from auditviewer.core.errors import StoreError
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody_log import CustodyRecord, custody_records, record_custody


def append_custody(
    store: Store, what: str, detail: Mapping[str, Any] | None = None
) -> CustodyRecord | None:
    """Appends a record in a write of its own, for an operation that only read the store.

    Returns None, and records nothing, when the store is read-only or another program holds
    the write lock for longer than the busy timeout: the caller says the operation was not
    logged.
    """
    if store.read_only:
        return None
    try:
        with store.write(undone="the operation was not logged") as connection:
            return record_custody(connection, what, detail)
    except (StoreError, sqlite3.DatabaseError):
        return None


def read_custody(store: Store) -> list[CustodyRecord]:
    """Every record of the custody log, oldest first."""
    with store.raw() as connection:
        return custody_records(connection)
