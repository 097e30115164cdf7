"""A pack handed over as a .zip is checked as it is, and nothing in the zip reaches outside the
private folder it is unpacked into."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from auditviewer.core.packs.pack import ENTRIES, MANIFEST, SUMS, write_evidence_pack
from auditviewer.core.packs.pack_check import PackUnreadable, check_pack
from auditviewer.core.packs.pack_zip import check_folder_or_zip
from auditviewer.core.packs.signing import SigningKey
from auditviewer.core.store.connection import Store

Members = list[tuple[zipfile.ZipInfo, bytes]]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the check unpacks into, to see that it is left empty."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def zipped(sample_store: Store, key: SigningKey, tmp_path: Path) -> Path:
    report = write_evidence_pack(sample_store, tmp_path / "pack", key=key, make_zip=True)
    assert report.zip_path is not None
    return report.zip_path


def _members(path: Path) -> Members:
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def _rezip(path: Path, change: Callable[[Members], Members]) -> Path:
    """Writes ``path`` again with its members passed through ``change``."""
    members = change(_members(path))
    with (
        warnings.catch_warnings(),  # a name written twice is what some tests mean to write
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        warnings.simplefilter("ignore", UserWarning)
        for info, data in members:
            archive.writestr(info, data)
    return path


def _info(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def _verify_pack(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditviewer", "verify-pack", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_zip_export_writes_verifies_as_it_is(zipped: Path, scratch: Path) -> None:
    report = check_folder_or_zip(zipped)
    assert report.ok, report.problems
    assert report.folder == zipped
    assert report.entries == 295
    assert report.summary().startswith(f"OK: {zipped}: every file matches SHA256SUMS")
    assert list(scratch.iterdir()) == []  # the unpacked copy is gone

    done = _verify_pack(zipped)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"OK: {zipped}:")


def test_a_zip_of_the_files_without_their_folder_verifies(zipped: Path) -> None:
    _rezip(
        zipped,
        lambda members: [(_info(info.filename.split("/", 1)[1]), data) for info, data in members],
    )
    assert check_folder_or_zip(zipped).ok


def test_an_altered_entry_inside_the_zip_is_named(zipped: Path, scratch: Path) -> None:
    def alter(members: Members) -> Members:
        changed = []
        for info, data in members:
            if info.filename.endswith(ENTRIES):
                data = data.replace(b"release.update", b"release.updatf", 1)
            changed.append((info, data))
        return changed

    report = check_folder_or_zip(_rezip(zipped, alter))
    assert not report.ok
    assert any(p.startswith(f"{ENTRIES}: altered") for p in report.problems)
    altered = f"{ENTRIES}: entry seq 293 (position 1) was altered: its SHA-256 differs from"
    assert f"{altered} the manifest's" in report.problems
    assert list(scratch.iterdir()) == []

    done = _verify_pack(zipped)
    assert done.returncode == 1
    assert f"{zipped}: {ENTRIES}: altered" in done.stdout


def test_members_reaching_outside_the_folder_are_named_and_never_written(
    zipped: Path, tmp_path: Path, scratch: Path
) -> None:
    outside = tmp_path / "outside.txt"
    absolute = tmp_path / "absolute.txt"
    hostile = [
        ("pack/../../outside.txt", b"escaped"),
        ("../outside.txt", b"escaped"),
        (str(absolute), b"escaped"),
        ("pack\\..\\..\\outside.txt", b"escaped"),
        ("C:/outside.txt", b"escaped"),
    ]
    _rezip(zipped, lambda members: [*members, *((_info(name), data) for name, data in hostile)])

    report = check_folder_or_zip(zipped)

    for name, _ in hostile:
        assert f"{name}: a path leading outside the pack's folder; not unpacked" in report.problems
    assert not outside.exists()
    assert not absolute.exists()
    assert not (tmp_path.parent / "outside.txt").exists()
    assert list(scratch.iterdir()) == []
    # The pack's own files still hold: only the hostile members are named.
    assert len(report.problems) == len(hostile)


def test_a_link_in_the_zip_is_named_and_not_followed(zipped: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the pack", encoding="utf-8")
    link = (_info("pack/README.txt", stat.S_IFLNK | 0o777), str(secret).encode())

    def swap(members: Members) -> Members:
        return [m for m in members if not m[0].filename.endswith("README.txt")] + [link]

    report = check_folder_or_zip(_rezip(zipped, swap))

    assert "pack/README.txt: a link, not a file; not unpacked" in report.problems
    assert "README.txt: missing" in report.problems
    assert secret.read_text(encoding="utf-8") == "not for the pack"


def test_a_name_held_twice_is_named(zipped: Path) -> None:
    def twice(members: Members) -> Members:
        (sums,) = [m for m in members if m[0].filename.endswith(SUMS)]
        return [*members, (_info(sums[0].filename), b"0" * 64 + b"  entries.json\n")]

    report = check_folder_or_zip(_rezip(zipped, twice))
    assert f"pack/{SUMS}: the zip holds 2 copies of it; none was unpacked" in report.problems
    assert f"{SUMS}: missing" in report.problems


def test_members_without_unix_file_types_are_plain_files(zipped: Path) -> None:
    """Zips made by Python's writestr or on Windows leave the Unix file type out."""

    def untyped(members: Members) -> Members:
        changed = []
        for info, data in members:
            bare = zipfile.ZipInfo(info.filename)
            bare.external_attr = 0o600 << 16 if info.filename.endswith(SUMS) else 0
            bare.create_system = 0 if info.filename.endswith(ENTRIES) else 3
            changed.append((bare, data))
        return changed

    assert check_folder_or_zip(_rezip(zipped, untyped)).ok


def test_an_extra_member_and_a_second_folder_are_named(zipped: Path) -> None:
    _rezip(
        zipped,
        lambda members: (
            [*members, (_info("pack/notes.txt"), b"x"), (_info("other/manifest.json"), b"{}")]
        ),
    )
    report = check_folder_or_zip(zipped)
    # Two folders: the zip's top is checked, and every file of either folder is named.
    assert "other/manifest.json: extra file, not part of the pack" in report.problems
    assert "pack/notes.txt: extra file, not part of the pack" in report.problems
    assert f"{MANIFEST}: missing" in report.problems


def test_a_member_damaged_in_the_zip_is_named(zipped: Path) -> None:
    data = bytearray(zipped.read_bytes())
    with zipfile.ZipFile(zipped) as archive:
        info = archive.getinfo(f"pack/{ENTRIES}")
    # The stored bytes of entries.json start after its local header (30 bytes, name, extra).
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 200] ^= 0xFF
    zipped.write_bytes(bytes(data))

    report = check_folder_or_zip(zipped)

    damaged = [p for p in report.problems if p.startswith(f"pack/{ENTRIES}: damaged in the zip")]
    assert damaged, report.problems
    assert f"{ENTRIES}: missing" in report.problems


def test_what_is_not_a_zip_is_refused_by_name(tmp_path: Path) -> None:
    fake = tmp_path / "pack.zip"
    fake.write_bytes(b"this is not a zip at all")
    with pytest.raises(PackUnreadable, match=re.escape(f"{fake}: not a readable zip")):
        check_folder_or_zip(fake)
    done = _verify_pack(fake)
    assert done.returncode != 0
    assert f"{fake}: not a readable zip" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_zip_too_big_for_the_temporary_folder_is_refused_before_unpacking(
    zipped: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditviewer.core.packs import pack_zip

    # As if the disk were full: the room asked for exceeds what is free.
    usage = os.statvfs(scratch)
    monkeypatch.setattr(pack_zip, "_SPARE_BYTES", usage.f_bavail * usage.f_frsize + 1)
    with pytest.raises(PackUnreadable, match=r"more than the [\d,]+ bytes free in the temporary"):
        check_folder_or_zip(zipped)
    assert list(scratch.iterdir()) == []


def test_the_folder_check_alone_names_a_zip_given_to_it(zipped: Path, tmp_path: Path) -> None:
    with pytest.raises(PackUnreadable, match=re.escape(f"{zipped}: a .zip, not a folder")):
        check_pack(zipped)
    # A folder goes to the folder check.
    assert check_folder_or_zip(tmp_path / "pack").ok
