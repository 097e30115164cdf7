"""SIGTERM and SIGINT close a running viewer as closing its window does: exit 0, layout saved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from auditviewer.ui.app import closing_on_signals
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.support.processes import (
    BIG_ENTRIES,
    stored_counts,
    wait_for_parser,
    wait_until_session_ends,
    write_big_export,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals, /proc")

# Seconds a signalled viewer gets to close.
GRACE = 15.0
CLOSING_SIGNALS = [signal.SIGTERM, signal.SIGINT]


class Viewer:
    """The viewer in a process of its own, offscreen, with its settings in a folder of the test."""

    def __init__(self, home: Path, files: list[Path]) -> None:
        self.store = home / "store.sqlite"
        self.settings_file = home / "config" / "auditviewer" / "auditviewer.conf"
        environment = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_STATE_HOME": str(home / "state"),
        }
        command = [sys.executable, "-m", "auditviewer", "--store", str(self.store)]
        self.process = subprocess.Popen(
            [*command, *map(str, files)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def wait_for_window(self) -> None:
        """Waits until the window is up: it opens (here: creates) its store once shown."""
        deadline = time.monotonic() + 30
        while not self.store.exists():
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "the viewer did not start"
            time.sleep(0.05)

    def end_with(self, number: signal.Signals, *, whole_group: bool = False) -> str:
        """Sends the signal; returns what the viewer wrote on stderr once it has exited.

        ``whole_group`` signals the viewer's parsing process too, as Ctrl+C in a terminal or a
        service manager's stop does.
        """
        if whole_group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)
        try:
            _, errors = self.process.communicate(timeout=GRACE)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.communicate()
        return errors.decode(errors="replace")

    def saved_geometry(self) -> object:
        """The window geometry the viewer saved in its settings file."""
        return QSettings(str(self.settings_file), QSettings.Format.IniFormat).value(
            "state/geometry"
        )


@pytest.mark.slow
@pytest.mark.parametrize("number", CLOSING_SIGNALS, ids=lambda number: number.name)
def test_signal_closes_the_viewer_and_saves_its_layout(
    tmp_path: Path, number: signal.Signals
) -> None:
    viewer = Viewer(tmp_path, [])
    viewer.wait_for_window()
    errors = viewer.end_with(number)
    assert viewer.process.returncode == 0, errors
    assert "Traceback" not in errors
    assert viewer.saved_geometry()


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export the viewer parses in a separate process."""
    return write_big_export(tmp_path_factory.mktemp("export") / "big.json")


@pytest.mark.slow
@pytest.mark.parametrize("number", CLOSING_SIGNALS, ids=lambda number: number.name)
def test_signal_while_a_file_opens_leaves_no_half_built_view_and_no_archive_change(
    tmp_path: Path, big_export: Path, number: signal.Signals
) -> None:
    viewer = Viewer(tmp_path, [big_export])
    wait_for_parser(viewer.process)
    errors = viewer.end_with(number, whole_group=True)
    assert viewer.process.returncode == 0, errors
    assert "Traceback" not in errors
    wait_until_session_ends(viewer.process.pid, 5.0)
    assert viewer.saved_geometry()
    assert not viewer.store.exists()  # opening a file never touches the archive
    views = tmp_path / "cache" / "auditviewer" / "views"
    kept = sorted(views.iterdir()) if views.exists() else []
    assert all(path.suffix == ".sqlite" and not path.name.startswith(".") for path in kept)
    if not kept:
        return
    (view,) = kept
    assert stored_counts(view) == (BIG_ENTRIES, 1)
    verify = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(view), "verify"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_signal_dismisses_an_open_dialog_and_closes_the_window(
    qtbot: QtBot, qapp: QApplication, window: MainWindow, ui_settings: UiSettings
) -> None:
    fallback_calls: list[int] = []

    def fallback(number: int, frame: object) -> None:
        fallback_calls.append(number)

    previous = signal.signal(signal.SIGTERM, fallback)
    dialog = QDialog(window)
    results: list[int] = []
    try:
        with closing_on_signals(qapp):
            QTimer.singleShot(0, lambda: results.append(dialog.exec()))
            QTimer.singleShot(200, lambda: os.kill(os.getpid(), signal.SIGTERM))
            qtbot.waitUntil(lambda: bool(results) and not window.isVisible(), timeout=10_000)
            # A second signal would end the process at once.
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is fallback
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (results, fallback_calls) == ([QDialog.DialogCode.Rejected], [])
    assert window.store is None
    assert ui_settings.state("geometry") is not None
