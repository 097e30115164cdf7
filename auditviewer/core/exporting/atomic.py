"""Atomic file writing: the target holds either its old content or the complete new content.

The new content goes to a temporary file in the target's own folder (so the final rename stays
on one file system), is flushed and fsynced, and then renamed over the target with
:func:`os.replace`; the folder is fsynced so the rename itself survives a power cut. When the
writer raises — an error, a cancellation, Ctrl+C — the temporary file is removed and the target
is left exactly as it was.

A symbolic link is written through: the file it points to is replaced, the link stays. A
stream — a target that is not a regular file (a device, a named pipe, a socket), or a name for
an open file such as ``/dev/stdout`` or ``/proc/self/fd/1`` — is written straight into (appending,
as the shell's ``>`` already emptied it and ``>>`` asks to append); it is never renamed over.
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
    given = Path(path)
    if given.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(given))
    if is_stream(given):
        with _stream(given) as out:
            yield out
        return
    # Through links to what they name (a link's own folder may differ from its target's).
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
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


def is_stream(path: Path | str) -> bool:
    """Whether ``path`` is written as a stream, never replaced: it is not a regular file (a
    device, a named pipe, a socket), or it names an open file (``/dev/stdout``, ``/dev/fd/N``,
    ``/proc/self/fd/N``), whatever that file is."""
    given = Path(path)
    try:
        status = given.stat()
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode):
        return True
    text = str(given.absolute())
    return text.startswith(("/dev/", "/proc/")) or os.path.realpath(given).startswith("/proc/")


@contextmanager
def _stream(target: Path) -> Iterator[BinaryIO]:
    """Writes straight into a stream (which cannot be replaced)."""
    with open(target, "ab", buffering=BUFFER_BYTES) as handle:
        yield handle
        handle.flush()
        with contextlib.suppress(OSError):  # devices and pipes mostly cannot be synced
            os.fsync(handle.fileno())
