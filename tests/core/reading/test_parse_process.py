"""The parsing process of a large import ends with the import, however the import ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditviewer.core.reading import parse_process
from tests.support.processes import (
    BIG_ENTRIES,
    stat_fields,
    stored_counts,
    wait_for_parser,
    wait_for_parsing_progress,
    wait_until_session_ends,
    write_big_export,
)

REPOSITORY = Path(__file__).resolve().parents[3]
# Seconds a killed import's pipes and processes get to close and end.
GRACE = 5.0


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export just large enough to be parsed in a separate process."""
    return write_big_export(tmp_path_factory.mktemp("export") / "big.json")


def _import_command(store: Path, export: Path) -> list[str]:
    return [sys.executable, "-m", "auditviewer", "--store", str(store), "import", str(export)]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("point", [None, 0.0, 0.5], ids=["starting", "first-read", "mid-parse"])
def test_killed_import_leaves_no_process_holding_its_output(
    big_export: Path, tmp_path: Path, point: float | None
) -> None:
    """``point``: the part of the file the parsing process has read when the import is killed.

    None kills it as soon as the parsing process exists, before it has opened the file.
    """
    store = tmp_path / "store.sqlite"
    importer = subprocess.Popen(
        _import_command(store, big_export),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        if point is None:
            wait_for_parser(importer)
        else:
            wait_for_parsing_progress(importer, big_export, point)
        importer.kill()
        # Only EOF on both pipes ends this: no parsing process or resource tracker holds them.
        _, errors = importer.communicate(timeout=GRACE)
    finally:
        if importer.poll() is None:
            importer.kill()
    assert importer.returncode == -signal.SIGKILL
    assert b"Warning" not in errors, errors
    wait_until_session_ends(importer.pid, GRACE)

    assert stored_counts(store) == (0, 0)
    again = subprocess.run(
        _import_command(store, big_export), capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert stored_counts(store) == (BIG_ENTRIES, 1)


def test_parent_gone_is_seen_from_a_process_id() -> None:
    assert not parse_process._parent_gone(os.getppid())
    assert parse_process._parent_gone(os.getppid() + 1 if os.getppid() != 1 else 2)


WATCHED_CHILD = """
import multiprocessing, os, sys, time
from auditviewer.core.reading import parse_process

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
    assert stat_fields(child) is not None
    parent.kill()
    parent.communicate(timeout=2 * GRACE)
    deadline = time.monotonic() + GRACE
    while (fields := stat_fields(child)) is not None and fields[0] != "Z":
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.05)


def _interrupt_import(
    store: Path, export: Path, delay: float = 0.0, read: float | None = None
) -> tuple[int, list[str]]:
    """Ctrl+C ``delay`` seconds into a parsing process's life, or once it has read the part
    ``read`` of the file; the exit code and stderr lines."""
    importer = subprocess.Popen(
        _import_command(store, export),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        if read is None:
            wait_for_parser(importer)
            time.sleep(delay)
        else:
            wait_for_parsing_progress(importer, export, read)
        os.killpg(importer.pid, signal.SIGINT)  # as Ctrl+C in a terminal: the whole group
        _, errors = importer.communicate(timeout=3 * GRACE)
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.communicate()
    wait_until_session_ends(importer.pid, GRACE)
    return importer.returncode, errors.decode().splitlines()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_during_a_large_import_is_one_line_and_stores_nothing(
    big_export: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store.sqlite"
    message = f"auditviewer: interrupted; nothing of {big_export} was stored"
    # From the parsing process's first instant (Python starting, modules loading) to parsing.
    for delay in (0.0, 0.03, 0.06, 0.1):
        assert _interrupt_import(store, big_export, delay=delay) == (130, [message]), delay
        assert stored_counts(store) == (0, 0)
    for read in (0.0, 0.5):
        assert _interrupt_import(store, big_export, read=read) == (130, [message]), read
        assert stored_counts(store) == (0, 0)
