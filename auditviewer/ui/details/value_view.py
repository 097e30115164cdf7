"""One value of the details: wrapped to the panel's width, selectable and copyable, plain text."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeyEvent, QPalette, QResizeEvent, QTextCursor, QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextEdit, QWidget

# A value longer than this many characters is shown cut (the raw JSON holds all of it).
VALUE_LIMIT = 10_000


class ValueView(QTextEdit):
    """A read-only value as tall as its wrapped text; long words (hashes) break anywhere.

    The text is set as plain text, so nothing in it is ever interpreted; line breaks are
    only drawn, never inserted, so what is copied is the value itself.

    The values of one panel read as one document from the keyboard: the panel makes one of
    them a Tab stop, and Up on a value's first line or Down on its last moves to the value
    before or after it (:attr:`step_requested`).
    """

    step_requested = Signal(int)  # -1: the value before this one, +1: the value after it

    def __init__(self, *, monospace: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTabChangesFocus(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        # A frame in the highlight colour shows which value has the keyboard focus.
        self.setStyleSheet(
            "QTextEdit { background: transparent; border: 1px solid transparent; }"
            "QTextEdit:focus { border: 1px solid palette(highlight); }"
        )
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.document().setDocumentMargin(1)
        if monospace:
            self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.unverified = False
        self._text_color = self.palette().color(QPalette.ColorRole.Text)
        self._unverified_color = self.palette().color(QPalette.ColorRole.PlaceholderText)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def set_value(self, text: str, *, unverified: bool = False) -> None:
        """Shows ``text`` (already escaped for display); ``unverified`` greys it and sets it in
        italics."""
        self.unverified = unverified
        font = self.font()
        font.setItalic(unverified)
        self.setFont(font)
        palette = self.palette()
        palette.setColor(
            QPalette.ColorRole.Text,
            self._unverified_color if unverified else self._text_color,
        )
        self.setPalette(palette)
        self.setPlainText(text)
        self._fit_height()

    def needed_height(self) -> int:
        """The height the wrapped text takes at the current width."""
        document = self.document()
        document.setTextWidth(max(1, self.viewport().width()))
        margins = self.contentsMargins()
        return math.ceil(document.size().height()) + margins.top() + margins.bottom()

    def _fit_height(self) -> None:
        height = self.needed_height()
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()))
        if step is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            cursor = self.textCursor()
            move = QTextCursor.MoveOperation.Down if step > 0 else QTextCursor.MoveOperation.Up
            if not cursor.movePosition(move):
                self.step_requested.emit(step)
                return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 16, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 6, self.height())
