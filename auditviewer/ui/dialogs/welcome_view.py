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
    """Offers to import an export into the archive, to sync, to view a file or the sample data."""

    open_requested = Signal()
    view_requested = Signal()
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
            "Import an audit-log export downloaded from Memfault (JSON, JSON Lines, or gzip)\n"
            "into this archive, where its entries are kept for good,\n"
            "or sync them from the Memfault API. To only look at a file, open it as a view\n"
            "or drop it onto this window: a view is not added to the archive."
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignHCenter)
        self.open_button = QPushButton("Import into Archive…")
        self.open_button.setDefault(True)
        self.open_button.setToolTip("Imported entries are kept in this archive for good")
        self.open_button.clicked.connect(self.open_requested)
        self.view_button = QPushButton("Open File as a View…")
        self.view_button.setToolTip("Look at an export file without adding it to the archive")
        self.view_button.clicked.connect(self.view_requested)
        self.sync_button = QPushButton("Sync…")
        self.sync_button.setToolTip("Copy the audit log from the Memfault API into this store")
        self.sync_button.clicked.connect(self.sync_requested)
        self.sample_button = QPushButton("View Sample Data")
        self.sample_button.setToolTip("Open the bundled sample export as a view")
        self.sample_button.clicked.connect(self.sample_requested)
        if sample_export_path() is None:
            self.sample_button.setEnabled(False)
            self.sample_button.setToolTip("This build has no sample export")
        for button in (self.open_button, self.sync_button, self.view_button, self.sample_button):
            button.setMinimumWidth(220)
            button.setAccessibleName(button.text().rstrip("…"))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
