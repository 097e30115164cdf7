"""Starts the GUI: the window is shown first, the store and its heavy imports come after."""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QSettings, QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import auditviewer
from auditviewer.core.paths import default_store_path
from auditviewer.core.resources import resource_path
from auditviewer.ui.focus_style import install_focus_style
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings

ORGANIZATION = "auditviewer"
APPLICATION = "auditviewer"
# Signals that end the viewer as closing its window does.
CLOSING_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (the existing one when there is one), named for QSettings."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("auditviewer")
    app.setApplicationVersion(auditviewer.__version__)
    app.setDesktopFileName("auditviewer")
    app.setWindowIcon(QIcon(str(resource_path("icons/auditviewer.svg"))))
    install_focus_style(app)
    return app


def start_window(
    store_path: Path | None,
    files: list[Path],
    settings: QSettings | None = None,
    *,
    view_folder: Path | None = None,
) -> MainWindow:
    """Shows the main window, then, from the event loop, opens ``files`` in a view (kept in
    ``view_folder``), or the archive when there are none.

    The archive is ``store_path``; when none is named, the store last opened from the File
    menu, else the default store. Files given are never imported into the archive.
    """
    ui_settings = UiSettings(settings or QSettings())
    window = MainWindow(ui_settings, view_folder=view_folder)
    window.archive_path = archive_path(store_path, ui_settings)
    window.show()

    def open_first() -> None:
        if not (files and window.open_files([Path(file) for file in files])):
            window.open_store(window.archive_path or default_store_path())

    QTimer.singleShot(0, open_first)
    return window


def archive_path(named: Path | None, settings: UiSettings) -> Path:
    """The archive to open: the one named, else the one last opened, else the default."""
    if named is not None:
        return named
    last = settings.last_store
    if last is not None and last.is_file():
        return last
    return default_store_path()


def run_gui(store_path: Path | None, files: list[Path], view_folder: Path | None = None) -> int:
    """Runs the application until its window is closed; returns the exit code."""
    app = create_application()
    window = start_window(store_path, files, view_folder=view_folder)
    with closing_on_signals(app):
        exit_code = app.exec()
    del window  # held until here: a window nobody references is destroyed
    return exit_code


@contextmanager
def closing_on_signals(app: QApplication) -> Iterator[None]:
    """While it lasts, SIGTERM and SIGINT (Ctrl+C) close the viewer as closing its window does.

    Open dialogs are dismissed, the window's close cancels or finishes running work and saves
    the layout, and the event loop ends with exit code 0. A second signal, should that close
    hang, ends the viewer at once (the store is never half-written either way).

    Python runs signal handlers only between bytecodes of the main thread, which sits in Qt's
    event loop. So the signal's number is written to a socket (:func:`signal.set_wakeup_fd`)
    whose notifier wakes the event loop at once, and the close runs from the event loop, not
    inside whatever code the signal interrupted. This needs no timer that wakes an idle viewer
    every few hundred milliseconds, and it does not wait for such a timer.
    """
    receiver, sender = socket.socketpair()
    receiver.setblocking(False)
    sender.setblocking(False)
    notifier = QSocketNotifier(receiver.fileno(), QSocketNotifier.Type.Read)

    def on_wakeup() -> None:
        try:
            numbers = receiver.recv(64)
        except OSError:
            return
        if not any(number in CLOSING_SIGNALS for number in numbers):
            return
        notifier.setEnabled(False)
        for number in CLOSING_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        app.closeAllWindows()  # dialogs first, then the window
        app.quit()

    notifier.activated.connect(on_wakeup)
    previous = {number: signal.signal(number, _noted_on_the_socket) for number in CLOSING_SIGNALS}
    previous_fd = signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        for number, handler in previous.items():
            signal.signal(number, handler)
        notifier.setEnabled(False)
        receiver.close()
        sender.close()


def _noted_on_the_socket(number: int, frame: FrameType | None) -> None:
    """The Python side of a closing signal: nothing; its wakeup byte does the work."""
