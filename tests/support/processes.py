"""Real processes for the tests that kill or signal them: large exports, and /proc look-ups."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from auditviewer.core.reading import parse_process
from tests.conftest import make_entry

# Entries of :func:`write_big_export`.
BIG_ENTRIES = 7000


def write_big_export(path: Path) -> Path:
    """Writes an export just large enough to be parsed in a separate process."""
    padding = "x" * 2000
    entries = [make_entry(n, user_agent=f"memfault-cli/1.4 {padding}") for n in range(BIG_ENTRIES)]
    path.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    assert path.stat().st_size >= parse_process.PARALLEL_MIN_BYTES
    return path


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name; None when there is no PID."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def session_members(session: int) -> list[int]:
    """Living (not zombie) processes of a session."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(int(entry))
        if fields is not None and fields[0] != "Z" and int(fields[3]) == session:
            members.append(int(entry))
    return members


def wait_until_session_ends(session: int, seconds: float) -> None:
    """Waits until no process of the session is left, failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while session_members(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_members(session) == [], "a process outlived the one that started it"


def wait_for_parser(process: subprocess.Popen[bytes], seconds: float = 20) -> int:
    """Waits until ``process`` (a session leader) has started an import's parsing process.

    Returns the parsing process's id.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for member in session_members(process.pid):
            fields = stat_fields(member)
            if fields is None or int(fields[1]) != process.pid:
                continue
            try:
                command = Path(f"/proc/{member}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                return member
        assert process.poll() is None, "the import ended before its parsing process started"
        time.sleep(0.01)
    pytest.fail("the import did not start a parsing process")


def read_position(pid: int, path: Path) -> int | None:
    """How far process ``pid`` has read the open file ``path``; None when it has none such."""
    target = str(path.resolve())
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}") != target:
                continue
            info = Path(f"/proc/{pid}/fdinfo/{descriptor}").read_text()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("pos:"):
                return int(line.split()[1])
    return None


def wait_for_parsing_progress(
    process: subprocess.Popen[bytes], export: Path, fraction: float, seconds: float = 20
) -> None:
    """Waits until the parsing process has read ``fraction`` of ``export``, but not all of it.

    A file read to its end may already be stored; a point inside it is one where the import
    cannot have ended, however fast the machine.
    """
    parser = wait_for_parser(process, seconds)
    size = export.stat().st_size
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        position = read_position(parser, export)
        if position is not None and fraction * size <= position < size:
            return
        if (position is not None and position >= size) or process.poll() is not None:
            break
        time.sleep(0.002)
    pytest.fail(f"the parsing process was not seen between {fraction:.0%} and the end of the file")


def stored_counts(store: Path) -> tuple[int, int]:
    """How many entries and imported files a store holds."""
    connection = sqlite3.connect(store)
    try:
        entries = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
        sources = connection.execute("SELECT count(*) FROM sources").fetchone()[0]
    finally:
        connection.close()
    return int(entries), int(sources)
