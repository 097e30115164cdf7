"""The store file: pragmas, schema versioning, and append-only enforcement by the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auditviewer.core.errors import StoreError
from auditviewer.core.paths import default_store_path
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.migrations import APPLICATION_ID, SCHEMA_VERSION
from auditviewer.core.store.schema import Base, Entry, EntryText, Source
from tests.conftest import make_entry, write_json


def _snapshot(store: Store) -> list[tuple[object, ...]]:
    with store.raw() as connection:
        return connection.execute("SELECT * FROM entry_view ORDER BY seq").fetchall()


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    import_file(store, write_json(tmp_path / "e.json", [make_entry(n) for n in range(5)]))
    conflicting = [make_entry(1, action="cohort.delete")]
    import_file(store, write_json(tmp_path / "c.json", conflicting))
    return store


def test_new_store_uses_wal_and_is_versioned(store: Store) -> None:
    with store.raw() as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA recursive_triggers").fetchone()[0] == 1
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_models_match_the_migrated_schema(store: Store) -> None:
    with store.raw() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table.name})")]
            assert columns == [column.name for column in table.columns], table.name


def test_reopening_keeps_entries(filled: Store) -> None:
    before = _snapshot(filled)
    filled.close()
    reopened = Store.open(filled.path)
    assert _snapshot(reopened) == before
    reopened.close()


def test_store_newer_than_the_program_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this program"):
        Store.open(tmp_path / "s.sqlite")


def test_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an auditviewer store"):
        Store.open(path)
    assert path.read_bytes() == before


def test_non_database_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database at all" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(path)


def test_missing_store_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        Store.open(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


def test_default_store_path_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITVIEWER_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("AUDITVIEWER_STORE")
    assert default_store_path().name == "store.sqlite"
    assert "auditviewer" in str(default_store_path())


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET action_term = 2 WHERE seq = 1",
        "UPDATE entry_texts SET raw = '{}'",
        "DELETE FROM entries WHERE seq = 2",
        "DELETE FROM entries",
        "DELETE FROM entry_texts WHERE seq = 2",
        "INSERT OR REPLACE INTO entries SELECT * FROM entries WHERE seq = 1",
        "REPLACE INTO entry_texts SELECT * FROM entry_texts WHERE seq = 3",
        "INSERT INTO entries SELECT * FROM entries WHERE seq = 1 "
        "ON CONFLICT (seq) DO UPDATE SET flags = 0",
        "UPDATE terms SET value = 'tampered'",
        "DELETE FROM terms",
        "DELETE FROM column_blocks",
        "UPDATE column_blocks SET data = X''",
        "DELETE FROM sources",
        "UPDATE sources SET location = 'elsewhere'",
        "DELETE FROM conflict_keys",
    ],
)
def test_raw_sql_cannot_alter_entries(filled: Store, statement: str) -> None:
    before = _snapshot(filled)
    with pytest.raises(sqlite3.DatabaseError), filled.write() as connection:
        connection.execute(statement)
    assert _snapshot(filled) == before


def test_orm_update_and_delete_are_refused(filled: Store) -> None:
    before = _snapshot(filled)
    with Session(filled.engine) as session:
        entry = session.get(Entry, 1)
        assert entry is not None
        entry.action_term = 2
        with pytest.raises(IntegrityError, match="append-only"):
            session.commit()
        session.rollback()
        session.delete(session.get(Entry, 2))
        with pytest.raises(IntegrityError, match="append-only"):
            session.commit()
    assert _snapshot(filled) == before


def test_core_statements_cannot_rewrite_entries(filled: Store) -> None:
    before = _snapshot(filled)
    row = dict(filled.engine.connect().execute(Entry.__table__.select().limit(1)).mappings().one())
    upsert = (
        sqlite_insert(Entry)
        .values(row)
        .on_conflict_do_update(index_elements=["seq"], set_={"flags": 0})
    )
    replace = insert(Entry).values(row).prefix_with("OR REPLACE")
    for statement in (
        update(Entry).values(flags=0),
        update(EntryText).values(raw="{}"),
        delete(EntryText),
        delete(Entry),
        upsert,
        replace,
        delete(Source),
    ):
        with pytest.raises(IntegrityError), filled.engine.begin() as connection:
            connection.execute(statement)
    assert _snapshot(filled) == before
