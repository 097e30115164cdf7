"""``auditviewer review ...`` and ``view ...``, and ``--view`` for query and export: a daily
review scripted from the command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from auditviewer.cli import main
from tests.conftest import make_entry, write_json
from tests.test_cli import assert_one_line_error

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store of 30 entries, every third a release."""
    entries = [
        make_entry(n, **({"action": "release.update"} if n % 3 == 0 else {}))
        for n in range(30, 0, -1)
    ]
    path = tmp_path / "store.sqlite"
    assert (
        main(["--store", str(path), "import", str(write_json(tmp_path / "e.json", entries))]) == 0
    )
    capsys.readouterr()
    return path


def run(store: Path, *argv: str) -> int:
    return main(["--store", str(store), *argv])


def _out(capsys: pytest.CaptureFixture[str], store: Path, *argv: str) -> str:
    assert run(store, *argv) == 0
    return capsys.readouterr().out


def _release_seqs(capsys: pytest.CaptureFixture[str], store: Path) -> list[str]:
    listed = json.loads(_out(capsys, store, "query", "action:release.*", "--format", "json"))
    return [str(record["seq"]) for record in listed]


def test_a_review_from_start_to_signed_report(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = _out(capsys, store_path, "review", "start", "Weekly", "--query", "action:release.*",
                  "--by", "Ann Lee").strip()  # fmt: skip
    assert review == "1"
    seqs = _release_seqs(capsys, store_path)
    assert len(seqs) == 10
    marked = _out(capsys, store_path, "review", "mark", review, *seqs[:2], "--as", "flagged",
                  "--note", "<script>x</script>", "--tag", "=cmd", "--tag", "sso")  # fmt: skip
    assert "Marked 2 entries; 2 of 10 reviewed, 2 flagged, 0 follow-up" in marked
    _out(capsys, store_path, "review", "mark", review, seqs[2], "--as", "follow-up")
    _out(capsys, store_path, "review", "mark", review, *seqs[3:], "--as", "ok")
    assert "review 1" in _out(capsys, store_path, "review", "history", seqs[0])
    listing = _out(capsys, store_path, "review", "list")
    assert "10 of 10 reviewed, 2 flagged, 1 follow-up" in listing
    assert "open" in listing
    signed = _out(capsys, store_path, "review", "sign", review, "--by", "Ann Lee",
                  "--statement", "All release changes reviewed.")  # fmt: skip
    assert "Signed review 1" in signed
    shown = _out(capsys, store_path, "review", "show", review)
    assert "Statement: All release changes reviewed." in shown
    assert "Flagged and follow-up entries: 3" in shown

    for suffix in ("json", "csv", "pdf"):
        target = tmp_path / f"report.{suffix}"
        written = _out(capsys, store_path, "review", "report", review, "-o", str(target))
        assert f"({suffix}, " in written
        assert target.stat().st_size > 500
    record = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert sorted(str(e["seq"]) for e in record["entries"]) == sorted(seqs[:3])
    assert record["signature"]["statement"] == "All release changes reviewed."
    assert "'=cmd; sso" in (tmp_path / "report.csv").read_text(encoding="utf-8-sig")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_a_report_file_without_a_known_suffix_is_a_usage_error(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _out(capsys, store_path, "review", "start", "R")
    assert run(store_path, "review", "report", "1", "-o", str(tmp_path / "r.txt")) == 2
    err = capsys.readouterr().err
    assert ".pdf, .json, .csv" in err
    assert not (tmp_path / "r.txt").exists()


def test_marks_on_a_signed_review_are_refused_in_one_sentence(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _out(capsys, store_path, "review", "start", "R", "--by", "Ann")
    _out(capsys, store_path, "review", "sign", "1", "--by", "Ann", "--statement", "Nothing odd.")
    before = sqlite3.connect(store_path).execute("SELECT count(*) FROM review_events").fetchone()
    assert run(store_path, "review", "mark", "1", "3", "--as", "ok") == 1
    assert_one_line_error(capsys.readouterr().err, "review 1 ('R') was signed by Ann")
    after = sqlite3.connect(store_path).execute("SELECT count(*) FROM review_events").fetchone()
    assert before == after
    assert run(store_path, "review", "sign", "1", "--by", "Eve", "--statement", "again") == 1
    assert_one_line_error(capsys.readouterr().err, "can no longer change")


def test_mistakes_are_refused_in_one_sentence(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "review", "show", "7") == 1
    assert_one_line_error(capsys.readouterr().err, "there is no review 7")
    assert run(store_path, "review", "start", "R", "--query", "nokey:x") == 1
    assert_one_line_error(capsys.readouterr().err, "unknown key")
    _out(capsys, store_path, "review", "start", "Releases", "--query", "action:release.*")
    assert run(store_path, "review", "mark", "1", "999", "--as", "ok") == 1
    assert_one_line_error(capsys.readouterr().err, "there is no entry seq 999")
    assert run(store_path, "review", "mark", "1", "1") == 2
    assert "give --as, --note or --tag" in capsys.readouterr().err


def test_next_unreviewed_and_the_daily_review(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = _out(capsys, store_path, "review", "daily", "--by", "Ann").strip()
    newest_first = json.loads(_out(capsys, store_path, "query", "--format", "json"))
    seqs = [str(r["seq"]) for r in newest_first]
    assert _out(capsys, store_path, "review", "next", review).strip() == seqs[0]
    _out(capsys, store_path, "review", "mark", review, seqs[0], seqs[1], "--as", "ok")
    assert _out(capsys, store_path, "review", "next", review).strip() == seqs[2]
    _out(capsys, store_path, "review", "mark", review, *seqs, "--as", "ok")
    assert _out(capsys, store_path, "review", "next", review).strip() == ""
    _out(capsys, store_path, "review", "sign", review, "--by", "Ann", "--statement", "Day one.")
    later = write_json(tmp_path / "later.json", [make_entry(n) for n in range(40, 35, -1)])
    _out(capsys, store_path, "import", str(later))
    capsys.readouterr()
    assert run(store_path, "review", "daily", "--by", "Ann") == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "2"
    assert "seq 31 to 35: 5 entries to review" in captured.err


def test_saved_views_from_the_command_line(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _out(capsys, store_path, "view", "save", "Releases", "--query", "action:release.*",
         "--sort", "seq", "--asc", "--columns", "time,action")  # fmt: skip
    assert "Releases: action:release.*  [seq ascending, columns time,action, UTC" in _out(
        capsys, store_path, "view", "list"
    )
    seqs = _out(capsys, store_path, "query", "--view", "Releases", "--format", "json")
    listed = [r["seq"] for r in json.loads(seqs)]
    assert len(listed) == 10
    assert listed == sorted(listed)
    newest = [r["seq"] for r in json.loads(
        _out(capsys, store_path, "query", "--view", "releases", "--sort", "time", "--format",
             "json"))]  # fmt: skip
    assert sorted(newest) == listed
    assert _out(capsys, store_path, "query", "--view", "Releases", "--format", "count",
                f"seq:{listed[0]}").strip() == "1"  # fmt: skip
    target = tmp_path / "out.json"
    assert "Exported 10 entries" in _out(
        capsys, store_path, "export", "--view", "Releases", "-o", str(target)
    )
    _out(capsys, store_path, "view", "delete", "releases")
    assert run(store_path, "query", "--view", "Releases") == 1
    assert_one_line_error(capsys.readouterr().err, "no saved view 'Releases'")


def test_a_pdf_report_needs_no_display(store_path: Path, tmp_path: Path) -> None:
    """In a fresh process without a display the command line starts Qt offscreen itself."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "auditviewer", "--store", str(store_path), "review"]
    subprocess.run([*command, "start", "R"], cwd=ROOT, env=environment, check=True,
                   capture_output=True)  # fmt: skip
    result = subprocess.run(
        [*command, "report", "1", "-o", str(tmp_path / "r.pdf")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_a_query_option_may_begin_with_a_negated_term(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = _out(capsys, store_path, "review", "start", "Not releases", "--query",
                  "-action:release.update", "--by", "Ann").strip()  # fmt: skip
    shown = _out(capsys, store_path, "review", "show", review)
    assert "Scope: query '-action:release.update'" in shown
    assert "0 of 20 reviewed" in shown
    _out(capsys, store_path, "view", "save", "Others", "--query", "-action:release.update")
    assert "Others: -action:release.update" in _out(capsys, store_path, "view", "list")
    # An option after --query is still an option, and its value is missing.
    assert run(store_path, "review", "start", "X", "--query", "--by", "Ann") == 2
    assert "--query: expected one argument" in capsys.readouterr().err
