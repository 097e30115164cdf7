"""Committed work lives in the store file: a process killed after an import, a sync or a
full-text build, whose ``-wal`` file is then deleted, loses nothing.

The writers run in a real child process that kills itself with SIGKILL right after the work
returns, so SQLite's checkpoint on close never happens; only the app's own checkpoint can have
moved the work out of the ``-wal`` file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.store.connection import Store
from auditviewer.core.store.text_index import indexed_upto
from tests.conftest import make_entry, write_json
from tests.core.sync.conftest import TOKEN
from tests.support.emulator import AuditLogEmulator

ROOT = Path(__file__).resolve().parents[3]
ENTRIES = 300

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _run_then_die(store_path: Path, work: str) -> None:
    """Runs ``work`` (Python, with ``store`` open) in a child that then SIGKILLs itself."""
    script = (
        textwrap.dedent(
            """
        import os, signal, sys
        from auditviewer.core.store.connection import Store
        store = Store.open(sys.argv[1])
        """
        )
        + textwrap.dedent(work)
        + "\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(store_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


def _lose_wal(store_path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)


def _entries(store: Store) -> int:
    with store.raw() as connection:
        return int(connection.execute("SELECT count(*) FROM entry_texts").fetchone()[0])


def test_the_method_loses_uncheckpointed_work(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    Store.open(path).close()
    _run_then_die(
        path,
        """
        with store.write() as connection:
            connection.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
        """,
    )
    assert Path(f"{path}-wal").stat().st_size > 0
    _lose_wal(path)
    with Store.open(path) as store, store.raw() as connection:
        assert (
            connection.execute("SELECT count(*) FROM meta WHERE key = 'probe'").fetchone()[0] == 0
        )


@pytest.mark.parametrize("index_text", [True, False])
def test_import_survives_a_deleted_wal(tmp_path: Path, index_text: bool) -> None:
    path = tmp_path / "store.sqlite"
    export = write_json(tmp_path / "a.json", [make_entry(n) for n in range(ENTRIES)])
    _run_then_die(
        path,
        f"""
        from auditviewer.core.store.file_import import import_file
        import_file(store, {str(export)!r}, index_text={index_text})
        """,
    )
    _lose_wal(path)
    with Store.open(path) as store:
        assert _entries(store) == ENTRIES
        assert check_store(store).ok


def test_fulltext_build_survives_a_deleted_wal(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    export = write_json(tmp_path / "a.json", [make_entry(n) for n in range(ENTRIES)])
    _run_then_die(
        path,
        f"""
        from auditviewer.core.store.text_index import build_fulltext
        from auditviewer.core.store.file_import import import_file
        import_file(store, {str(export)!r}, index_text=False)
        assert build_fulltext(store, chunk_rows=100) == {ENTRIES}
        """,
    )
    _lose_wal(path)
    with Store.open(path) as store:
        assert _entries(store) == ENTRIES
        with store.raw() as connection:
            assert indexed_upto(connection) == ENTRIES
        assert check_store(store).ok


def test_sync_survives_a_deleted_wal(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with AuditLogEmulator(entries=120) as server:
        _run_then_die(
            path,
            f"""
            from auditviewer.core.sync import SyncConfig, sync
            config = SyncConfig(org="acme", base_url={server.base_url!r}, per_page=25)
            assert sync(store, config, {TOKEN!r}).imported == 120
            """,
        )
    _lose_wal(path)
    with Store.open(path) as store:
        assert _entries(store) == 120
        assert check_store(store).ok
