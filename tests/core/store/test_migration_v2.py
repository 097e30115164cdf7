"""A store written by schema v1 opens, migrates in place in one transaction, and loses nothing."""

from __future__ import annotations

import csv
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from auditviewer.core.evidence.hash_chain import verify_store
from auditviewer.core.exporting.export import export_csv, export_json
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import EntryQuery, get_entries, list_sources
from auditviewer.core.store.column_blocks import decode
from auditviewer.core.store.connection import Store
from auditviewer.core.store.migrations import SCHEMA_VERSION

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
V1_STORE = FIXTURES / "store-v1.sqlite"
V1_CHAIN_HEAD = "95c0a010ef9a45695250f61b85c7f19a7a9ea77b14a14f382f6ddb59c926ec54"


def _v1_rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT seq, source_id, source_index, source_line, entry_key, raw, raw_sha256, "
            "content_sha256, chain_sha256, created_utc, time_naive, action, actor_type, "
            "actor_label, actor_id, project, entity_type, entity_id, entity_name, ip, "
            "user_agent, quarantine_reason FROM entries ORDER BY seq"
        ).fetchall()


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    target = tmp_path / "v1.sqlite"
    shutil.copyfile(V1_STORE, target)
    return target


def test_fixture_is_a_v1_store() -> None:
    with sqlite3.connect(V1_STORE) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1


def test_every_column_of_every_entry_survives(v1_copy: Path) -> None:
    before = _v1_rows(v1_copy)
    with Store.open(v1_copy) as store, store.raw() as connection:
        after = connection.execute(
            "SELECT seq, source_id, source_index, source_line, entry_key, raw, raw_sha256, "
            "content_sha256, chain_sha256, created_utc, time_naive, action, actor_type, "
            "actor_label, actor_id, project, entity_type, entity_id, entity_name, ip, "
            "user_agent, quarantine_reason FROM entry_view ORDER BY seq"
        ).fetchall()
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert len(before) == 297
    assert after == before


def test_verify_passes_with_the_same_chain_head(v1_copy: Path) -> None:
    with Store.open(v1_copy) as store:
        report = verify_store(store)
    assert report.ok
    assert report.entries == 297
    assert report.chain_head == V1_CHAIN_HEAD


def test_json_export_is_byte_identical(v1_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "after.json"
    with Store.open(v1_copy) as store:
        export_json(store, out)
    expected = (FIXTURES / "store-v1-export.json").read_bytes()
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(expected).digest()


def test_csv_export_keeps_every_column_but_the_unified_flags(v1_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "after.csv"
    with Store.open(v1_copy) as store:
        export_csv(store, out)
    with (
        out.open(newline="", encoding="utf-8") as a,
        (FIXTURES / "store-v1-export.csv").open(newline="", encoding="utf-8") as b,
    ):
        after, before = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert len(after) == len(before) == 297
    for new, old in zip(after, before, strict=True):
        flags_new, flags_old = new.pop("flags").split(), old.pop("flags").split()
        assert new == old
        # v2 lists past retention in exports too (one vocabulary with the window).
        assert [f for f in flags_new if f != "past-retention"] == flags_old


def test_provenance_and_conflicts_survive(v1_copy: Path) -> None:
    with Store.open(v1_copy) as store:
        sources = list_sources(store)
        assert [s.location.endswith("sample-export.json") for s in sources] == [True, False]
        assert [s.conflicts for s in sources] == [1, 1]
        with EntryQuery(store, Filter(conflicts=True)) as query:
            conflicted = query.window(0, 100)
        assert len(conflicted) == 4
        assert all(row.conflict for row in conflicted)
        detail = get_entries(store, [1])[0]
        assert detail.source.id == 1
        assert detail.raw_sha256 == hashlib.sha256(detail.raw.encode()).hexdigest()


def test_column_blocks_cover_every_entry(v1_copy: Path) -> None:
    with Store.open(v1_copy) as store, store.raw() as connection:
        blocks = connection.execute(
            "SELECT first_seq, count, data FROM column_blocks ORDER BY first_seq"
        ).fetchall()
        flags = [row[0] for row in connection.execute("SELECT flags FROM entries ORDER BY seq")]
    assert sum(count for _, count, _ in blocks) == 297
    decoded = [decode(blob, count) for _, count, blob in blocks]
    assert [int(v) for block in decoded for v in block["flags"]] == flags


def test_a_failing_migration_leaves_the_v1_store_untouched(
    v1_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = v1_copy.read_bytes()

    def broken(connection: sqlite3.Connection) -> None:
        raise RuntimeError("disk gone")

    import auditviewer.core.store.schema_v2 as store_v2

    monkeypatch.setattr(store_v2, "build_blocks", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        Store.open(v1_copy)
    with sqlite3.connect(v1_copy) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
        assert _v1_rows(v1_copy) == _v1_rows(V1_STORE)
    assert len(before) > 0


def test_new_tables_are_append_only_after_migration(v1_copy: Path) -> None:
    with Store.open(v1_copy) as store, store.raw() as connection:
        for statement in (
            "UPDATE entries SET flags = 0 WHERE seq = 1",
            "DELETE FROM entries WHERE seq = 1",
            "UPDATE entry_texts SET raw = '{}' WHERE seq = 1",
            "DELETE FROM entry_texts WHERE seq = 1",
            "UPDATE terms SET value = 'x' WHERE id = 1",
            "DELETE FROM terms",
            "UPDATE column_blocks SET count = 0",
            "DELETE FROM column_blocks",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)


def test_export_of_migrated_store_reimports_identically(v1_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    with Store.open(v1_copy) as store:
        export_json(store, out)
    with Store.open(tmp_path / "fresh.sqlite") as fresh:
        from auditviewer.core.store.file_import import import_file

        import_file(fresh, out)
        with fresh.raw() as connection:
            raws = sorted(r[0] for r in connection.execute("SELECT raw FROM entry_texts"))
    assert raws == sorted(_raw_texts(V1_STORE))


def _raw_texts(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [r[0] for r in connection.execute("SELECT raw FROM entries")]
