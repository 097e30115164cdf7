"""Evidence packs: what they hold, that standard tools accept them, and that tampering is named."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import orjson
import pytest

from auditviewer.core.errors import ExportFailed
from auditviewer.core.exporting.export import ExportCancelled, export_json
from auditviewer.core.exporting.redaction import Redactor
from auditviewer.core.packs.pack import (
    ENTRIES,
    MANIFEST,
    PUBLIC_KEY,
    README,
    SIGNATURE,
    SUMMED,
    SUMS,
    write_evidence_pack,
)
from auditviewer.core.packs.pack_check import PackUnreadable, check_pack
from auditviewer.core.packs.signing import SigningKey, public_pem, signing_key
from auditviewer.core.querying.language import parse_query
from auditviewer.core.records import CancelToken
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.custody_log import EVIDENCE_PACK
from auditviewer.core.store.file_import import import_file
from tests.conftest import write_json
from tests.core.packs.conftest import SAMPLE


@pytest.fixture
def pack(sample_store: Store, key: SigningKey, tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    write_evidence_pack(sample_store, folder, key=key, reviewer="Ann Auditor")
    return folder


def _manifest(folder: Path) -> dict[str, object]:
    value = json.loads((folder / MANIFEST).read_bytes())
    assert isinstance(value, dict)
    return value


def test_the_pack_holds_the_json_export_and_a_manifest_of_every_entry(
    sample_store: Store, key: SigningKey, tmp_path: Path
) -> None:
    flt = parse_query("action:release.*")
    export_json(sample_store, tmp_path / "plain.json", filter=flt)
    report = write_evidence_pack(
        sample_store,
        tmp_path / "pack",
        key=key,
        filter=flt,
        reviewer="Ann Auditor",
        review={"id": "review-7"},
    )
    folder = tmp_path / "pack"
    assert (folder / ENTRIES).read_bytes() == (tmp_path / "plain.json").read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted((*SUMMED, SUMS))
    manifest = _manifest(folder)
    with sample_store.raw() as connection:
        stored = {
            seq: bytes(sha).hex()
            for seq, sha in connection.execute("SELECT seq, raw_sha256 FROM entry_texts")
        }
        store_id = connection.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        head = connection.execute(
            "SELECT seq, chain_sha256 FROM entry_texts ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    listed = manifest["entries"]
    assert isinstance(listed, list)
    elements = orjson.loads((folder / ENTRIES).read_bytes())
    assert manifest["count"] == len(listed) == len(elements) == report.entries > 0
    assert all(item["sha256"] == stored[item["seq"]] for item in listed)
    assert manifest["query"] == "action:release.*"
    assert manifest["sort"] == "time, newest first"
    assert manifest["byte_exact"] is True
    assert manifest["exporter"] == {
        "os_user": manifest["exporter"]["os_user"],
        "reviewer": "Ann Auditor",
    }  # type: ignore[index]
    assert manifest["review"] == {"id": "review-7"}
    store = manifest["store"]
    assert isinstance(store, dict)
    assert store["id"] == store_id[0]
    assert store["entry_chain_head"] == {"seq": head[0], "sha256": bytes(head[1]).hex()}
    (source,) = manifest["sources"]  # type: ignore[misc]
    assert source["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert source["imported_utc"]
    assert manifest["signature"]["fingerprint"] == key.fingerprint  # type: ignore[index]
    assert report.fingerprint == key.fingerprint
    assert check_pack(folder).ok


def test_sha256sum_accepts_the_pack(pack: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    result = subprocess.run(
        ["sha256sum", "-c", SUMS], cwd=pack, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len(SUMMED)


def _openssl_with_ed25519() -> bool:
    if shutil.which("openssl") is None:
        return False
    result = subprocess.run(
        ["openssl", "pkeyutl", "-help"], capture_output=True, text=True, check=False
    )
    return "-rawin" in result.stdout + result.stderr


@pytest.mark.skipif(not _openssl_with_ed25519(), reason="openssl lacks pkeyutl -rawin (Ed25519)")
def test_the_readme_commands_verify_the_signature_and_the_fingerprint_with_openssl(
    pack: Path, key: SigningKey
) -> None:
    readme = (pack / README).read_text()
    verify = next(line.strip() for line in readme.splitlines() if "pkeyutl -verify" in line)
    result = subprocess.run(
        shlex.split(verify), cwd=pack, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    printed = next(line.strip() for line in readme.splitlines() if "tail -c 32" in line)
    digits = subprocess.run(
        printed, shell=True, cwd=pack, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert digits == key.fingerprint.replace(" ", "")
    assert digits in readme
    # A changed manifest fails the same command.
    (pack / MANIFEST).write_bytes((pack / MANIFEST).read_bytes().replace(b'"count"', b'"Count"'))
    altered = subprocess.run(
        shlex.split(verify), cwd=pack, capture_output=True, text=True, check=False
    )
    assert altered.returncode != 0


@pytest.mark.parametrize("name", [*SUMMED, SUMS])
def test_one_flipped_byte_in_any_file_is_named(pack: Path, name: str) -> None:
    path = pack / name
    data = bytearray(path.read_bytes())
    at = len(data) // 2
    data[at] = data[at] ^ 0x01 if chr(data[at] ^ 0x01).isprintable() else data[at] ^ 0x02
    path.write_bytes(bytes(data))
    report = check_pack(pack)
    assert not report.ok
    assert any(problem.startswith(f"{name}:") for problem in report.problems), report.problems


def test_a_flipped_byte_in_an_entry_names_the_entry(pack: Path) -> None:
    listed = _manifest(pack)["entries"]
    assert isinstance(listed, list)
    target = listed[10]
    data = (pack / ENTRIES).read_bytes()
    spans = _element_texts(data)
    old = spans[10]
    new = old.replace(b'"action"', b'"actioN"', 1)
    assert new != old
    (pack / ENTRIES).write_bytes(data.replace(old, new, 1))
    problems = check_pack(pack).problems
    assert any(f"entry seq {target['seq']} (position 11) was altered" in p for p in problems)
    assert any(p.startswith(f"{ENTRIES}: altered") for p in problems)


def test_two_swapped_entries_are_named(pack: Path) -> None:
    listed = _manifest(pack)["entries"]
    assert isinstance(listed, list)
    data = (pack / ENTRIES).read_bytes()
    texts = _element_texts(data)
    texts[3], texts[7] = texts[7], texts[3]
    (pack / ENTRIES).write_bytes(b"[\n" + b",\n".join(texts) + b"\n]\n")
    problems = check_pack(pack).problems
    moved = [p for p in problems if "moved or swapped" in p]
    assert len(moved) == 2
    assert any(f"entry seq {listed[3]['seq']} is at position 8" in p for p in moved)
    assert any(f"entry seq {listed[7]['seq']} is at position 4" in p for p in moved)


def test_a_removed_entry_is_named(pack: Path) -> None:
    listed = _manifest(pack)["entries"]
    assert isinstance(listed, list)
    texts = _element_texts((pack / ENTRIES).read_bytes())
    del texts[5]
    (pack / ENTRIES).write_bytes(b"[\n" + b",\n".join(texts) + b"\n]\n")
    problems = check_pack(pack).problems
    assert any(f"entry seq {listed[5]['seq']} is missing" in p for p in problems)


def _element_texts(data: bytes) -> list[bytes]:
    from auditviewer.core.packs.pack_check import element_spans

    spans = element_spans(data)
    assert spans is not None
    return [data[start:end] for start, end in spans]


def test_a_removed_and_an_extra_file_are_named(pack: Path) -> None:
    (pack / README).unlink()
    (pack / "notes.txt").write_text("added later")
    problems = check_pack(pack).problems
    assert f"{README}: missing" in problems
    assert "notes.txt: extra file, not part of the pack" in problems


def test_a_pack_resigned_with_another_key_is_refused_when_the_signer_is_pinned(
    pack: Path, key: SigningKey, tmp_path: Path
) -> None:
    other = signing_key(tmp_path / "other.pem", use_keyring=False)
    manifest = (
        (pack / MANIFEST).read_bytes().replace(key.fingerprint.encode(), other.fingerprint.encode())
    )
    (pack / MANIFEST).write_bytes(manifest)
    (pack / SIGNATURE).write_bytes(other.sign(manifest))
    (pack / PUBLIC_KEY).write_bytes(other.public_pem)
    sums = "".join(
        f"{hashlib.sha256((pack / name).read_bytes()).hexdigest()}  {name}\n" for name in SUMMED
    )
    (pack / SUMS).write_text(sums)
    pinned = check_pack(pack, expected_fingerprint=key.fingerprint.replace(" ", ""))
    assert not pinned.ok
    assert any("signed with another key" in p and other.fingerprint in p for p in pinned.problems)
    by_key = check_pack(pack, expected_key=public_pem(key.public_key))
    assert any("signed with another key" in p for p in by_key.problems)


def test_a_signature_made_with_another_key_does_not_match_the_included_key(
    pack: Path, tmp_path: Path
) -> None:
    other = signing_key(tmp_path / "other.pem", use_keyring=False)
    (pack / SIGNATURE).write_bytes(other.sign((pack / MANIFEST).read_bytes()))
    problems = check_pack(pack).problems
    assert any("the signature does not match" in p for p in problems)


def test_unpinned_the_summary_names_the_included_keys_fingerprint(
    pack: Path, key: SigningKey
) -> None:
    report = check_pack(pack)
    assert report.ok
    assert not report.signer_pinned
    assert f"whose fingerprint is {key.fingerprint}" in report.summary()
    assert check_pack(pack, expected_fingerprint=key.fingerprint).summary().count("expected key")


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(
    sample_store: Store, key: SigningKey, tmp_path: Path
) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(ExportFailed, match="not empty"):
        write_evidence_pack(sample_store, folder, key=key)
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_evidence_pack(sample_store, empty, key=key).entries > 0


def test_a_cancelled_pack_leaves_nothing_behind(
    sample_store: Store, key: SigningKey, tmp_path: Path
) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(ExportCancelled):
        write_evidence_pack(sample_store, tmp_path / "pack", key=key, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir() if "pack" in p.name) == []


def test_the_zip_holds_the_folder(sample_store: Store, key: SigningKey, tmp_path: Path) -> None:
    report = write_evidence_pack(sample_store, tmp_path / "pack", key=key, make_zip=True)
    assert report.zip_path == tmp_path / "pack.zip"
    with zipfile.ZipFile(report.zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(f"pack/{n}" for n in (*SUMMED, SUMS))
        assert archive.read(f"pack/{ENTRIES}") == (tmp_path / "pack" / ENTRIES).read_bytes()


def test_a_redacted_pack_says_so_and_hashes_what_it_wrote(
    sample_store: Store, key: SigningKey, tmp_path: Path
) -> None:
    report = write_evidence_pack(sample_store, tmp_path / "pack", key=key, redactor=Redactor())
    assert report.redacted
    manifest = _manifest(tmp_path / "pack")
    assert manifest["byte_exact"] is False
    redaction = manifest["redaction"]
    assert isinstance(redaction, dict)
    assert "actor.email" in redaction["fields"]
    assert "ip_address" in redaction["fields"]
    assert "HMAC-SHA256" in redaction["policy"]
    data = (tmp_path / "pack" / ENTRIES).read_bytes()
    assert b"@example.com" not in data
    assert "REDACTED" in (tmp_path / "pack" / README).read_text()
    assert check_pack(tmp_path / "pack").ok


def test_the_pack_is_recorded_once_in_the_custody_log(pack: Path, sample_store: Store) -> None:
    records = [r for r in read_custody(sample_store) if r.what == EVIDENCE_PACK]
    assert len(records) == 1
    detail = records[0].detail
    assert detail["folder"] == str(pack.resolve())
    assert detail["files"][MANIFEST] == hashlib.sha256((pack / MANIFEST).read_bytes()).hexdigest()
    assert not [r for r in read_custody(sample_store) if r.what == "export"]


def test_a_pack_from_a_read_only_store_is_written_but_not_logged(
    sample_store: Store, key: SigningKey, tmp_path: Path
) -> None:
    path = sample_store.path
    sample_store.close()
    path.chmod(0o444)
    try:
        with Store.open(path) as read_only:
            assert read_only.read_only
            report = write_evidence_pack(read_only, tmp_path / "pack", key=key)
        assert not report.logged
        assert check_pack(tmp_path / "pack").ok
    finally:
        path.chmod(0o644)


@pytest.mark.slow
def test_a_pack_of_100000_entries_verifies_with_verify_pack_and_sha256sum(
    tmp_path: Path, key: SigningKey
) -> None:
    entries = [
        {
            "id": n,
            "created_date": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
            "action": "project.update",
            "actor": {"type": "user", "email": f"user{n % 50}@example.com"},
            "ip_address": f"10.0.{n % 200}.{n % 250}",
        }
        for n in range(100_000, 0, -1)
    ]
    export = tmp_path / "export.json"
    export.write_bytes(orjson.dumps(entries))
    with Store.open(tmp_path / "store.sqlite") as store:
        import_file(store, export, index_text=False)
        report = write_evidence_pack(store, tmp_path / "pack", key=key)
    assert report.entries == 100_000
    assert check_pack(tmp_path / "pack").ok
    if shutil.which("sha256sum") is not None:
        subprocess.run(["sha256sum", "--quiet", "-c", SUMS], cwd=tmp_path / "pack", check=True)


def test_a_pack_of_no_entries_verifies(tmp_path: Path, key: SigningKey) -> None:
    with Store.open(tmp_path / "store.sqlite") as store:
        import_file(store, write_json(tmp_path / "e.json", []))
        report = write_evidence_pack(store, tmp_path / "pack", key=key)
    assert report.entries == 0
    assert check_pack(tmp_path / "pack").ok
    assert re.search(r'"entries": \[\]', (tmp_path / "pack" / MANIFEST).read_text())


def test_the_entries_are_found_however_the_file_was_changed(pack: Path) -> None:
    from auditviewer.core.packs.pack_check import _expected_entries, element_spans, guided_spans

    expected = _expected_entries(_manifest(pack), [])
    texts = _element_texts((pack / ENTRIES).read_bytes())
    texts[2], texts[40] = texts[40], texts[2]
    del texts[100]
    texts[150] = texts[150] + b"  "
    texts[200] = texts[200].replace(b'"action"', b'"action" ', 1)
    data = b"[\n" + b",\n".join(texts) + b"\n]\n"
    assert guided_spans(data, expected) == element_spans(data)
    assert len(guided_spans(data, expected)) == len(texts)


def test_what_is_not_a_pack_folder_is_named(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("x", encoding="utf-8")
    for path, said in (
        (plain, "a file, not a folder"),
        (tmp_path / "gone", "no such folder"),
    ):
        with pytest.raises(PackUnreadable, match=re.escape(f"{path}: {said}")):
            check_pack(path)
