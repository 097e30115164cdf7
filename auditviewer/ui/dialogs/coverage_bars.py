"""The coverage dialog's painted chart: one bar per source on a shared time axis.

The top row is the whole archive, drawn as the stretches between its gaps, so a gap shows as
an empty stretch; gaps are also shaded across every row. Each source's bar spans its first to
its last entry. Text is drawn with ``drawText`` (never interpreted as markup); tooltips are
escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from auditviewer.core.wording import counted
from auditviewer.ui.plain_text import safe_tooltip, visible
from auditviewer.ui.table.entry_format import format_time

if TYPE_CHECKING:
    from auditviewer.core.querying.coverage import CoverageReport

ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 240
AXIS_HEIGHT = 22
MARGIN = 8
GAP_COLOR = QColor(220, 60, 60, 70)
GAP_EDGE = QColor(200, 40, 40)
ARCHIVE_COLOR = QColor(70, 120, 190)
SOURCE_COLOR = QColor(110, 160, 110)


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of the chart: its label, its drawn spans and its tooltip text."""

    label: str
    spans: tuple[tuple[int, int], ...]
    tooltip: str
    color: QColor


def archive_spans(report: CoverageReport) -> tuple[tuple[int, int], ...]:
    """The stretches of the archive between its gaps."""
    if report.first_utc is None or report.last_utc is None:
        return ()
    spans = []
    start = report.first_utc
    for gap in report.gaps:
        spans.append((start, gap.after_utc))
        start = gap.before_utc
    spans.append((start, report.last_utc))
    return tuple(spans)


def bars_of(report: CoverageReport, *, utc: bool) -> list[Bar]:
    """The chart's rows: the archive, then each source with dated entries, oldest first."""
    bars = [
        Bar(
            "All entries",
            archive_spans(report),
            f"The whole archive: {counted(report.entries, 'entry')}, "
            f"{format_time(report.first_utc, utc=utc)} to {format_time(report.last_utc, utc=utc)}"
            f"\n{counted(len(report.gaps), 'gap')} longer than the threshold",
            ARCHIVE_COLOR,
        )
    ]
    for source in report.sources:
        if source.first_utc is None or source.last_utc is None:
            continue
        kind = "Sync run" if source.kind == "sync" else "Import"
        tooltip = (
            f"{kind} {source.id}: {source.location}\n"
            f"{format_time(source.first_utc, utc=utc)} to {format_time(source.last_utc, utc=utc)}"
            f"\n{counted(source.stored, 'entry')} stored, {source.parsed:,} read, "
            f"{source.duplicates:,} already held"
        )
        name = PurePath(source.location).name if source.kind == "file" else source.location
        label = f"{source.id}: {name or source.location}"
        bars.append(Bar(label, ((source.first_utc, source.last_utc),), tooltip, SOURCE_COLOR))
    return bars


class CoverageBars(QWidget):
    """Paints :func:`bars_of` a report; hovering a bar shows its source, span and count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: CoverageReport | None = None
        self.bars: list[Bar] = []
        self.utc = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Coverage per source")
        self.setMouseTracking(True)

    def show_report(self, report: CoverageReport, *, utc: bool) -> None:
        """Draws ``report``."""
        self.report = report
        self.utc = utc
        self.bars = bars_of(report, utc=utc)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(800, AXIS_HEIGHT + 2 * MARGIN + ROW_HEIGHT * max(1, len(self.bars)))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _axis(self) -> tuple[int, int] | None:
        report = self.report
        if report is None or report.first_utc is None or report.last_utc is None:
            return None
        end = max(report.last_utc, report.first_utc + 1)
        return report.first_utc, end

    def _plot(self) -> QRect:
        return QRect(
            LABEL_WIDTH + MARGIN,
            MARGIN,
            max(10, self.width() - LABEL_WIDTH - 2 * MARGIN),
            ROW_HEIGHT * len(self.bars),
        )

    def _x(self, moment: int, plot: QRect, axis: tuple[int, int]) -> float:
        start, end = axis
        return plot.left() + (moment - start) / (end - start) * plot.width()

    def bar_rect(self, index: int) -> QRectF:
        """Where row ``index``'s whole bar is drawn (tests, tooltips)."""
        axis = self._axis()
        plot = self._plot()
        bar = self.bars[index]
        top = plot.top() + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        if axis is None or not bar.spans:
            return QRectF(plot.left(), top, 0, BAR_HEIGHT)
        left = self._x(bar.spans[0][0], plot, axis)
        right = max(left + 2, self._x(bar.spans[-1][1], plot, axis))
        return QRectF(left, top, right - left, BAR_HEIGHT)

    def tooltip_at(self, point: QPoint) -> str | None:
        """The tooltip text of the row under ``point``, if any."""
        plot = self._plot()
        if not self.bars or point.y() < plot.top() or point.y() >= plot.bottom():
            return None
        index = (point.y() - plot.top()) // ROW_HEIGHT
        return self.bars[index].tooltip if 0 <= index < len(self.bars) else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), safe_tooltip(text), self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        axis = self._axis()
        plot = self._plot()
        text_color = palette.color(QPalette.ColorRole.Text)
        metrics = QFontMetrics(self.font())
        if axis is None:
            painter.setPen(text_color)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No dated entries.")
            return
        report = self.report
        assert report is not None
        for gap in report.gaps:
            left = self._x(gap.after_utc, plot, axis)
            right = self._x(gap.before_utc, plot, axis)
            band = QRectF(left, plot.top(), max(2.0, right - left), plot.height())
            painter.fillRect(band, GAP_COLOR)
            painter.setPen(GAP_EDGE)
            painter.drawRect(band)
        for index, bar in enumerate(self.bars):
            top = plot.top() + index * ROW_HEIGHT
            label_rect = QRect(MARGIN, top, LABEL_WIDTH - MARGIN, ROW_HEIGHT)
            painter.setPen(text_color)
            label = metrics.elidedText(
                visible(bar.label, 300), Qt.TextElideMode.ElideMiddle, label_rect.width()
            )
            painter.drawText(
                label_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
            )
            bar_top = top + (ROW_HEIGHT - BAR_HEIGHT) / 2
            for start, end in bar.spans:
                left = self._x(start, plot, axis)
                right = max(left + 2, self._x(end, plot, axis))
                painter.fillRect(QRectF(left, bar_top, right - left, BAR_HEIGHT), bar.color)
        painter.setPen(text_color)
        painter.drawLine(plot.left(), plot.bottom() + 2, plot.right(), plot.bottom() + 2)
        self._draw_ticks(painter, plot, axis, metrics)

    def _draw_ticks(
        self, painter: QPainter, plot: QRect, axis: tuple[int, int], metrics: QFontMetrics
    ) -> None:
        start, end = axis
        label_width = metrics.horizontalAdvance("0000-00-00") + 16
        count = max(1, min(8, plot.width() // label_width - 1))
        labels: list[tuple[int, str]] = []
        for step in range(count + 1):
            moment = start + (end - start) * step // count
            x = int(self._x(moment, plot, axis))
            when = datetime.fromtimestamp(moment / 1_000_000, tz=UTC)
            text = f"{(when if self.utc else when.astimezone()):%Y-%m-%d}"
            painter.drawLine(x, plot.bottom() + 2, x, plot.bottom() + 6)
            width = metrics.horizontalAdvance(text)
            labels.append((min(max(x - width // 2, plot.left()), plot.right() - width), text))
        # The first and last labels are pushed inside the plot and always shown; one between
        # them that would touch a neighbour is left out (its tick stays).
        last_left = labels[-1][0]
        drawn_until = plot.left() - label_width
        for index, (left, text) in enumerate(labels):
            right = left + metrics.horizontalAdvance(text)
            is_end = index in (0, len(labels) - 1)
            if not is_end and (left < drawn_until + 8 or right + 8 > last_left):
                continue
            painter.drawText(left, plot.bottom() + 6 + metrics.ascent(), text)
            drawn_until = right
