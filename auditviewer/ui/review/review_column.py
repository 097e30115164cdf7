"""The table's review column: a painted marker per disposition, a dot for a note, and the
mark's note and tags as a plain-text tooltip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from auditviewer.ui.plain_text import safe_tooltip

if TYPE_CHECKING:
    from auditviewer.core.reviewing.marks import MarkEvent

# Each disposition's word in the column and its marker's colour (None: no marker).
DISPOSITION_WORDS = {
    "unreviewed": "",
    "ok": "OK",
    "flagged": "Flagged",
    "follow-up": "Follow-up",
}
MARKER_COLOURS = {
    "ok": QColor(46, 139, 87),
    "flagged": QColor(200, 40, 40),
    "follow-up": QColor(214, 140, 0),
}
NOTE_COLOUR = QColor(40, 90, 200)
TOOLTIP_LIMIT = 1000

_icons: dict[tuple[str, bool], QIcon] = {}


def _paint(disposition: str, noted: bool) -> QIcon:
    size, scale = 16, 2
    pixmap = QPixmap(size * scale, size * scale)
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    colour = MARKER_COLOURS.get(disposition)
    if colour is not None:
        painter.setBrush(colour)
        if disposition == "ok":
            painter.drawEllipse(QPointF(7, 8), 5, 5)
        elif disposition == "flagged":
            painter.drawRect(QRectF(3, 2, 2, 12))
            painter.drawRect(QRectF(5, 2, 8, 6))
        else:
            painter.drawPolygon([QPointF(7, 2), QPointF(13, 13), QPointF(1, 13)])
    if noted:
        painter.setBrush(NOTE_COLOUR)
        painter.drawEllipse(QPointF(13.5, 3), 2.5, 2.5)
    painter.end()
    return QIcon(pixmap)


def review_icon(mark: MarkEvent | None) -> QIcon | None:
    """The marker of an entry's mark (None for an unmarked entry without a note)."""
    if mark is None:
        return None
    noted = bool(mark.note)
    if mark.disposition not in MARKER_COLOURS and not noted:
        return None
    key = (mark.disposition, noted)
    icon = _icons.get(key)
    if icon is None:
        icon = _icons[key] = _paint(*key)
    return icon


def review_text(mark: MarkEvent | None) -> str:
    """The column's words: the disposition, and that a note is attached."""
    if mark is None:
        return ""
    word = DISPOSITION_WORDS.get(mark.disposition, mark.disposition)
    if mark.note:
        return f"{word} · note" if word else "note"
    return word


def review_description(mark: MarkEvent | None) -> str:
    """The mark in words, for the tooltip and screen readers (note and tags as written)."""
    if mark is None:
        return "Unreviewed"
    lines = [f"{DISPOSITION_WORDS.get(mark.disposition) or 'Unreviewed'} — by {mark.reviewer}"]
    if mark.tags:
        lines.append("Tags: " + ", ".join(mark.tags))
    if mark.note:
        lines.append("Note: " + mark.note)
    return "\n".join(lines)


def review_tooltip(mark: MarkEvent | None) -> str | None:
    """The tooltip: the note and tags shown literally, wrapped and capped."""
    if mark is None:
        return None
    return safe_tooltip(review_description(mark), TOOLTIP_LIMIT)
