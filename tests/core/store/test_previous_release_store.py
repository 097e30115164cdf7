"""A store written by the previous release (schema v2, commit 401f068) opens as it is and
exports byte for byte what that release exported from it.

The fixture was written by that release's own code: the sample export imported, then a JSON
export, a CSV export and the JSON export of ``action:release.*`` taken with the same code.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.exporting.export import export_csv, export_json
from auditviewer.core.querying.language import parse_query
from auditviewer.core.store import migrations
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.custody_log import MIGRATION
from auditviewer.core.store.migrations import SCHEMA_VERSION

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RELEASE_STORE = FIXTURES / "store-v2-401f068.sqlite"


@pytest.fixture
def release_copy(tmp_path: Path) -> Path:
    target = tmp_path / "release.sqlite"
    shutil.copyfile(RELEASE_STORE, target)
    return target


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("entries", "entry_texts", "terms", "column_blocks", "sources")
        }


def test_the_fixture_is_a_store_of_the_release_schema() -> None:
    assert RELEASE_STORE.is_file()
    # Read as an unchanging file: nothing (no -wal, no -shm) is created beside the fixture.
    with sqlite3.connect(f"{RELEASE_STORE.as_uri()}?mode=ro&immutable=1", uri=True) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2 <= SCHEMA_VERSION


def test_it_opens_and_keeps_every_row(release_copy: Path) -> None:
    before = _tables(release_copy)
    with Store.open(release_copy) as store:
        report = check_store(store, full=True)
        assert report.ok, report.problems()
        assert report.chain is not None
        assert report.chain.entries == 295
    assert _tables(release_copy) == before


@pytest.mark.parametrize(
    ("name", "export"),
    [
        ("store-v2-401f068-export.json", lambda store, path: export_json(store, path)),
        ("store-v2-401f068-export.csv", lambda store, path: export_csv(store, path)),
        (
            "store-v2-401f068-release.json",
            lambda store, path: export_json(store, path, filter=parse_query("action:release.*")),
        ),
    ],
    ids=["json", "csv", "query"],
)
def test_exports_are_byte_identical_to_the_release(
    release_copy: Path, tmp_path: Path, name: str, export: Callable[[Store, Path], object]
) -> None:
    target = tmp_path / name
    with Store.open(release_copy) as store:
        export(store, target)
    assert target.read_bytes() == (FIXTURES / name).read_bytes()


def test_a_read_only_copy_exports_the_same(release_copy: Path, tmp_path: Path) -> None:
    # A read-only store cannot be upgraded: this release's schema is reached first.
    Store.open(release_copy).close()
    release_copy.chmod(0o444)
    target = tmp_path / "out.json"
    with Store.open(release_copy) as store:
        assert store.read_only
        export_json(store, target)
    assert target.read_bytes() == (FIXTURES / "store-v2-401f068-export.json").read_bytes()


def test_it_migrates_in_one_transaction_recorded_in_the_custody_log(release_copy: Path) -> None:
    with Store.open(release_copy) as store:
        records = read_custody(store)
    with sqlite3.connect(release_copy) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [(r.what, r.detail) for r in records] == [
        (MIGRATION, {"from_version": step, "to_version": step + 1})
        for step in range(2, SCHEMA_VERSION)
    ]
    assert {r.entries_seq for r in records} == {295}


def test_a_failing_last_step_leaves_the_release_store_byte_identical(
    release_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = release_copy.read_bytes()

    def broken(connection: sqlite3.Connection) -> None:
        raise RuntimeError("disk gone")

    # Every step before the last has run in the same transaction when the last one fails.
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS[:-1], broken))
    with pytest.raises(RuntimeError, match="disk gone"):
        Store.open(release_copy)
    # The last connection's close folds anything committed back into the file.
    sqlite3.connect(release_copy).close()
    assert not Path(f"{release_copy}-wal").exists()
    assert release_copy.read_bytes() == before
