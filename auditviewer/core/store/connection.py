"""The local SQLite store: opening, pragmas, schema migration and transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from auditviewer.core.errors import StoreError, StoreFull, StoreLocked, StoreReadOnly
from auditviewer.core.store.environment_errors import translate
from auditviewer.core.store.migrations import (
    READABLE_FROM_VERSION,
    SCHEMA_VERSION,
    check_identity,
    migrate,
    schema_version,
)

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


def _writable(path: Path) -> bool:
    """Whether the store at ``path`` may be written: its file and folder, and their disk.

    A file without any write permission bit counts as read-only even for a user (root) whom the
    system would let write it: the mode says someone meant it to stay as it is.
    """
    try:
        mode = path.stat().st_mode
        if not mode & 0o222 or not os.access(path, os.W_OK):
            return False
        if not os.access(path.parent, os.W_OK):
            return False
        return not os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        return False


def _has_pending_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def _read_only_connector(path: Path) -> Callable[[], sqlite3.Connection]:
    """Connections that read ``path`` as it is and create nothing beside it.

    ``immutable`` tells SQLite the file cannot change, so it neither takes locks nor creates
    ``-wal``/``-shm`` files (a read-only folder or mount has no room for them). A ``-wal`` that
    still holds committed work must be read, which needs SQLite's shared-memory file: then the
    store is opened read-only but not immutable.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not _has_pending_wal(path):
        uri += "&immutable=1"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )

    return connect


def _check_readable_as_is(connection: sqlite3.Connection, path: Path, *, create: bool) -> None:
    """Refuses a read-only store that would need writing before it can be read."""
    version = schema_version(connection)
    if version == 0:
        wanted = "; a new store cannot be created there" if create else ""
        raise StoreReadOnly(f"{path}: the file holds no store and is read-only{wanted}")
    if version > SCHEMA_VERSION:
        migrate(connection, str(path))  # raises: newer than this program
    if version < READABLE_FROM_VERSION:
        raise StoreReadOnly(
            f"{path}: the store has schema version {version} and must be upgraded to "
            f"{SCHEMA_VERSION} before this version of auditviewer can read it, which needs "
            "write access; copy it to a writable place and open the copy"
        )


class Store:
    """An open store file. Thread-safe: each thread checks out its own connection."""

    def __init__(self, path: Path, engine: Engine, *, read_only: bool = False) -> None:
        self.path = path
        self.engine = engine
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        """Opens (and creates or migrates) the store at ``path``.

        A store that cannot be written (read-only file, folder or mount) is opened read-only:
        reading works, every write raises :class:`StoreReadOnly`. Without ``create``, a missing
        or empty file is refused rather than made into a store.
        """
        store_path = Path(path).expanduser()
        if not store_path.exists():
            if not create:
                raise StoreError(f"{store_path}: no such store")
            store_path.parent.mkdir(parents=True, exist_ok=True)
        elif store_path.is_dir():
            raise StoreError(f"{store_path}: is a folder, not a store file")
        elif not store_path.is_file():
            # A device or a named pipe: SQLite would fail on it, or leave a journal beside it.
            raise StoreError(
                f"{store_path}: is a device or a pipe, not a store file; a store is a file on disk"
            )
        elif not create and store_path.stat().st_size == 0:
            raise StoreError(
                f"{store_path}: the file is empty, not a store; import a file to create a "
                f"store there (auditviewer --store {store_path} import FILE)"
            )
        read_only = store_path.exists() and not _writable(store_path)
        if read_only:
            engine = create_engine("sqlite://", creator=_read_only_connector(store_path))
        else:
            engine = create_engine(
                f"sqlite:///{store_path}",
                connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            )
        event.listen(engine, "connect", _configure)
        store = cls(store_path, engine, read_only=read_only)
        try:
            with store.raw() as connection:
                check_identity(connection, str(store_path))
                if read_only:
                    _check_readable_as_is(connection, store_path, create=create)
                    return store
                if not create and schema_version(connection) == 0:
                    raise StoreError(
                        f"{store_path}: this SQLite file holds no store; import a file to "
                        "create one"
                    )
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{store_path}: cannot switch the store to WAL mode")
                migrate(connection, str(store_path))
        except (sqlite3.DatabaseError, DBAPIError) as exc:
            engine.dispose()
            if isinstance(exc, DBAPIError):
                exc = exc.orig if isinstance(exc.orig, sqlite3.DatabaseError) else exc
            translated = translate(exc, store_path, "the store was not opened")
            if translated is not None:
                raise translated from None
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
        """A driver connection in autocommit mode, for the hot read and write paths.

        An environment error (disk full, read-only, damaged file) raised inside becomes the
        :class:`StoreError` that says so; a bug stays what it is.
        """
        try:
            with self.engine.connect() as connection:
                driver = connection.connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                yield driver
        except (sqlite3.Error, DBAPIError) as exc:
            cause: BaseException | None = exc.orig if isinstance(exc, DBAPIError) else exc
            translated = None if cause is None else translate(cause, self.path)
            if translated is None:
                raise
            raise translated from exc

    @contextmanager
    def write(self, *, undone: str = "nothing was changed") -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error.

        ``undone`` says, for the user, what a failed transaction means ("nothing of FILE was
        imported"); it ends the sentence of an environment error such as a full disk.
        """
        if self.read_only:
            raise StoreReadOnly(
                f"{self.path}: the store is read-only (its file, folder or disk cannot be "
                f"written); {undone}; copy it to a writable place or change its permissions"
            )
        with self.raw() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise StoreLocked(
                        f"{self.path}: another program is writing to the store; {undone}"
                    ) from None
                raise
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException as exc:
                # SQLite itself rolls back after some errors (a full disk among them): a second
                # ROLLBACK would only hide the real error.
                if connection.in_transaction:
                    with suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
                translated = translate(exc, self.path, undone)
                if translated is None:
                    raise
                # A failed write on a full disk leaves its pages in the -wal: give them back.
                with suppress(sqlite3.Error):
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                raise translated from exc

    def checkpoint(self) -> None:
        """Copies committed work from the WAL into the store file and truncates the WAL.

        Best effort: a reader holding an old snapshot keeps part of the WAL alive, and the
        next checkpoint (SQLite's own, or this one after the next write) finishes the job. On a
        full disk the work stays safe in the WAL until there is room.
        """
        if self.read_only:
            return
        # raw() turns a busy or full store into StoreLocked / StoreFull.
        with suppress(StoreLocked, StoreFull), self.raw() as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

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
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
