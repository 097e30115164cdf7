"""The banner over a view: which file is shown, that it is not in the archive, and how to add it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from auditviewer.ui.plain_text import plain_label, visible

SUFFIX = " — not in your archive"


def viewed_name(files: Sequence[Path], limit: int = 200) -> str:
    """What a view is called: its file's name, and how many more files it shows."""
    if not files:
        return ""
    name = visible(files[0].name, limit)
    more = len(files) - 1
    if more:
        name += f" and {more} more file{'s' if more > 1 else ''}"
    return name


def paths_tooltip(files: Sequence[Path]) -> str:
    """The full paths of ``files``, one a line, shown literally."""
    lines = "\n".join(html.escape(visible(str(file), 300), quote=True) for file in files)
    return f"<qt><span style='white-space:pre-wrap'>{lines}</span></qt>"


class _ElidedLabel(QLabel):
    """A plain-text label that elides the middle of its text to fit its width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.full_text = ""
        self.setMinimumWidth(120)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self.full_text) + 4, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        shown = metrics.elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, self.width())
        if shown != self.text():
            self.setText(shown)


class ViewBanner(QFrame):
    """Says "Viewing export.json — not in your archive", with "Add to Archive…"."""

    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#viewBanner { background: palette(alternate-base); border: 0; "
            "border-bottom: 1px solid palette(mid); }"
        )
        self.setAccessibleName("View banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        icon = plain_label("", self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        standard = QStyle.StandardPixmap.SP_MessageBoxInformation
        icon.setPixmap(self.style().standardIcon(standard).pixmap(size, size))
        layout.addWidget(icon)
        self.viewing = plain_label("Viewing", self)
        layout.addWidget(self.viewing)
        self.name_label = _ElidedLabel(self)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        layout.addWidget(self.name_label)
        self.note = plain_label(SUFFIX.strip(), self)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.add_button = QPushButton("Add to Archive…", self)
        self.add_button.setAccessibleName("Add to Archive")
        self.add_button.clicked.connect(self.add_requested)
        layout.addWidget(self.add_button)

    def show_files(self, files: Sequence[Path]) -> None:
        """Shows the banner for a view of ``files``."""
        name = viewed_name(files)
        self.name_label.set_full_text(name)
        tooltip = paths_tooltip(files)
        for label in (self.viewing, self.name_label, self.note):
            label.setToolTip(tooltip)
        self.add_button.setToolTip(
            "Import these entries into your archive, where they are kept for good"
        )
        self.setAccessibleDescription(f"Viewing {name}{SUFFIX}")
        self.show()

    @property
    def text(self) -> str:
        """The banner's sentence as shown (the name possibly elided)."""
        return f"{self.viewing.text()} {self.name_label.text()} {self.note.text()}"
