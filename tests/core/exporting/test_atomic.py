"""Atomic file writing: the target holds its old content or all of the new, never a part."""

from __future__ import annotations

import errno
import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from auditviewer.core.exporting.atomic import TEMP_SUFFIX, atomic_write, is_stream


class Interrupted(Exception):
    """Stands for anything that stops a writer half-way."""


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _write_then_fail(target: Path, data: bytes, error: BaseException) -> None:
    with atomic_write(target) as out:
        out.write(data)
        raise error


def test_new_file_gets_the_whole_content(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with atomic_write(target) as out:
        out.write(b"[1,")
        out.write(b"2]")
    assert target.read_bytes() == b"[1,2]"
    assert _names(tmp_path) == ["out.json"]


def test_existing_file_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old content")
    with atomic_write(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"


def test_content_goes_to_a_hidden_temp_file_in_the_same_folder(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with atomic_write(target) as out:
        out.write(b"x")
        out.flush()
        names = _names(tmp_path)
        assert not target.exists()
    assert len(names) == 1
    assert names[0].startswith(".out.json.")
    assert names[0].endswith(TEMP_SUFFIX)


def test_error_leaves_an_existing_target_unchanged_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"evidence")
    with pytest.raises(Interrupted):
        _write_then_fail(target, b"half of the new", Interrupted())
    assert target.read_bytes() == b"evidence"
    assert _names(tmp_path) == ["out.json"]


def test_error_leaves_no_file_when_there_was_none(tmp_path: Path) -> None:
    with pytest.raises(Interrupted):
        _write_then_fail(tmp_path / "out.json", b"x" * 3_000_000, Interrupted())
    assert _names(tmp_path) == []


def test_keyboard_interrupt_also_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        _write_then_fail(target, b"new", KeyboardInterrupt())
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["out.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_existing_target_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_write(target) as out:
        out.write(b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_target_gets_the_usual_permissions_not_private_temp_ones(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.json") as out:
            out.write(b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644


def test_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "nope" / "out.json"):
        pass
    assert _names(tmp_path) == []


def test_folder_as_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError), atomic_write(tmp_path / "folder"):
        pass
    assert _names(tmp_path) == ["folder"]


# --- links and streams ----------------------------------------------------------------------


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "export.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with atomic_write(link) as out:
        out.write(b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    # The temporary file went beside the real file, and is gone.
    assert sorted(p.name for p in real.parent.iterdir()) == ["export.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_written_into_never_replaced(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    with atomic_write(pipe) as out:
        out.write(b"[1, 2]")
    reader.join(timeout=10)
    assert received == [b"[1, 2]"]
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert is_stream(pipe)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_device_is_an_error_and_stays_a_device() -> None:
    with pytest.raises(OSError, match="No space left") as raised, atomic_write("/dev/full") as out:
        out.write(b"x" * (2 << 20))
    assert raised.value.errno == errno.ENOSPC
    assert stat.S_ISCHR(Path("/dev/full").lstat().st_mode)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="no /proc here")
def test_the_name_of_an_open_file_appends_to_it_as_a_shell_redirection_does(
    tmp_path: Path,
) -> None:
    """``-o /dev/stdout`` with ``>> file``: the entries follow what the file held, in the very
    file the shell opened (a rename would leave the shell writing to a deleted file)."""
    target = tmp_path / "out.csv"
    target.write_bytes(b"first\n")
    inode = target.stat().st_ino
    with open(target, "ab") as shell_side:
        name = f"/proc/self/fd/{shell_side.fileno()}"
        assert is_stream(name)
        with atomic_write(name) as out:
            out.write(b"second\n")
    assert target.read_bytes() == b"first\nsecond\n"
    assert target.stat().st_ino == inode
    assert not is_stream(target)
