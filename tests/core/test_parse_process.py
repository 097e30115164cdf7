"""The parsing process of a large import ends with the import, however the import ends."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditviewer.core import parse_process
from tests.conftest import make_entry

REPOSITORY = Path(__file__).resolve().parents[2]
BIG_ENTRIES = 7000
# Seconds a killed import's pipes and processes get to close and end.
GRACE = 5.0


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export just large enough to be parsed in a separate process."""
    padding = "x" * 2000
    entries = [make_entry(n, user_agent=f"memfault-cli/1.4 {padding}") for n in range(BIG_ENTRIES)]
    path = tmp_path_factory.mktemp("export") / "big.json"
    path.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    assert path.stat().st_size >= parse_process.PARALLEL_MIN_BYTES
    return path


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name; None when there is no PID."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _session_members(session: int) -> list[int]:
    """Living (not zombie) processes of a session."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None and fields[0] != "Z" and int(fields[3]) == session:
            members.append(int(entry))
    return members


def _children(pid: int) -> list[int]:
    return [
        member
        for member in _session_members(pid)
        if (fields := _stat_fields(member)) is not None and int(fields[1]) == pid
    ]


def _wait_for_parser(process: subprocess.Popen[bytes]) -> None:
    """Waits until the import has started its parsing process."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for child in _children(process.pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                return
        assert process.poll() is None, "the import ended before its parsing process started"
        time.sleep(0.01)
    pytest.fail("the import did not start a parsing process")


def _import_command(store: Path, export: Path) -> list[str]:
    return [sys.executable, "-m", "auditviewer", "--store", str(store), "import", str(export)]


def _stored_counts(store: Path) -> tuple[int, int]:
    with sqlite3.connect(store) as connection:
        entries = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
        sources = connection.execute("SELECT count(*) FROM sources").fetchone()[0]
    connection.close()
    return entries, sources


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("delay", [0.0, 0.4, 1.2], ids=["starting", "early", "mid-parse"])
def test_killed_import_leaves_no_process_holding_its_output(
    big_export: Path, tmp_path: Path, delay: float
) -> None:
    store = tmp_path / "store.sqlite"
    importer = subprocess.Popen(
        _import_command(store, big_export),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for_parser(importer)
        time.sleep(delay)
        importer.kill()
        # Only EOF on both pipes ends this: no parsing process or resource tracker holds them.
        importer.communicate(timeout=GRACE)
    finally:
        if importer.poll() is None:
            importer.kill()
    assert importer.returncode == -signal.SIGKILL
    deadline = time.monotonic() + GRACE
    while _session_members(importer.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_members(importer.pid) == []

    assert _stored_counts(store) == (0, 0)
    again = subprocess.run(
        _import_command(store, big_export), capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert _stored_counts(store) == (BIG_ENTRIES, 1)


def test_parent_gone_is_seen_from_a_process_id() -> None:
    assert not parse_process._parent_gone(os.getppid())
    assert parse_process._parent_gone(os.getppid() + 1 if os.getppid() != 1 else 2)


WATCHED_CHILD = """
import multiprocessing, os, sys, time
from auditviewer.core import parse_process

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=parse_process._watch_parent, args=(os.getpid(),))
    child.start()
    print(child.pid, flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_parsing_process_ends_itself_when_its_parent_is_gone_without_the_kernels_help(
    tmp_path: Path,
) -> None:
    script = tmp_path / "parent.py"
    script.write_text(WATCHED_CHILD, encoding="utf-8")
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _stat_fields(child) is not None
    parent.kill()
    parent.communicate(timeout=2 * GRACE)
    deadline = time.monotonic() + GRACE
    while (fields := _stat_fields(child)) is not None and fields[0] != "Z":
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.05)
