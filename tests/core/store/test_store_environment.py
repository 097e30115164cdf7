"""The store on a hostile machine: full disks, read-only files and mounts, empty files.

Each condition ends in one sentence naming the store and what was (not) kept, and nothing the
user had is altered. A full disk is a real small tmpfs where this machine lets the tests mount
one, and SQLite's own page limit (the same SQLITE_FULL error) everywhere.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from auditviewer.cli import main
from auditviewer.core.errors import StoreError, StoreFull, StoreReadOnly
from auditviewer.core.evidence.hash_chain import verify_store
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.text_index import build_fulltext, indexed_upto
from tests.conftest import make_entry, write_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _entries(first: int, count: int) -> list[dict[str, Any]]:
    # Distinct, varied text so that pages do not compress into nothing.
    return [
        make_entry(n, description=f"change {n} {uuid.UUID(int=n * 7919).hex}" * 4)
        for n in range(first, first + count)
    ]


def _count(store: Store) -> int:
    with store.raw() as connection:
        return int(connection.execute("SELECT count(*) FROM entry_texts").fetchone()[0])


def _side_files(path: Path) -> list[str]:
    return sorted(
        p.name for p in path.parent.iterdir() if p.name.startswith(path.name) and p != path
    )


def _mount_tmpfs(target: Path, size_kib: int) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs folder, or a skip where this machine cannot mount one."""
    target = tmp_path / "disk"
    if not _mount_tmpfs(target, 4096):
        pytest.skip("mounting a tmpfs needs root and a mount-capable machine")
    try:
        yield target
    finally:
        _umount(target)


def _fill(disk: Path, leave_bytes: int) -> Path:
    """Takes all free space on ``disk`` but ``leave_bytes``; returns the filler file."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))
    return filler


def _limit_pages(store: Store, extra_pages: int) -> None:
    """Every new connection of ``store`` may grow the file by ``extra_pages`` pages only."""
    with store.raw() as connection:
        pages = int(connection.execute("PRAGMA page_count").fetchone()[0])

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    event.listen(store.engine, "connect", limit)
    store.engine.dispose()


# --- a full disk ---------------------------------------------------------------------------


def _assert_full_import_keeps_the_store(store: Store, big: Path) -> None:
    before = _count(store)
    with pytest.raises(StoreFull) as caught:
        import_file(store, big)
    message = str(caught.value)
    assert str(store.path) in message
    assert "disk holding the store is full" in message
    assert f"nothing of {big} was imported" in message
    assert "rollback" not in message.lower()
    assert _count(store) == before
    assert verify_store(store).ok


def test_a_full_disk_during_an_import_stores_nothing_and_says_so(small_disk: Path) -> None:
    store = Store.open(small_disk / "store.sqlite")
    import_file(store, write_json(small_disk / "first.json", _entries(1, 50)))
    big = write_json(small_disk / "big.json", _entries(1000, 1500))
    filler = _fill(small_disk, 96 << 10)
    _assert_full_import_keeps_the_store(store, big)
    # The failed transaction's pages do not stay behind in the -wal on the full disk.
    wal = small_disk / "store.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size < 64 << 10
    filler.unlink()
    report = import_file(store, big)
    assert report.imported == 1500
    assert _count(store) == 1550
    store.close()


def test_the_page_limit_stands_in_for_a_full_disk_anywhere(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "first.json", _entries(1, 50)))
    big = write_json(tmp_path / "big.json", _entries(1000, 1500))
    _limit_pages(store, 8)
    _assert_full_import_keeps_the_store(store, big)


def test_a_full_disk_during_the_text_index_keeps_the_entries(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store.sqlite")
    import_file(store, write_json(tmp_path / "a.json", _entries(1, 800)), index_text=False)
    _limit_pages(store, 4)
    with pytest.raises(StoreFull, match="the rest of the text index will be built next time"):
        build_fulltext(store, chunk_rows=400)
    assert _count(store) == 800
    done_before = _indexed_upto(store)
    assert done_before < 800
    store.close()
    with Store.open(tmp_path / "store.sqlite") as roomy:
        assert build_fulltext(roomy) == 800 - done_before
        assert _indexed_upto(roomy) == 800
        assert verify_store(roomy).ok


def _indexed_upto(store: Store) -> int:
    with store.raw() as connection:
        return indexed_upto(connection)


def test_cli_import_on_a_full_disk_is_one_sentence(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = small_disk / "store.sqlite"
    first = write_json(small_disk / "first.json", _entries(1, 50))
    assert main(["--store", str(store_path), "import", str(first)]) == 0
    big = write_json(small_disk / "big.json", _entries(1000, 1500))
    _fill(small_disk, 96 << 10)
    capsys.readouterr()
    assert main(["--store", str(store_path), "import", str(big)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"auditviewer: {store_path}: the disk holding the store is full")
    assert f"nothing of {big} was imported" in err
    assert "Traceback" not in err


def test_cli_reports_entries_kept_when_only_the_text_index_failed(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = small_disk / "store.sqlite"
    first = write_json(small_disk / "first.json", _entries(1, 700))
    assert main(["--store", str(store_path), "import", "--no-index", str(first)]) == 0
    one_more = write_json(small_disk / "one.json", _entries(5000, 1))
    _fill(small_disk, 96 << 10)
    capsys.readouterr()
    assert main(["--store", str(store_path), "import", str(one_more)]) == 1
    out, err = capsys.readouterr()
    assert "imported     1" in out
    assert err.strip().count("\n") == 0
    assert "1 entry imported and kept" in err
    assert "the rest of the text index will be built next time" in err
    with Store.open(store_path) as store:
        assert _count(store) == 701


# --- read-only stores ----------------------------------------------------------------------


@pytest.fixture
def filled_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    with Store.open(path) as store:
        import_file(store, write_json(tmp_path / "e.json", _entries(1, 30)))
    assert _side_files(path) == []
    return path


READ_COMMANDS = (
    ["query", "--format", "count", "action:*"],
    ["query", "--format", "json", "--limit", "3"],
    ["stats"],
    ["verify"],
)


@pytest.mark.parametrize("argv", READ_COMMANDS, ids=lambda argv: argv[0])
def test_read_commands_work_on_a_read_only_store_and_leave_no_files(
    filled_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    filled_path.chmod(0o444)
    before = filled_path.read_bytes()
    assert main(["--store", str(filled_path), *argv]) == 0, capsys.readouterr().err
    assert filled_path.read_bytes() == before
    assert _side_files(filled_path) == []


def test_export_from_a_read_only_store(filled_path: Path, tmp_path: Path) -> None:
    filled_path.chmod(0o444)
    out = tmp_path / "out.json"
    assert main(["--store", str(filled_path), "export", "-o", str(out)]) == 0
    assert len(out.read_text()) > 100
    assert _side_files(filled_path) == []


def test_import_into_a_read_only_store_is_refused_with_a_sentence(
    filled_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled_path.chmod(0o444)
    before = filled_path.read_bytes()
    new = write_json(tmp_path / "new.json", _entries(100, 3))
    assert main(["--store", str(filled_path), "import", str(new)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "the store is read-only" in err
    assert f"nothing of {new} was imported" in err
    assert filled_path.read_bytes() == before
    assert _side_files(filled_path) == []


def test_a_read_only_store_opens_read_only_and_refuses_writes(filled_path: Path) -> None:
    filled_path.chmod(0o444)
    with Store.open(filled_path) as store:
        assert store.read_only
        assert _count(store) == 30
        assert verify_store(store).ok
        with pytest.raises(StoreReadOnly, match="read-only"), store.write():
            pass
        store.checkpoint()  # nothing to do, and no error
    assert _side_files(filled_path) == []


def test_an_old_read_only_store_says_it_needs_write_access_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURES / "store-v1.sqlite", path)
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(StoreReadOnly, match=r"must be upgraded .* which needs write access"):
        Store.open(path, create=False)
    assert path.read_bytes() == before
    assert _side_files(path) == []


def test_a_read_only_mount(filled_path: Path, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    if not _mount_tmpfs(mount, 4096):
        pytest.skip("mounting a tmpfs needs root and a mount-capable machine")
    try:
        shutil.copyfile(filled_path, mount / "store.sqlite")
        result = subprocess.run(
            ["mount", "-o", "remount,ro", str(mount)], capture_output=True, check=False
        )
        if result.returncode != 0:
            pytest.skip("this machine cannot remount a tmpfs read-only")
        store_path = mount / "store.sqlite"
        assert main(["--store", str(store_path), "query", "--format", "count"]) == 0
        assert main(["--store", str(store_path), "verify"]) == 0
        assert _side_files(store_path) == []
        new = write_json(tmp_path / "new.json", _entries(100, 3))
        assert main(["--store", str(store_path), "import", str(new)]) == 1
    finally:
        _umount(mount)


def test_a_pending_wal_is_read_from_a_read_only_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store.open(path)
    import_file(store, write_json(tmp_path / "a.json", _entries(1, 10)))
    # A second import whose pages stay in the -wal: a copy taken while the store is open.
    with store.write() as connection:
        connection.execute("INSERT INTO meta (key, value) VALUES ('note', 'in the wal')")
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("store.sqlite", "store.sqlite-wal"):
        shutil.copyfile(tmp_path / name, copy / name)
    store.close()
    copied = copy / "store.sqlite"
    assert (copy / "store.sqlite-wal").stat().st_size > 0
    copied.chmod(0o444)
    with Store.open(copied) as reader, reader.raw() as connection:
        row = connection.execute("SELECT value FROM meta WHERE key = 'note'").fetchone()
        assert row == ("in the wal",)


# --- empty and foreign files ---------------------------------------------------------------


@pytest.mark.parametrize("argv", [*READ_COMMANDS, ["export", "-o", "x.json"]], ids=str)
def test_a_read_command_never_turns_an_empty_file_into_a_store(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    argv = [str(tmp_path / a) if a == "x.json" else a for a in argv]
    assert main(["--store", str(empty), *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "the file is empty, not a store" in err
    assert empty.stat().st_size == 0
    assert _side_files(empty) == []


def test_import_makes_a_store_of_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    new = write_json(tmp_path / "new.json", _entries(1, 3))
    assert main(["--store", str(empty), "import", str(new)]) == 0
    with Store.open(empty, create=False) as store:
        assert _count(store) == 3


def test_a_sqlite_file_without_tables_is_not_a_store_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "blank.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 0")
        connection.execute("VACUUM")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="holds no store"):
        Store.open(path, create=False)
    assert path.read_bytes() == before


def test_verify_on_a_read_only_store_says_what_it_could_not_check(
    filled_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled_path.chmod(0o444)
    assert main(["--store", str(filled_path), "verify"]) == 0
    out = capsys.readouterr().out
    assert "the full-text index was not checked" in out
    assert "the store is read-only" in out
    assert "OK: 30 entries" in out
    assert main(["--store", str(filled_path), "verify", "--rebuild-indexes"]) == 1
    assert "the store is read-only" in capsys.readouterr().err
    assert _side_files(filled_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
@pytest.mark.parametrize("argv", [["import", "EXPORT"], ["query"]], ids=str)
def test_a_device_or_a_pipe_is_refused_as_a_store_and_nothing_is_made_beside_it(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "store.sqlite"
    os.mkfifo(pipe)
    export = write_json(tmp_path / "export.json", [make_entry(1)])
    argv = [str(export) if a == "EXPORT" else a for a in argv]
    assert main(["--store", str(pipe), *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"auditviewer: {pipe}: is a device or a pipe, not a store file; a store is a file on disk"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json", "store.sqlite"]
    with pytest.raises(StoreError, match="is a device or a pipe"):
        Store.open(pipe)
