"""The command line: every command, in-process and as a real process; exit codes and errors."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditviewer.cli import (
    COMMAND_NAMES,
    GuiRequest,
    command_modules,
    gui_request,
    main,
    viewer_start,
)
from auditviewer.core.store.connection import Store
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import damage_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    """An export with 20 entries, a token actor, a conflict and a quarantined element."""
    entries = [make_entry(n) for n in range(20, 0, -1)]
    entries[0]["actor"] = {"type": "organization_auth_token", "id": 5, "name": "=CI bot"}
    entries.append(make_entry(7, action="deprecated.action"))
    entries.append({"id": 99, "created_date": "2024-09-01T00:00:00Z"})
    return write_json(tmp_path / "export.json", entries, indent=2)


@pytest.fixture
def store_path(tmp_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with ``export_file`` imported."""
    path = tmp_path / "store.sqlite"
    assert main(["--store", str(path), "import", str(export_file)]) == 0
    capsys.readouterr()
    return path


def run(store: Path, *argv: str) -> int:
    return main(["--store", str(store), *argv])


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("auditviewer: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# --- import ----------------------------------------------------------------------------------


def test_import_reports_counts_hash_span_and_quarantine(
    tmp_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(tmp_path / "s.sqlite", "import", str(export_file))
    out = capsys.readouterr().out
    assert code == 0
    assert str(export_file.resolve()) in out
    for line in ("parsed       22", "imported     20", "conflicts    1", "quarantined  1"):
        assert line in out
    assert "sha256       " in out
    assert "time span    2024-09-02 01:07:55Z .. 2024-09-21 20:07:55Z" in out
    assert "element 22, line " in out
    assert "Full-text index: 22 entries added" in out


def test_reimport_counts_duplicates(
    store_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "import", str(export_file)) == 0
    out = capsys.readouterr().out
    assert "duplicates   22" in out
    assert "Full-text index" not in out


def test_rejected_file_is_one_line_and_the_others_are_still_imported(
    tmp_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": 1,\n "action": }]', encoding="utf-8")
    code = run(tmp_path / "s.sqlite", "import", str(broken), str(export_file))
    captured = capsys.readouterr()
    assert code == 1
    assert_one_line_error(captured.err, "broken.json", "line 2", "Nothing of the file was imported")
    assert "imported     20" in captured.out


# --- query -----------------------------------------------------------------------------------


def test_query_count_prints_the_bare_number(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", "--format", "count") == 0
    assert capsys.readouterr().out == "22\n"
    assert run(store_path, "query", "actor-type:token", "--format", "count") == 0
    assert capsys.readouterr().out == "1\n"


def test_query_table_lists_newest_first_with_limit(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", "--limit", "3") == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[:3] == ["SEQ", "TIME", "(UTC)"]
    assert len(lines) == 4
    assert "2024-09-21 20:07:55Z" in lines[1]
    assert "=CI bot (token)" in lines[1]
    assert captured.err == "3 of 22 entries\n"


def test_query_words_are_joined_and_sorted(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(store_path, "query", "action:deprecated.*", "conflicts:yes", "--format", "json")
    assert code == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert (record["id"], record["flags"]) == ("7", "conflict unknown-action past-retention")
    assert run(store_path, "query", "--sort", "seq", "--asc", "--format", "json") == 0
    seqs = [r["seq"] for r in json.loads(capsys.readouterr().out)]
    assert seqs == list(range(1, 23))


def test_query_csv_is_neutralised(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(store_path, "query", "actor-type:token", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["actor_label"] for r in rows] == ["'=CI bot"]


def test_query_does_not_let_entry_text_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = make_entry(1, actor={"type": "user", "email": "\x1b]0;pwned\x07x@example.com"})
    path = write_json(tmp_path / "e.json", [entry])
    run(tmp_path / "s.sqlite", "import", str(path))
    capsys.readouterr()
    assert run(tmp_path / "s.sqlite", "query") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\\u001b]0;pwned\\u0007x@exa" in out


def test_malformed_query_is_one_line_error(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", "colour:blue") == 1
    assert_one_line_error(capsys.readouterr().err, "colour")


def test_a_value_no_action_can_hold_is_an_error_with_its_position(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", "action:(") == 1
    err = capsys.readouterr().err
    assert_one_line_error(err, "'(' cannot be part of an action name")
    assert "position 8" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["-action:organization_auth_token.update", "--format", "count"],
        ["--format", "count", "-action:organization_auth_token.update"],
        ["--format=count", "-action:organization_auth_token.update"],
        ["--form", "count", "-action:organization_auth_token.update"],
        ["--format", "count", "--", "-action:organization_auth_token.update"],
        ["-action:organization_auth_token.update", "--format", "count", '-"no such words"'],
        ["project:smart-sensor", "--format", "count", "-action:organization_auth_token.update"],
    ],
)
def test_negated_terms_are_query_words_wherever_they_stand(
    store_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", *argv) == 0
    assert capsys.readouterr().out == ("1\n" if "project:smart-sensor" in argv else "2\n")


def test_real_options_stay_options_next_to_negated_terms(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "query", "-action:x", "-h") == 0
    assert "usage: auditviewer query" in capsys.readouterr().out
    assert run(store_path, "query", "-action:x", "--colour", "red") == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err
    assert run(store_path, "query", "-", "--format", "count") == 1
    assert_one_line_error(capsys.readouterr().err, "'-' must be followed")


def test_export_takes_negated_terms_anywhere(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rest.json"
    argv = ["-action:organization_auth_token.update", "-o", str(target), "-quarantined:yes"]
    assert run(store_path, "export", *argv) == 0
    assert "Exported 1 entry " in capsys.readouterr().out
    assert [e["action"] for e in json.loads(target.read_bytes())] == ["deprecated.action"]


def test_missing_store_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.sqlite"
    for command in ("query", "stats", "verify"):
        assert run(missing, command) == 1
        assert_one_line_error(capsys.readouterr().err, str(missing), "no such store")
    assert not missing.exists()


def test_store_comes_from_the_environment_by_default(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUDITVIEWER_STORE", str(store_path))
    assert main(["query", "--format", "count"]) == 0
    assert capsys.readouterr().out == "22\n"


# --- export ----------------------------------------------------------------------------------


def test_export_without_query_writes_everything_reimportably(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "all.json"
    assert run(store_path, "export", "-o", str(target)) == 0
    assert "Exported 22 entries" in capsys.readouterr().out
    assert len(json.loads(target.read_bytes())) == 22
    fresh = tmp_path / "fresh.sqlite"
    assert run(fresh, "import", str(target)) == 0
    with Store.open(store_path) as a, Store.open(fresh) as b, a.raw() as ca, b.raw() as cb:
        query = "SELECT raw, raw_sha256 FROM entry_view ORDER BY raw_sha256"
        assert ca.execute(query).fetchall() == cb.execute(query).fetchall()


def test_export_of_a_query_as_csv_by_extension(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "tokens.csv"
    assert run(store_path, "export", "actor-type:token", "-o", str(target)) == 0
    assert "(csv, " in capsys.readouterr().out
    with target.open(encoding="utf-8", newline="") as handle:
        assert [r["actor_label"] for r in csv.DictReader(handle)] == ["'=CI bot"]
    other = tmp_path / "tokens.txt"
    assert run(store_path, "export", "--format", "csv", "-o", str(other)) == 0
    assert other.read_text(encoding="utf-8").startswith("seq,id,time_utc")


def test_export_that_cannot_be_written_is_one_line_error(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "x.json"
    assert run(store_path, "export", "-o", str(target)) == 1
    assert_one_line_error(capsys.readouterr().err, str(target))


def test_export_to_an_empty_file_name_says_a_name_is_needed(
    store_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run(store_path, "export", "-o", "") == 1
    assert_one_line_error(capsys.readouterr().err, "a file name is needed after -o")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_export_over_a_read_only_file_needs_force(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "kept.json"
    target.write_bytes(b"[]")
    target.chmod(0o444)
    assert run(store_path, "export", "-o", str(target)) == 1
    assert_one_line_error(capsys.readouterr().err, str(target), "read-only", "--force")
    assert target.read_bytes() == b"[]"
    assert run(store_path, "export", "-o", str(target), "--force") == 0
    assert "Exported 22 entries" in capsys.readouterr().out
    assert len(json.loads(target.read_bytes())) == 22


def test_a_damaged_store_is_named_by_export_and_query(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage_table(store_path, "entries")
    target = tmp_path / "out.json"
    target.write_bytes(b"[]")
    assert run(store_path, "export", "-o", str(target)) == 1
    err = capsys.readouterr().err
    assert_one_line_error(err, f"{store_path}: the store file is damaged", "verify")
    assert f"{target} was not touched" in err
    assert target.read_bytes() == b"[]"
    for argv in (["--format", "count"], ["jane"], []):
        assert run(store_path, "query", *argv) == 1
        assert_one_line_error(capsys.readouterr().err, f"{store_path}: the store file is damaged")


def test_a_damaged_text_index_is_named_by_query(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage_table(store_path, "entries_fts_data")
    assert run(store_path, "query", "jane", "--format", "count") == 1
    assert_one_line_error(capsys.readouterr().err, f"{store_path}:")


# --- stats, actions, verify ------------------------------------------------------------------


def test_stats(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(store_path, "stats") == 0
    out = capsys.readouterr().out
    assert "entries      22" in out
    assert "quarantined  1" in out
    assert "conflicts    1 id with conflicting versions (2 entries)" in out
    assert "imports      1 file, 0 sync runs" in out
    assert "time span    2024-09-02 01:07:55Z .. 2024-09-21 20:07:55Z" in out
    assert "chain head   seq 22  sha256 " in out
    assert "export.json" in out


def test_actions_lists_the_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "never-created.sqlite", "actions") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ACTION", "LOGGED", "SINCE", "DESCRIPTION"]
    assert sum(line.split()[0] == "release.create" for line in lines) == 3
    assert not (tmp_path / "never-created.sqlite").exists()


def test_verify_passes_then_fails_after_tampering(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(store_path, "verify") == 0
    assert capsys.readouterr().out.startswith("OK: 22 entries")
    connection = sqlite3.connect(store_path)
    connection.execute("DROP TRIGGER entry_texts_refuse_update")
    connection.execute("UPDATE entry_texts SET raw = raw || ' ' WHERE seq = 9")
    connection.commit()
    connection.close()
    assert run(store_path, "verify") == 1
    captured = capsys.readouterr()
    assert "8 entries checked" in captured.out
    assert_one_line_error(captured.err, "entry seq 9", "SHA-256")


# --- usage and the viewer --------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["nosuchcommand"],
        ["export"],
        ["query", "--limit", "0"],
        ["query", "--format", "xml"],
        ["query", "--sort", "colour"],
        ["import"],
        ["--store"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "130" in out
    for command in command_modules():
        assert main([command.NAME, "--help"]) == 0
        assert "usage: auditviewer " + command.NAME in capsys.readouterr().out
    assert tuple(command.NAME for command in command_modules()) == COMMAND_NAMES
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("auditviewer ")


def test_no_command_or_a_file_path_asks_for_the_viewer(
    tmp_path: Path, export_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.sqlite"
    assert gui_request([]) == GuiRequest(None, ())
    assert gui_request(["--store", str(store)]) == GuiRequest(store, ())
    assert gui_request([f"--store={store}", str(export_file)]) == GuiRequest(store, (export_file,))
    assert gui_request([str(export_file), str(export_file)]) == GuiRequest(
        None, (export_file, export_file)
    )
    assert gui_request(["stats"]) is None
    assert gui_request(["--store", str(store), "query", "x"]) is None
    assert gui_request([str(tmp_path / "missing.json")]) is None
    assert gui_request(["--help"]) is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stats").write_text("[]", encoding="utf-8")
    assert gui_request(["stats"]) is None


def test_a_file_path_alone_opens_a_view_in_the_cache_folder_never_the_archive(
    tmp_path: Path, export_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITVIEWER_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    start = viewer_start(GuiRequest(None, (export_file,)))
    assert start.view_files == (export_file,)
    assert start.archive is None
    assert start.view_folder.is_relative_to(tmp_path / "cache")
    store = tmp_path / "s.sqlite"
    monkeypatch.setenv("AUDITVIEWER_STORE", str(store))
    assert viewer_start(GuiRequest(None, ())).archive == store

    import auditviewer.ui.app
    import auditviewer.ui.display_check

    started: list[tuple[object, ...]] = []
    monkeypatch.setattr(auditviewer.ui.display_check, "display_problem", lambda: None)
    monkeypatch.setattr(auditviewer.ui.app, "run_gui", lambda *args: started.append(args) or 0)
    assert main([str(export_file), str(export_file)]) == 0
    assert started == [(store, [export_file, export_file], start.view_folder)]
    assert not store.exists()


# --- as a real process -----------------------------------------------------------------------


def _process(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditviewer", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_python_m_auditviewer_runs_commands(tmp_path: Path, export_file: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    imported = _process("--store", store, "import", str(export_file))
    assert imported.returncode == 0, imported.stderr
    assert "imported     20" in imported.stdout
    env = {"AUDITVIEWER_STORE": store}
    counted = _process("query", "project:smart-sensor", "--format", "count", env=env)
    assert (counted.returncode, counted.stdout, counted.stderr) == (0, "21\n", "")
    bad = _process("--store", store, "query", "after:yesterday")
    assert bad.returncode == 1
    assert_one_line_error(bad.stderr, "yesterday", "position")
    usage = _process("--store", store, "export")
    assert usage.returncode == 2
    assert "-o" in usage.stderr
    negated = _process("--store", store, "query", "-project:smart-sensor", "--format", "count")
    assert (negated.returncode, negated.stdout, negated.stderr) == (0, "1\n", "")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_ctrl_c_exits_130_and_keeps_the_store_as_it_was(tmp_path: Path, export_file: Path) -> None:
    # The second "file" is a named pipe nobody writes to: the import waits there until Ctrl+C.
    fifo = tmp_path / "never-written.json"
    os.mkfifo(fifo)
    store = tmp_path / "s.sqlite"
    command = ["-u", "-m", "auditviewer", "--store", str(store), "import", str(export_file)]
    process = subprocess.Popen(
        [sys.executable, *command, str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == str(export_file.resolve())
        # The report's last line: the first file is stored, the second one's import waits.
        while not process.stdout.readline().startswith("    element 22"):
            pass
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    # Usually "nothing of .../never-written.json was stored"; the exact point Ctrl+C hits varies.
    assert_one_line_error(err, "interrupted")
    assert "Traceback" not in out
    with Store.open(store) as opened, opened.raw() as connection:
        assert connection.execute("SELECT count(*) FROM entry_view").fetchone()[0] == 22
        assert connection.execute("SELECT count(*) FROM sources").fetchone()[0] == 1


def test_the_commands_never_load_qt() -> None:
    probe = (
        "import sys; from auditviewer.cli import main; "
        "code = main(['actions']); "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]; "
        "sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


def test_viewer_with_a_missing_file_is_an_error(
    tmp_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(export_file), str(tmp_path / "gone.json")]) == 1
    assert_one_line_error(capsys.readouterr().err, "gone.json", "no such file")


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="no /dev/stdout here")
def test_export_to_dev_stdout_sends_the_entries_down_the_pipe_and_the_summary_to_stderr(
    store_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(store_path), "export", "-o",
         "/dev/stdout"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert len(entries) == run_count(store_path)
    assert done.stderr.decode().startswith(f"Exported {len(entries)} entries to /dev/stdout")
    assert Path("/dev/stdout").is_symlink() or not Path("/dev/stdout").is_file()


def run_count(store: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(store), "query", "--format", "count"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin here")
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_import_reads_an_export_piped_to_dev_stdin(
    tmp_path: Path, export_file: Path, compressed: bool
) -> None:
    data = export_file.read_bytes()
    piped = gzip.compress(data) if compressed else data
    store = tmp_path / "piped.sqlite"
    done = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(store), "import", "/dev/stdin"],
        input=piped, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("/dev/stdin\n")
    assert f"sha256       {hashlib.sha256(piped).hexdigest()}" in done.stdout.decode()
    # The same entries as importing the file by its name.
    named = tmp_path / "named.sqlite"
    assert main(["--store", str(named), "import", str(export_file)]) == 0
    assert run_count(store) == run_count(named) == 22
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT location FROM sources").fetchall() == [("/dev/stdin",)]
