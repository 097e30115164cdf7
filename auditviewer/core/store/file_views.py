"""Views: export files shown from a store of their own in the cache folder, never the archive.

Opening a file to look at it must not add it to the archive, which keeps whatever it is given
for good. A view is a store built from the files alone, through the normal import, and named
by their SHA-256: opening the same files again reuses it. It is built under a temporary name
and only renamed into place once its import has finished, so a view whose import was
interrupted is never taken for a complete one. Once built, a view's file is made read-only.
Views are a cache: they can be deleted at any time and are rebuilt from the files when needed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from auditviewer.core.errors import ImportCancelled, ImportRejected, StoreError
from auditviewer.core.records import CancelToken, ImportReport, Progress
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file

VIEW_SUFFIX = ".sqlite"
# Views being built carry this prefix until their import has finished.
BUILDING_PREFIX = ".building-"
_HASH_CHUNK = 1 << 20
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

# How far the import of one of the view's files has got.
ViewProgress = Callable[[Path, Progress], None]


@dataclass(frozen=True, slots=True)
class FileView:
    """A view ready to open: its store file, the files it shows, and how it came to be."""

    path: Path
    files: tuple[Path, ...]
    # What the import of each file did; empty when an existing view was reused.
    reports: tuple[ImportReport, ...] = ()

    @property
    def reused(self) -> bool:
        """Whether the view existed already (nothing was imported)."""
        return not self.reports


@dataclass(frozen=True, slots=True)
class CachedView:
    """A view kept in the cache folder."""

    path: Path
    size_bytes: int


def file_sha256(path: Path, cancel: CancelToken | None = None) -> str:
    """The SHA-256 (hex) of a file's bytes, as the import records it."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
                if cancel is not None and cancel.cancelled:
                    raise ImportCancelled(f"{path}: opening cancelled")
    except OSError as exc:
        raise ImportRejected(str(path), f"cannot read the file ({exc.strerror or exc})") from None
    return digest.hexdigest()


def view_key(hashes: Iterable[str]) -> str:
    """The name of the view of files with these SHA-256s: the hash itself for one file, a hash
    of the sorted hashes for several (the same files in any order give the same view)."""
    unique = sorted(set(hashes))
    if len(unique) == 1:
        return unique[0]
    return hashlib.sha256("\n".join(unique).encode("ascii")).hexdigest()


class ViewCache:
    """The views kept in one folder (the user cache folder, or a test's own)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def view_path(self, key: str) -> Path:
        """Where the view named ``key`` is kept."""
        return self.folder / f"{key}{VIEW_SUFFIX}"

    def find(self, files: Sequence[Path], cancel: CancelToken | None = None) -> Path | None:
        """The finished view of ``files``, if one is kept; reading them is all it costs."""
        key = view_key(file_sha256(Path(file), cancel) for file in files)
        path = self.view_path(key)
        return path if path.is_file() else None

    def open_view(
        self,
        files: Sequence[Path],
        *,
        progress: ViewProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> FileView:
        """The view of ``files``: the kept one, or one built now from all of them.

        A file that cannot be imported rejects the whole view (:class:`ImportRejected`, no
        view is kept); :class:`ImportCancelled` when ``cancel`` is set.
        """
        paths = tuple(Path(file) for file in files)
        if not paths:
            raise ValueError("a view needs at least one file")
        found = self.find(paths, cancel)
        if found is not None and _opens(found):
            return FileView(found, paths)
        return self._build(paths, progress, cancel)

    def _build(
        self,
        files: tuple[Path, ...],
        progress: ViewProgress | None,
        cancel: CancelToken | None,
    ) -> FileView:
        self.folder.mkdir(parents=True, exist_ok=True)
        building = self.folder / f"{BUILDING_PREFIX}{uuid.uuid4().hex}{VIEW_SUFFIX}"
        reports: list[ImportReport] = []
        try:
            with Store.open(building) as store:
                for file in files:
                    on_progress = None if progress is None else _progress_of(file, progress)
                    reports.append(import_file(store, file, progress=on_progress, cancel=cancel))
                _self_contained(store)
            # The hashes of the bytes actually imported name the view, not those read before.
            path = self.view_path(view_key(done.sha256 or "" for done in reports))
            if not path.exists():  # else the same view was built meanwhile: keep that one
                building.chmod(_READ_ONLY)
                os.replace(building, path)
        finally:
            _remove_store_files(building)
        return FileView(path, files, tuple(reports))

    def views(self) -> list[CachedView]:
        """The finished views kept, largest first."""
        if not self.folder.is_dir():
            return []
        found = [
            CachedView(path, _size_with_companions(path))
            for path in self.folder.glob(f"*{VIEW_SUFFIX}")
            if not path.name.startswith(BUILDING_PREFIX) and path.is_file()
        ]
        return sorted(found, key=lambda view: (-view.size_bytes, view.path.name))

    def remove(self, *, keep: Path | None = None) -> int:
        """Deletes every view (and any unfinished one) except ``keep``; returns the bytes freed."""
        if not self.folder.is_dir():
            return 0
        freed = 0
        for path in self.folder.glob(f"*{VIEW_SUFFIX}"):
            if keep is not None and path.resolve() == keep.resolve():
                continue
            freed += _size_with_companions(path)
            _remove_store_files(path)
        return freed


def _progress_of(file: Path, progress: ViewProgress) -> Callable[[Progress], None]:
    return lambda step: progress(file, step)


def _self_contained(store: Store) -> None:
    """Leaves the whole view in its one file (no write-ahead log beside it to lose)."""
    with store.raw() as connection:
        mode = connection.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    if str(mode).lower() != "delete":
        raise StoreError(f"{store.path}: the view could not be finished; try again")


def _opens(path: Path) -> bool:
    """Whether a kept view still opens with this version (an older one is rebuilt)."""
    try:
        Store.open(path, create=False).close()
    except StoreError:
        _remove_store_files(path)
        return False
    return True


def _companions(path: Path) -> tuple[Path, ...]:
    return (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")))


def _size_with_companions(path: Path) -> int:
    total = 0
    for item in _companions(path):
        with suppress(OSError):
            total += item.stat().st_size
    return total


def _remove_store_files(path: Path) -> None:
    """Deletes a store file and SQLite's files beside it, read-only or not."""
    for item in _companions(path):
        with suppress(FileNotFoundError):
            item.chmod(stat.S_IRUSR | stat.S_IWUSR)
        with suppress(FileNotFoundError):
            item.unlink()
