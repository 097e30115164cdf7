"""Checks an evidence pack handed over as a .zip, as ``export --evidence --zip`` writes it.

The zip is unpacked into a private temporary folder and checked there as a folder
(:func:`.pack_check.check_pack`); the folder is removed afterwards. Nothing the zip holds can
reach outside that folder: a member with an absolute path, a ``..`` part, a backslash or a
drive is not unpacked and is named, as are links, encrypted members, members damaged in the
zip (their CRC does not match) and a name the zip holds twice (a second copy could otherwise
replace the first unseen). The files the zip declares must fit in the free space of the
temporary folder; a member is never read past the size it declares.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Final

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.packs.pack_check import (
    PackCheck,
    PackCheckCancelled,
    PackUnreadable,
    check_pack,
)
from auditviewer.core.records import CancelToken
from auditviewer.core.wording import counted

_COPY_BYTES: Final = 1 << 20
# Room left on the temporary folder's disk beyond what the zip unpacks to.
_SPARE_BYTES: Final = 64 << 20


def is_zip_path(path: Path | str) -> bool:
    """Whether ``path`` names a file (not a folder) to check as a zipped pack."""
    candidate = Path(path).expanduser()
    if not candidate.is_file():
        return False
    return candidate.suffix.lower() == ".zip" or zipfile.is_zipfile(candidate)


def check_folder_or_zip(
    path: Path | str,
    *,
    expected_key: bytes | None = None,
    expected_fingerprint: str | None = None,
    cancel: CancelToken | None = None,
) -> PackCheck:
    """Checks the pack at ``path``: its folder, or a .zip holding it."""
    check = check_pack_zip if is_zip_path(path) else check_pack
    return check(
        path,
        expected_key=expected_key,
        expected_fingerprint=expected_fingerprint,
        cancel=cancel,
    )


def check_pack_zip(
    zip_path: Path | str,
    *,
    expected_key: bytes | None = None,
    expected_fingerprint: str | None = None,
    cancel: CancelToken | None = None,
) -> PackCheck:
    """Checks the pack inside ``zip_path``; the report names the zip, and each problem found
    in the zip itself comes before those of the pack it holds."""
    source = Path(zip_path).expanduser()
    with tempfile.TemporaryDirectory(prefix="auditviewer-pack-") as scratch:
        root = Path(scratch)
        problems = _unpack(source, root, cancel)
        folder = _pack_folder(root)
        try:
            report = check_pack(
                folder,
                expected_key=expected_key,
                expected_fingerprint=expected_fingerprint,
                cancel=cancel,
            )
        except AuditViewerError as exc:
            # The temporary folder means nothing to the user; the zip does.
            message = str(exc).replace(str(folder), str(source)).replace(str(root), str(source))
            raise type(exc)(message) from None
    return replace(report, folder=source, problems=(*problems, *report.problems))


def _pack_folder(root: Path) -> Path:
    """The pack's folder among what was unpacked: the one folder the zip holds, or the zip's
    top when it holds files there or several folders (every other file is then named as extra)."""
    top = list(root.iterdir())
    if len(top) == 1 and top[0].is_dir() and not top[0].is_symlink():
        return top[0]
    return root


def _unpack(source: Path, root: Path, cancel: CancelToken | None) -> list[str]:
    """Unpacks the safe members of ``source`` under ``root``; the problems with the others."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise PackUnreadable(f"{source}: not a readable zip ({reason})") from None
    problems: list[str] = []
    with archive:
        members = archive.infolist()
        seen: dict[str, int] = {}
        for member in members:
            seen[member.filename] = seen.get(member.filename, 0) + 1
        problems.extend(
            f"{name}: the zip holds {counted(times, 'copy', 'copies')} of it; none was unpacked"
            for name, times in seen.items()
            if times > 1
        )
        wanted = [m for m in members if seen[m.filename] == 1 and not m.is_dir()]
        _check_room(source, root, wanted)
        for member in wanted:
            if cancel is not None and cancel.cancelled:
                raise PackCheckCancelled(f"{source}: check cancelled")
            refused = _refusal(member)
            if refused is not None:
                problems.append(f"{member.filename}: {refused}; not unpacked")
                continue
            damaged = _extract(archive, member, root)
            if damaged is not None:
                problems.append(f"{member.filename}: {damaged}")
    return problems


def _refusal(member: zipfile.ZipInfo) -> str | None:
    """Why ``member`` is not unpacked; None when it is a plain file inside the folder."""
    name = member.filename
    parts = PurePosixPath(name).parts
    if (
        "\\" in name
        or name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\0" in name
    ):
        return "a path leading outside the pack's folder"
    # The type bits are Unix's, and only a zip made on Unix (system 3) sets them; a zip that
    # leaves them out (as Python's writestr and Windows tools do) holds plain files.
    kind = stat.S_IFMT(member.external_attr >> 16) if member.create_system == 3 else 0
    if kind == stat.S_IFLNK:
        return "a link, not a file"
    if kind not in (0, stat.S_IFREG):
        return "not a plain file"
    if member.flag_bits & 0x1:
        return "encrypted, so it cannot be checked"
    return None


def _check_room(source: Path, root: Path, members: list[zipfile.ZipInfo]) -> None:
    needed = sum(member.file_size for member in members)
    free = shutil.disk_usage(root).free
    if needed + _SPARE_BYTES > free:
        raise PackUnreadable(
            f"{source}: unpacks to {needed:,} bytes, more than the {free:,} bytes free in the "
            f"temporary folder {root.parent}; unpack it where there is room and name the folder"
        )


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path) -> str | None:
    """Writes ``member`` under ``root``; what is wrong with it in the zip, or None."""
    target = root.joinpath(*PurePosixPath(member.filename).parts)
    written = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as data, open(target, "xb") as out:
            written = True
            shutil.copyfileobj(data, out, _COPY_BYTES)
    except (zipfile.BadZipFile, EOFError) as exc:
        _discard(target, written)
        return f"damaged in the zip ({exc}); not unpacked"
    except NotImplementedError as exc:
        _discard(target, written)
        return f"cannot be unpacked ({exc})"
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        _discard(target, written)
        return "clashes with another member of the zip; not unpacked"
    except OSError as exc:
        _discard(target, written)
        raise PackUnreadable(
            f"{member.filename}: cannot be unpacked ({exc.strerror or exc})"
        ) from None
    return None


def _discard(target: Path, written: bool) -> None:
    """Removes a member's partly written file (never a file another member wrote)."""
    if written:
        target.unlink(missing_ok=True)
