"""A histogram of entries over time; dragging across it, or the keyboard, picks a date range.

From the keyboard (the timeline is a Tab stop): Left/Right move a cursor one bar, PageUp/
PageDown a week of days (a day of hours), Home/End to the first/last bar; with Shift they stretch
a range from where it began; Enter shows the range (as a drag does), Escape shows all dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from auditviewer.core.wording import counted

HOUR = 3_600_000_000
DAY = 24 * HOUR
BUCKETS = {"day": DAY, "hour": HOUR}
# A filter spanning at most this long is drawn per hour.
HOURLY_UP_TO = 4 * DAY
CLICK_SLOP = 3  # pixels a press may move and still count as a click on one bar
MARGIN = 4
# Bars PageUp/PageDown move: a week of days, a day of hours.
PAGE = {"day": 7, "hour": 24}


def bucket_for_span(after: int | None, before: int | None) -> str:
    """``hour`` when the date range is narrow enough to read per hour, else ``day``."""
    if after is not None and before is not None and before - after <= HOURLY_UP_TO:
        return "hour"
    return "day"


def _label(micros: int, bucket: str) -> str:
    moment = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d")


class TimelineWidget(QWidget):
    """Custom-painted bars per day or hour, in colours taken from the palette."""

    range_selected = Signal(object, object)  # after (inclusive), before (exclusive), UTC µs
    range_cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(
            "Timeline: entries per day; drag, or arrows and Shift with Enter, to pick a date range"
        )
        self.setToolTip(
            "Drag to show a date range; double-click to show all dates.\n"
            "Keyboard: arrows move, Shift+arrows stretch a range, Enter shows it, Escape shows "
            "all dates"
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._bins: list[tuple[int, int]] = []
        self.bucket = "day"
        self._start = 0
        self._end = 0
        self._peak = 0
        self._drag_from: float | None = None
        self._drag_to: float | None = None
        self._selection: tuple[int | None, int | None] = (None, None)
        # The keyboard's bar (bucket start) and where its range began; None until it is used.
        self._cursor: int | None = None
        self._anchor: int | None = None
        self.updating = False
        # Why the counts could not be computed ("" while they are current or updating).
        self.unavailable = ""
        self.untimed = 0

    def sizeHint(self) -> QSize:
        return QSize(600, 72)

    # --- data --------------------------------------------------------------------------------

    def set_bins(
        self,
        bins: Sequence[tuple[int, int]],
        bucket: str,
        span: tuple[int | None, int | None] = (None, None),
        *,
        untimed: int = 0,
    ) -> None:
        """Shows (bucket start, count) pairs; ``span`` widens the axis to the date range;
        ``untimed`` matching entries have no time (quarantined) and are counted beside it."""
        self.bucket = bucket
        self.untimed = untimed
        step = BUCKETS[bucket]
        self._bins = sorted((int(start), int(count)) for start, count in bins)
        starts = [start for start, _ in self._bins]
        after, before = span
        if after is not None:
            starts.append(after - after % step)
        if before is not None:
            starts.append(before - 1 - (before - 1) % step)
        if starts:
            self._start = min(starts)
            self._end = max(starts) + step
        else:
            self._start = self._end = 0
        self._peak = max((count for _, count in self._bins), default=0)
        if self._cursor is not None:
            self._cursor = self._clamp(self._bucket_start(self._cursor))
            self._anchor = self._cursor if self._anchor is None else self._clamp(self._anchor)
        self.updating = False
        self.unavailable = ""
        self.setAccessibleDescription(self.cursor_text())
        self.update()

    def set_updating(self, updating: bool) -> None:
        """Shows the bars as out of date (greyed, "updating") until new bins arrive."""
        self.updating = updating
        self.unavailable = ""
        self.setAccessibleDescription("Updating counts" if updating else "")
        self.update()

    def set_unavailable(self, reason: str) -> None:
        """Says the counts could not be computed, and why; the last bars stay greyed."""
        self.updating = False
        self.unavailable = " ".join((reason or "unknown reason").split())[:300]
        self.setAccessibleDescription(self.status_text())
        self.update()

    def status_text(self) -> str:
        """The line under the bars: the peak, "updating…" or why the counts are unavailable;
        while the keyboard picks a range, that range and its count."""
        if self.unavailable:
            return f"Counts unavailable: {self.unavailable}"
        if self.updating:
            return "updating…"
        if self.hasFocus() and self._cursor is not None:
            return self.cursor_text()
        text = f"highest: {self._peak:,} per {self.bucket}"
        if self.untimed:
            text += f" · {self.untimed_text()}"
        return text

    def set_selection(self, after: int | None, before: int | None) -> None:
        """Marks the filter's date range."""
        self._selection = (after, before)
        self.update()

    def keyboard_range(self) -> tuple[int, int] | None:
        """The range the keyboard has picked: after (inclusive), before (exclusive), UTC µs."""
        if self._cursor is None:
            return None
        anchor = self._cursor if self._anchor is None else self._anchor
        low, high = sorted((anchor, self._cursor))
        return low, high + BUCKETS[self.bucket]

    def cursor_text(self) -> str:
        """The keyboard's range in words: its bars and how many entries they hold."""
        picked = self.keyboard_range()
        if picked is None or not self._bins:
            return ""
        after, before = picked
        step = BUCKETS[self.bucket]
        count = sum(c for start, c in self._bins if after <= start < before)
        first = _label(after, self.bucket)
        if before - after == step:
            where = first
        else:
            where = f"{first} to {_label(before - step, self.bucket)}"
        return f"{where}: {counted(count, 'entry')} · Enter shows them"

    @property
    def total(self) -> int:
        """Every entry the timeline counts: those in its bars and those without a time."""
        return sum(count for _, count in self._bins) + self.untimed

    def untimed_text(self) -> str:
        """What the timeline says of the entries it cannot place ("" when there are none)."""
        if not self.untimed:
            return ""
        noun = "entry" if self.untimed == 1 else "entries"
        return f"{self.untimed:,} {noun} without a time (quarantined)"

    @property
    def bins(self) -> list[tuple[int, int]]:
        """The (bucket start, count) pairs shown."""
        return list(self._bins)

    # --- geometry ----------------------------------------------------------------------------

    def _plot(self) -> QRectF:
        label_height = self.fontMetrics().height()
        return QRectF(
            MARGIN,
            MARGIN,
            max(1, self.width() - 2 * MARGIN),
            max(1, self.height() - 2 * MARGIN - label_height),
        )

    def x_of(self, micros: int) -> float:
        """The x position of a moment."""
        plot = self._plot()
        if self._end <= self._start:
            return plot.left()
        fraction = (micros - self._start) / (self._end - self._start)
        return plot.left() + fraction * plot.width()

    def time_at(self, x: float) -> int:
        """The moment at an x position (clamped to the axis)."""
        plot = self._plot()
        fraction = min(1.0, max(0.0, (x - plot.left()) / plot.width()))
        return int(self._start + fraction * (self._end - self._start))

    def _bucket_start(self, micros: int) -> int:
        step = BUCKETS[self.bucket]
        return micros - micros % step

    def _clamp(self, bucket: int) -> int:
        """``bucket`` kept on the axis: from its first bar to its last."""
        last = self._end - BUCKETS[self.bucket]
        return max(self._start, min(bucket, last))

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        plot = self._plot()
        text_color = palette.color(QPalette.ColorRole.Text)
        if not self._bins:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            empty = (
                "No entries"
                if not self.untimed
                else f"No entries with a time; {self.untimed_text()}"
            )
            if self.unavailable or self.updating:
                empty = self.status_text()
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, empty)
            painter.end()
            return
        step = BUCKETS[self.bucket]
        bar_color = palette.color(QPalette.ColorRole.Highlight)
        dim_color = QColor(palette.color(QPalette.ColorRole.Mid))
        if self.updating or self.unavailable:
            bar_color = dim_color = palette.color(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Mid
            )
        after, before = self._selection
        for start, count in self._bins:
            left = self.x_of(start)
            right = max(left + 1, self.x_of(start + step) - 1)
            height = plot.height() * count / self._peak if self._peak else 0
            height = max(height, 1.5)
            inside = (after is None or start + step > after) and (before is None or start < before)
            painter.fillRect(
                QRectF(left, plot.bottom() - height, right - left, height),
                bar_color if inside else dim_color,
            )
        if self._drag_from is not None and self._drag_to is not None:
            band = QColor(palette.color(QPalette.ColorRole.Highlight))
            band.setAlpha(70)
            left, right = sorted((self._drag_from, self._drag_to))
            painter.fillRect(QRectF(left, plot.top(), right - left, plot.height()), band)
        picked = self.keyboard_range() if self.hasFocus() else None
        if picked is not None:
            band = QColor(palette.color(QPalette.ColorRole.Highlight))
            band.setAlpha(70)
            left, right = self.x_of(picked[0]), max(self.x_of(picked[1]), self.x_of(picked[0]) + 2)
            painter.fillRect(QRectF(left, plot.top(), right - left, plot.height()), band)
            painter.setPen(QPen(text_color, 1))
            painter.drawRect(QRectF(left, plot.top(), right - left, plot.height()))
        if self.hasFocus():
            frame = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(frame)
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        painter.setPen(text_color)
        baseline = plot.bottom() + self.fontMetrics().ascent() + 1
        first = _label(self._start, self.bucket)
        last = _label(self._end - step, self.bucket)
        painter.drawText(QPointF(plot.left(), baseline), first)
        width = self.fontMetrics().horizontalAdvance(last)
        if plot.right() - width > plot.left() + self.fontMetrics().horizontalAdvance(first) + 8:
            painter.drawText(QPointF(plot.right() - width, baseline), last)
        status = self.status_text()
        status_box = QRectF(plot.left(), plot.bottom(), plot.width(), self.height() - plot.bottom())
        status = self.fontMetrics().elidedText(
            status, Qt.TextElideMode.ElideRight, int(status_box.width() * 0.6)
        )
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            status_box, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, status
        )
        painter.end()

    # --- interaction -------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._bins:
            self._drag_from = self._drag_to = event.position().x()
            self.update()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._drag_from is not None:
            self._drag_to = x
            self.update()
        elif self._bins:
            start = self._bucket_start(self.time_at(x))
            count = dict(self._bins).get(start, 0)
            QToolTip.showText(
                event.globalPosition().toPoint(),
                f"{_label(start, self.bucket)} UTC: {counted(count, 'entry')}",
                self,
            )
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._drag_from is None:
            super().mouseReleaseEvent(event)
            return
        begin, end = sorted((self._drag_from, event.position().x()))
        self._drag_from = self._drag_to = None
        self.update()
        step = BUCKETS[self.bucket]
        after = self._bucket_start(self.time_at(begin))
        before = self._bucket_start(self.time_at(end)) + step
        if end - begin <= CLICK_SLOP:
            before = after + step
        self.range_selected.emit(after, min(before, self._end))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        del event
        self._drag_from = self._drag_to = None
        self.range_cleared.emit()

    # --- keyboard ----------------------------------------------------------------------------

    def focusInEvent(self, event: QFocusEvent) -> None:
        """The keyboard starts at the shown range's first bar, else at the newest bar."""
        if self._bins and self._cursor is None:
            after, _before = self._selection
            start = after if after is not None else self._bins[-1][0]
            self._cursor = self._anchor = self._clamp(self._bucket_start(start))
        self.setAccessibleDescription(self.cursor_text())
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            picked = self.keyboard_range()
            if picked is not None:
                self.range_selected.emit(picked[0], min(picked[1], self._end))
            return
        if key == Qt.Key.Key_Escape:
            self.range_cleared.emit()
            return
        if not self._bins or self._cursor is None:
            super().keyPressEvent(event)
            return
        step = BUCKETS[self.bucket]
        moves = {
            Qt.Key.Key_Left: self._cursor - step,
            Qt.Key.Key_Right: self._cursor + step,
            Qt.Key.Key_PageUp: self._cursor - PAGE[self.bucket] * step,
            Qt.Key.Key_PageDown: self._cursor + PAGE[self.bucket] * step,
            Qt.Key.Key_Home: self._start,
            Qt.Key.Key_End: self._end - step,
        }
        target = moves.get(Qt.Key(key))
        if target is None:
            super().keyPressEvent(event)
            return
        self._cursor = self._clamp(target)
        if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = self._cursor
        self.setAccessibleDescription(self.cursor_text())
        self.update()
