"""Starts the GUI: the window is shown first, the store and its heavy imports come after."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import auditviewer
from auditviewer.core.resources import resource_path
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings

ORGANIZATION = "auditviewer"
APPLICATION = "auditviewer"


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
    return app


def start_window(
    store_path: Path, files: list[Path], settings: QSettings | None = None
) -> MainWindow:
    """Shows the main window, then opens the store and imports ``files`` from the event loop."""
    window = MainWindow(UiSettings(settings or QSettings()))
    window.show()

    def open_store() -> None:
        if window.open_store(store_path) and files:
            window.import_files([Path(file) for file in files])

    QTimer.singleShot(0, open_store)
    return window


def run_gui(store_path: Path, files: list[Path]) -> int:
    """Runs the application until its window is closed; returns the exit code."""
    app = create_application()
    window = start_window(store_path, files)
    # Ctrl+C in the terminal closes the window (saving its state) instead of being ignored
    # while Qt's event loop runs; the idle timer lets Python look at signals now and then.
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    idle = QTimer()
    idle.start(300)
    idle.timeout.connect(lambda: None)
    try:
        return app.exec()
    finally:
        idle.stop()
        signal.signal(signal.SIGINT, previous)
