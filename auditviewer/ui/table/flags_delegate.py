"""The flags column: one small painted marker per flag, most serious first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from auditviewer.core.vocabulary import FLAGS

# The keys of an entry's flags (a tuple of ``FlagDef.key``), most serious first.
FLAG_KEYS_ROLE = Qt.ItemDataRole.UserRole + 10
GLYPH = 12  # side of one marker, in pixels
GAP = 3
PADDING = 4
# Hues that read on light and dark backgrounds; past retention takes the palette's text colour.
FLAG_COLORS = {
    "quarantined": QColor(211, 47, 47),
    "conflict": QColor(239, 108, 0),
    "unknown-action": QColor(142, 36, 170),
    "anomaly": QColor(21, 101, 192),
    "naive-time": QColor(0, 137, 123),
}


def flags_width(count: int = len(FLAGS)) -> int:
    """The width ``count`` markers take, with the cell's padding."""
    return 2 * PADDING + count * GLYPH + max(0, count - 1) * GAP


def _exclamation(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setBrush(color)
    painter.drawRoundedRect(box, 2.5, 2.5)
    painter.setBrush(QColor("white"))
    middle = box.center().x()
    painter.drawRect(QRectF(middle - 1, box.top() + 2, 2, box.height() - 6.5))
    painter.drawRect(QRectF(middle - 1, box.bottom() - 3.5, 2, 2))


def _overlap(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setPen(QPen(color, 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    radius = box.width() * 0.3
    painter.drawEllipse(QPointF(box.left() + radius + 0.8, box.center().y()), radius, radius)
    painter.drawEllipse(QPointF(box.right() - radius - 0.8, box.center().y()), radius, radius)


def _question(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setBrush(color)
    painter.drawEllipse(box)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(int(box.height()) - 2)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")


def _early(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setBrush(color)
    painter.drawPolygon(
        QPolygonF(
            [
                QPointF(box.left() + 1, box.center().y()),
                QPointF(box.right() - 1, box.top() + 1),
                QPointF(box.right() - 1, box.bottom() - 1),
            ]
        )
    )


def _hourglass(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setBrush(color)
    left, right, top, bottom = box.left() + 2, box.right() - 2, box.top() + 1, box.bottom() - 1
    middle = QPointF(box.center().x(), box.center().y())
    painter.drawPolygon(QPolygonF([QPointF(left, top), QPointF(right, top), middle]))
    painter.drawPolygon(QPolygonF([QPointF(left, bottom), QPointF(right, bottom), middle]))


def _clock(painter: QPainter, box: QRectF, color: QColor) -> None:
    painter.setPen(QPen(color, 1.5))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(box.adjusted(1, 1, -1, -1))
    hands = QPainterPath(QPointF(box.center().x(), box.top() + 3))
    hands.lineTo(box.center())
    hands.lineTo(QPointF(box.right() - 3.5, box.center().y()))
    painter.drawPath(hands)


_PAINTERS: dict[str, Callable[[QPainter, QRectF, QColor], None]] = {
    "quarantined": _exclamation,
    "conflict": _overlap,
    "unknown-action": _question,
    "anomaly": _early,
    "past-retention": _hourglass,
    "naive-time": _clock,
}


def paint_flags(painter: QPainter, rect: QRectF, keys: Sequence[str], palette: QPalette) -> None:
    """Paints the markers of ``keys`` left to right, centred vertically in ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    top = rect.top() + (rect.height() - GLYPH) / 2
    left = rect.left() + PADDING
    text_color = palette.color(QPalette.ColorRole.Text)
    for key in keys:
        draw = _PAINTERS.get(key)
        if draw is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            draw(painter, QRectF(left, top, GLYPH, GLYPH), FLAG_COLORS.get(key, text_color))
        left += GLYPH + GAP
    painter.restore()


class FlagsDelegate(QStyledItemDelegate):
    """Draws a cell's flags as markers; their sentences are the cell's tooltip."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        keys = index.data(FLAG_KEYS_ROLE) or ()
        paint_flags(painter, QRectF(option.rect), keys, option.palette)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        keys = index.data(FLAG_KEYS_ROLE) or ()
        base = super().sizeHint(option, index)
        return QSize(flags_width(len(keys)), max(base.height(), GLYPH + 4))
