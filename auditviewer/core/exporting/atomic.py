"""Atomic file writing: the target holds either its old content or the complete new content.

The new content goes to a temporary file in the target's own folder (so the final rename stays
on one file system), is flushed and fsynced, and then renamed over the target with
:func:`os.replace`; the folder is fsynced so the rename itself survives a power cut. When the
writer raises — an error, a cancellation, Ctrl+C — the temporary file is removed and the target
is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

BUFFER_BYTES = 1 << 20
TEMP_SUFFIX = ".partial"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def temp_path_for(target: Path) -> Path:
    """A fresh hidden name next to ``target`` for its temporary file."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _create_temp(target: Path) -> tuple[Path, int]:
    for _ in range(100):
        candidate = temp_path_for(target)
        try:
            # 0o666 lets the umask decide the permissions, as for any newly created file.
            return candidate, os.open(candidate, _CREATE_FLAGS, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"{target}: cannot find a free temporary name next to it")


def fsync_folder(folder: Path) -> None:
    """Makes a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: Path | str) -> Iterator[BinaryIO]:
    """Yields a binary file whose content replaces ``path`` when the block ends without error.

    An existing target keeps its permission bits. Raises :class:`IsADirectoryError` when
    ``path`` is a folder and the usual :class:`OSError` subclasses when the folder is missing
    or not writable; in every failing case the target is untouched and no temporary file is
    left behind.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    try:
        keep_mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        keep_mode = None
    temp, fd = _create_temp(target)
    try:
        handle = os.fdopen(fd, "wb", buffering=BUFFER_BYTES)
    except BaseException:
        os.close(fd)
        temp.unlink()
        raise
    try:
        with handle:
            yield handle
            handle.flush()
            if keep_mode is not None and os.chmod in os.supports_fd:
                os.chmod(handle.fileno(), keep_mode)
            os.fsync(handle.fileno())
        if keep_mode is not None and os.chmod not in os.supports_fd:
            os.chmod(temp, keep_mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_folder(target.parent)
