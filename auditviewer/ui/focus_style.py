"""The platform's widget style, with the keyboard focus always visible.

Fusion draws a focused push button as it draws the default button, and a focused read-only
text frame as an unfocused one: a keyboard user could not tell where Tab had gone. This style
adds a thin frame in the highlight colour inside such a control while it has the keyboard
focus, and leaves everything else to the style it wraps.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionFrame,
    QWidget,
)

# How far inside the control's edge the focus frame is drawn, in pixels.
FOCUS_INSET = 3


def has_keyboard_focus(option: QStyleOption) -> bool:
    """Whether the control drawn has the focus, and the focus came from the keyboard."""
    state = option.state
    return bool(state & QStyle.StateFlag.State_HasFocus) and bool(
        state & QStyle.StateFlag.State_KeyboardFocusChange
    )


class FocusFrameStyle(QProxyStyle):
    """Wraps the style named ``base`` (the application's current style when none is)."""

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawControl(element, option, painter, widget)
        if not has_keyboard_focus(option):
            return
        if element == QStyle.ControlElement.CE_PushButton or (
            element == QStyle.ControlElement.CE_ShapedFrame
            and isinstance(option, QStyleOptionFrame)
            and option.frameShape != QFrame.Shape.NoFrame
        ):
            _draw_focus_frame(option, painter)


def _draw_focus_frame(option: QStyleOption, painter: QPainter) -> None:
    rect = QRectF(option.rect).adjusted(
        FOCUS_INSET, FOCUS_INSET, -FOCUS_INSET - 1, -FOCUS_INSET - 1
    )
    if rect.width() <= 0 or rect.height() <= 0:
        return
    painter.save()
    pen = QPen(option.palette.color(QPalette.ColorRole.Highlight))
    pen.setWidthF(1.5)
    painter.setPen(pen)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.drawRoundedRect(rect, 2, 2)
    painter.restore()


def install_focus_style(app: QApplication) -> None:
    """Makes the keyboard focus visible in every window of ``app`` (once)."""
    if isinstance(app.style(), FocusFrameStyle):
        return
    app.setStyle(FocusFrameStyle(app.style().name()))
