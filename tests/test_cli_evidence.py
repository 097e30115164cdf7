"""``export --evidence``, ``verify-pack``, ``key``, ``log``, ``coverage`` and ``verify
--expect-head`` as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from auditviewer.cli import main
from tests.conftest import make_entry, write_json


@pytest.fixture
def store_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    # No keyring: the signing key goes to a file in this test's own data folder.
    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "store.sqlite"
    export = write_json(tmp_path / "export.json", [make_entry(n) for n in range(60, 0, -1)])
    assert main(["--store", str(path), "import", str(export)]) == 0
    capsys.readouterr()
    return path


def _run(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--store", str(store), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_pack_is_written_signed_and_verified(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(store_path, capsys, "key")
    assert code == 0
    fingerprint = re.search(r"Fingerprint: ([0-9a-f ]+)", out)
    assert fingerprint is not None
    assert "readable by you only" in out
    assert (tmp_path / "data" / "auditviewer" / "evidence-signing-key.pem").exists()
    folder = tmp_path / "pack"
    code, out, _ = _run(
        store_path,
        capsys,
        "export",
        "--evidence",
        str(folder),
        "--by",
        "Ann",
        "--zip",
        "-action:project.delete",
    )
    assert code == 0, out
    assert f"fingerprint is {fingerprint.group(1).strip()}" in out
    assert (tmp_path / "pack.zip").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["query"] == "-action:project.delete"
    assert manifest["exporter"]["reviewer"] == "Ann"
    code, out, _ = _run(
        store_path, capsys, "verify-pack", str(folder), "--fingerprint", fingerprint.group(1)
    )
    assert code == 0
    assert out.startswith("OK:")
    assert "the expected key" in out


def test_verify_pack_names_the_altered_entry_and_exits_1(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pack"
    assert _run(store_path, capsys, "export", "--evidence", str(folder))[0] == 0
    data = (folder / "entries.json").read_bytes()
    (folder / "entries.json").write_bytes(data.replace(b"Jane Doe", b"Jane Dough", 1))
    code, out, err = _run(store_path, capsys, "verify-pack", str(folder))
    assert code == 1
    assert "entries.json: altered" in out
    assert re.search(r"entry seq \d+ \(position 1\) was altered", out)
    assert err.startswith("auditviewer: ")
    assert err.count("\n") == 1


def test_a_non_empty_folder_is_refused(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("mine")
    code, _, err = _run(store_path, capsys, "export", "--evidence", str(tmp_path / "taken"))
    assert code == 1
    assert "not empty" in err


def test_the_log_lists_each_operation(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(store_path, capsys, "export", "-o", str(tmp_path / "out.json"))[0] == 0
    assert _run(store_path, capsys, "verify")[0] == 0
    code, out, _ = _run(store_path, capsys, "log", "--json")
    assert code == 0
    whats = [record["what"] for record in json.loads(out)]
    assert whats == ["schema migration", "import", "export", "verify"]
    code, out, _ = _run(store_path, capsys, "log")
    assert code == 0
    assert re.search(r"^\s+2\s+\S+ \S+\s+\S+\s+import\s+60\s+", out, re.MULTILINE)


def test_verify_expect_head_and_redacted_export(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(store_path, capsys, "verify")
    head = re.search(r"sha256 ([0-9a-f]{64})", out)
    assert head is not None
    assert _run(store_path, capsys, "verify", "--expect-head", head.group(1))[0] == 0
    spaced = " ".join(head.group(1)[i : i + 4] for i in range(0, 64, 4)).upper()
    assert _run(store_path, capsys, "verify", "--expect-head", spaced)[0] == 0
    code, _, err = _run(store_path, capsys, "verify", "--expect-head", "00" * 32)
    assert code == 1
    assert "not in the store's chain" in err
    assert "the entries the store holds are intact" in err
    assert "damaged" not in err
    code, _, err = _run(store_path, capsys, "verify", "--expect-head", "zz")
    assert code == 2
    assert "is not a SHA-256: give its 64 hex digits" in err
    code, out, _ = _run(store_path, capsys, "export", "--redact", "-o", str(tmp_path / "r.csv"))
    assert code == 0
    assert "redacted" in out
    assert b"jane@example.com" not in (tmp_path / "r.csv").read_bytes()


def test_coverage_prints_text_and_json(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(store_path, capsys, "coverage", "--gap", "12h")
    assert code == 0
    assert "Sources:" in out
    assert "Months with entries in the last 12" in out
    code, out, _ = _run(store_path, capsys, "coverage", "--json", "--sync-every", "2w")
    assert code == 0
    report = json.loads(out)
    assert report["entries"] == 60
    code, _, err = _run(store_path, capsys, "coverage", "--gap", "soon")
    assert code == 1
    assert "--gap 'soon'" in err


def test_a_read_only_store_says_the_export_and_check_were_not_logged(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path.chmod(0o444)
    try:
        code, out, _ = _run(store_path, capsys, "export", "-o", str(tmp_path / "out.json"))
        assert code == 0
        assert "not recorded in the store's custody log" in out
        code, out, _ = _run(store_path, capsys, "verify")
        assert code == 0
        assert "this check was not recorded" in out
    finally:
        store_path.chmod(0o644)
    code, out, _ = _run(store_path, capsys, "log", "--json")
    assert [r["what"] for r in json.loads(out)] == ["schema migration", "import"]


def test_a_pack_names_a_signed_review_with_its_record_and_refuses_any_other(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(store_path, capsys, "review", "start", "Q3", "--by", "Ann")
    assert code == 0
    review = out.strip()
    # A review that does not exist, and one not yet signed, are refused; nothing is written.
    for wanted, said in (
        ("99", "there is no review 99"),
        (review, f"review {review} ('Q3') is not signed; a pack names only a signed review"),
    ):
        folder = tmp_path / f"pack-{wanted}"
        code, _, err = _run(
            store_path, capsys, "export", "--evidence", str(folder), "--review", wanted
        )
        assert code == 1
        assert said in err, err
        assert not folder.exists()
    code, _, err = _run(
        store_path, capsys, "export", "--evidence", str(tmp_path / "x"), "--review", "x"
    )
    assert code == 2
    assert "not a whole number" in err

    assert _run(store_path, capsys, "review", "mark", review, "3", "--as", "flagged")[0] == 0
    code, _, _ = _run(
        store_path, capsys, "review", "sign", review, "--by", "Ann Lee", "--statement", "Done."
    )
    assert code == 0
    folder = tmp_path / "pack"
    code, out, _ = _run(store_path, capsys, "export", "--evidence", str(folder), "--review", review)
    assert code == 0, out
    assert f"Belongs to review {review} (Q3), signed by Ann Lee at " in out

    recorded = json.loads((folder / "manifest.json").read_text())["review"]
    shown = _run(store_path, capsys, "review", "show", review)[1]
    assert recorded["id"] == int(review)
    assert (recorded["name"], recorded["signed_by"], recorded["statement"]) == (
        "Q3", "Ann Lee", "Done.",
    )  # fmt: skip
    assert recorded["counts"] == {"unreviewed": 59, "ok": 0, "flagged": 1, "follow-up": 0}
    assert recorded["entries_count"] == 60
    # The heads the review was signed with, as review show prints them.
    assert f"Entries: 60, chain head {recorded['entries_chain_head']}" in shown
    events_head = recorded["review_events_chain_head"]
    assert f"Review events: 1, chain head {events_head}" in shown
    assert re.fullmatch(r"[0-9a-f]{64}", events_head)
    assert _run(store_path, capsys, "verify-pack", str(folder))[0] == 0


def test_an_empty_pack_folder_name_is_refused(
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for name in ("", "  "):
        code, _, err = _run(store_path, capsys, "export", "--evidence", name)
        assert code == 1
        assert "a folder name is needed after --evidence" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_pack_of_a_saved_view_holds_what_the_view_matches(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _run(store_path, capsys, "view", "save", "Few", "--query", "seq:1 seq:2 seq:3 seq:4 seq:5")[
            0
        ]
        == 0
    )
    code, out, err = _run(
        store_path, capsys, "export", "--view", "Few", "--evidence", str(tmp_path / "pack")
    )
    assert code == 0, err
    assert out.startswith("Evidence pack of 5 entries")
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    assert manifest["query"] == "seq:1 seq:2 seq:3 seq:4 seq:5"
    assert manifest["count"] == 5
