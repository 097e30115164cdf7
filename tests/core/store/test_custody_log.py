"""The custody log: each operation recorded once, append-only, and checked by verify."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.exporting.export import export_csv, export_json
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.custody_log import (
    EXPORT,
    IMPORT,
    MIGRATION,
    REVIEW_SIGN_OFF,
    VERIFY,
    record_custody,
)
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.migrations import SCHEMA_VERSION
from tests.conftest import make_entry, write_json


@pytest.fixture
def filled(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "store.sqlite")
    import_file(store, write_json(tmp_path / "a.json", [make_entry(n) for n in range(30, 0, -1)]))
    return store


def _whats(store: Store) -> list[str]:
    return [record.what for record in read_custody(store)]


def test_a_new_store_records_its_migration_and_gets_an_id(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store.sqlite") as store:
        (record,) = read_custody(store)
        with store.raw() as connection:
            (store_id,) = connection.execute(
                "SELECT value FROM meta WHERE key = 'store_id'"
            ).fetchone()
    assert record.what == MIGRATION
    assert record.detail == {"from_version": 0, "to_version": SCHEMA_VERSION}
    assert record.entries_seq == 0
    assert len(store_id) == 36


def test_each_operation_is_recorded_once_with_its_counts_hashes_and_head(
    filled: Store, tmp_path: Path
) -> None:
    data = write_json(tmp_path / "b.json", [make_entry(n) for n in range(40, 25, -1)])
    import_file(filled, data)
    json_report = export_json(filled, tmp_path / "out.json")
    export_csv(filled, tmp_path / "out.csv")
    check_store(filled)
    assert _whats(filled) == [MIGRATION, IMPORT, IMPORT, EXPORT, EXPORT, VERIFY]
    records = read_custody(filled)
    second = records[2]
    assert second.detail["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (second.detail["imported"], second.detail["duplicates"]) == (10, 5)
    assert second.entries_seq == 40
    with filled.raw() as connection:
        (head,) = connection.execute(
            "SELECT chain_sha256 FROM entry_texts WHERE seq = 40"
        ).fetchone()
    assert second.entries_head == bytes(head).hex()
    exported = records[3]
    assert (
        exported.detail["sha256"]
        == hashlib.sha256((tmp_path / "out.json").read_bytes()).hexdigest()
    )
    assert exported.detail["sha256"] == json_report.sha256
    assert records[4].detail["format"] == "csv"
    assert records[5].detail["ok"] is True
    assert json_report.logged


def test_a_review_sign_off_can_be_recorded_in_the_callers_transaction(filled: Store) -> None:
    with filled.write() as connection:
        record = record_custody(connection, REVIEW_SIGN_OFF, {"review": "r-1", "entries": 3})
    assert read_custody(filled)[-1] == record
    assert check_store(filled).ok


def test_the_log_refuses_updates_and_deletes(filled: Store) -> None:
    with filled.raw() as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE custody_log SET os_user = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM custody_log")


def test_a_read_only_store_exports_without_logging(filled: Store, tmp_path: Path) -> None:
    path = filled.path
    filled.close()
    before = None
    path.chmod(0o444)
    try:
        with Store.open(path) as store:
            before = len(read_custody(store))
            report = export_json(store, tmp_path / "out.json")
            checked = check_store(store)
            assert len(read_custody(store)) == before
        assert report.logged is False
        assert checked.logged is False
    finally:
        path.chmod(0o644)


def _drop_triggers(connection: sqlite3.Connection) -> None:
    for (name,) in connection.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'trigger'"
    ).fetchall():
        connection.execute(f"DROP TRIGGER {name}")


def test_a_rewritten_custody_record_is_caught_by_verify(filled: Store) -> None:
    with filled.raw() as connection:
        _drop_triggers(connection)
        connection.execute("UPDATE custody_log SET os_user = 'mallory' WHERE seq = 2")
    report = check_store(filled, log=False)
    assert not report.ok
    assert any(
        "custody log was altered: record 2 (import" in problem for problem in report.problems()
    )


def test_a_custody_record_removed_from_the_middle_is_caught(filled: Store) -> None:
    check_store(filled)
    with filled.raw() as connection:
        _drop_triggers(connection)
        connection.execute("DELETE FROM custody_log WHERE seq = 2")
    problems = check_store(filled, log=False).problems()
    assert any("record 2 missing before record 3" in problem for problem in problems)


def test_entries_removed_from_the_end_are_caught_and_named(filled: Store, tmp_path: Path) -> None:
    import_file(filled, write_json(tmp_path / "b.json", [make_entry(n) for n in range(45, 30, -1)]))
    with filled.raw() as connection:
        _drop_triggers(connection)
        for table in ("entry_texts", "entries"):
            connection.execute(f"DELETE FROM {table} WHERE seq > 40")
    report = check_store(filled, log=False)
    assert report.chain is not None
    assert report.chain.ok  # what is left is a valid chain
    assert not report.ok
    (problem,) = [p for p in report.problems() if "removed from the end" in p]
    assert "ended at entry seq 45" in problem
    assert "now it ends at seq 40" in problem
    assert "5 entries are missing" in problem


def test_an_expected_head_must_be_in_the_chain(filled: Store, tmp_path: Path) -> None:
    first = check_store(filled)
    assert first.chain is not None
    noted = first.chain.chain_head
    assert noted is not None
    import_file(filled, write_json(tmp_path / "b.json", [make_entry(n) for n in range(35, 30, -1)]))
    later = check_store(filled, expect_head=noted)
    assert later.ok, later.problems()
    assert "entry seq 30's; 5 entries were added after it" in later.summary()
    with filled.raw() as connection:
        (middle,) = connection.execute(
            "SELECT chain_sha256 FROM entry_texts WHERE seq = 10"
        ).fetchone()
    found = check_store(filled, expect_head=bytes(middle).hex().upper())
    assert "entry seq 10's; 25 entries were added after it" in found.summary()
    wrong = check_store(filled, expect_head="ab" * 32)
    assert any("not in the store's chain" in p for p in wrong.problems())
    assert any("not a SHA-256" in p for p in check_store(filled, expect_head="xyz").problems())
