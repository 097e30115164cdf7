"""``auditviewer verify`` as a user runs it: a damaged index named, rebuilt, then the store OK."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from auditviewer.cli import main
from tests.conftest import make_entry, write_json
from tests.core.evidence.test_store_check import flip_index_byte

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = 2000


@pytest.fixture
def store_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "store.sqlite"
    export = write_json(tmp_path / "export.json", [make_entry(n) for n in range(ENTRIES)])
    assert main(["--store", str(path), "import", str(export)]) == 0
    capsys.readouterr()
    return path


def _verify(store: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(store), "verify", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _keys_found_by_index(store: Path) -> int:
    connection = sqlite3.connect(store)
    try:
        keys = [row[0] for row in connection.execute("SELECT entry_key FROM entry_texts")]
        lookup = "SELECT count(*) FROM entry_texts INDEXED BY entry_texts_key WHERE entry_key = ?"
        return sum(connection.execute(lookup, (key,)).fetchone()[0] == 1 for key in keys)
    finally:
        connection.close()


@pytest.mark.slow
def test_damaged_index_is_named_then_rebuilt(store_path: Path) -> None:
    flip_index_byte(store_path, "entry_texts_key")
    assert _keys_found_by_index(store_path) < ENTRIES

    quick = _verify(store_path)
    assert quick.returncode == 1
    assert quick.stderr.count("\n") == 1
    assert "Traceback" not in quick.stderr
    assert quick.stderr.startswith(f"auditviewer: {store_path}: index entry_texts_key: ")
    assert "--rebuild-indexes" in quick.stderr
    assert "Only indexes are damaged" in quick.stdout

    full = _verify(store_path, "--full")
    assert full.returncode == 1
    assert "index entry_texts_key: row " in full.stderr
    assert "missing from the index" in full.stderr

    repaired = _verify(store_path, "--full", "--rebuild-indexes")
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.splitlines()[0] == "Indexes rebuilt"
    assert f"OK: {ENTRIES:,} entries" in repaired.stdout
    assert "SQLite's full integrity check" in repaired.stdout
    assert _keys_found_by_index(store_path) == ENTRIES
    assert _verify(store_path).returncode == 0


def test_table_damage_says_what_decides_and_offers_no_rebuild(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sqlite3.connect(store_path)
    connection.execute("DROP TRIGGER entries_refuse_delete")
    connection.execute("DELETE FROM entries WHERE seq = 77")
    connection.commit()
    connection.close()
    assert main(["--store", str(store_path), "verify"]) == 1
    captured = capsys.readouterr()
    assert "Only indexes" not in captured.out
    assert captured.err.count("\n") == 1
    assert "entry seq 77 has its text but no row in the entries table" in captured.err
    assert "backup" in captured.err
