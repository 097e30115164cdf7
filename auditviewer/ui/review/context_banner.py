"""The banner over the table while it shows the entries around one, with the way back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from auditviewer.ui.plain_text import plain_label


class ContextBanner(QFrame):
    """Says "Showing 10 entries before and 3 entries after entry seq 42 in time — the filter is set
    aside", with "Back to the Filtered List"."""

    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contextBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#contextBanner { background: palette(alternate-base); border: 0; "
            "border-bottom: 1px solid palette(mid); }"
        )
        self.setAccessibleName("Surrounding entries banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = plain_label("", self)
        layout.addWidget(self.label, 1)
        self.back_button = QPushButton("Back to the Filtered List", self)
        self.back_button.setAccessibleName("Back to the Filtered List")
        self.back_button.clicked.connect(self.back_requested)
        layout.addWidget(self.back_button)
        self.hide()

    def show_context(self, seq: int, before: int, after: int) -> None:
        """Shows the banner for the ``before`` and ``after`` entries around entry ``seq``."""
        from auditviewer.core.wording import counted

        self.label.setText(
            f"Showing {counted(before, 'entry')} before and {counted(after, 'entry')} after "
            f"entry seq {seq:,} in time, the filter set aside; the entry itself is selected and "
            "in bold."
        )
        self.setAccessibleDescription(self.label.text())
        self.show()

    @property
    def text(self) -> str:
        """What the banner says."""
        return self.label.text()
