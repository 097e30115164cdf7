"""What an empty store shows: how to get entries into it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from auditviewer.core.resources import resource_path
from auditviewer.ui.plain_text import plain_label

SAMPLE_FILE = "sample-export.json"


def sample_export_path() -> Path | None:
    """The bundled sample export, or None when this build lacks it."""
    path = resource_path(SAMPLE_FILE)
    return path if path.is_file() else None


class WelcomeView(QWidget):
    """Offers to open an export, to sync from the Memfault API or to load the sample data."""

    open_requested = Signal()
    sync_requested = Signal()
    sample_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = plain_label("This store holds no audit entries yet")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        hint = plain_label(
            "Open an audit-log export downloaded from Memfault (JSON, JSON Lines, or gzip),\n"
            "or drop export files onto this window."
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignHCenter)
        self.open_button = QPushButton("Open export…")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        self.sync_button = QPushButton("Sync…")
        self.sync_button.setToolTip("Copy the audit log from the Memfault API into this store")
        self.sync_button.clicked.connect(self.sync_requested)
        self.sample_button = QPushButton("Load sample data")
        self.sample_button.clicked.connect(self.sample_requested)
        if sample_export_path() is None:
            self.sample_button.setEnabled(False)
            self.sample_button.setToolTip("This build has no sample export")
        for button in (self.open_button, self.sync_button, self.sample_button):
            button.setMinimumWidth(220)
            button.setAccessibleName(button.text().rstrip("…"))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
