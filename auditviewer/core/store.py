"""The local SQLite store: opening, pragmas, schema migration and transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from auditviewer.core.errors import StoreError, StoreLocked
from auditviewer.core.migrations import check_identity, migrate

BUSY_TIMEOUT_MS = 5000
# Page cache per connection. The viewer holds several connections (table, counts, facets), so
# a modest cache each; a bulk import raises its own (see ``bulk_cache``).
READ_CACHE_KIB = 16 * 1024
BULK_CACHE_KIB = 64 * 1024
WAL_SIZE_LIMIT = 64 << 20


def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Transactions are begun explicitly (BEGIN IMMEDIATE for writes), never by the driver.
    dbapi_connection.isolation_level = None
    for pragma in (
        f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous = FULL",
        "PRAGMA recursive_triggers = ON",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA cache_size = -{READ_CACHE_KIB}",
        "PRAGMA temp_store = MEMORY",
        # A big import passes through the WAL; once checkpointed, the file shrinks back to this.
        f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}",
    ):
        dbapi_connection.execute(pragma)


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class Store:
    """An open store file. Thread-safe: each thread checks out its own connection."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        """Opens (and creates or migrates) the store at ``path``."""
        store_path = Path(path).expanduser()
        if not store_path.exists():
            if not create:
                raise StoreError(f"{store_path}: no such store")
            store_path.parent.mkdir(parents=True, exist_ok=True)
        elif store_path.is_dir():
            raise StoreError(f"{store_path}: is a folder, not a store file")
        engine = create_engine(
            f"sqlite:///{store_path}",
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _configure)
        store = cls(store_path, engine)
        try:
            with store.raw() as connection:
                check_identity(connection, str(store_path))
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{store_path}: cannot switch the store to WAL mode")
                migrate(connection, str(store_path))
        except (sqlite3.DatabaseError, DBAPIError) as exc:
            engine.dispose()
            if isinstance(exc, DBAPIError):
                exc = exc.orig if isinstance(exc.orig, sqlite3.DatabaseError) else exc
            if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                raise StoreLocked(f"{store_path}: the store is locked by another program") from None
            raise StoreError(f"{store_path}: cannot open the store ({exc})") from None
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        """Closes every connection of the store."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def raw(self) -> Iterator[sqlite3.Connection]:
        """A driver connection in autocommit mode, for the hot read and write paths."""
        with self.engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            yield driver

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error."""
        with self.raw() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise StoreLocked(
                        f"{self.path}: another program is writing to the store"
                    ) from None
                raise
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def checkpoint(self) -> None:
        """Copies committed work from the WAL into the store file and truncates the WAL.

        Best effort: a reader holding an old snapshot keeps part of the WAL alive, and the
        next checkpoint (SQLite's own, or this one after the next write) finishes the job.
        """
        with self.raw() as connection:
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise

    @staticmethod
    @contextmanager
    def bulk_cache(connection: sqlite3.Connection) -> Iterator[None]:
        """A larger page cache on ``connection`` for the duration of a bulk write."""
        connection.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            connection.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state of the store."""
        with self.raw() as connection:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("ROLLBACK")
