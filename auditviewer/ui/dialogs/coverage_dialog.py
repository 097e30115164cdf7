"""View > Coverage…: what the archive holds and where it has holes.

The retention warning first and prominently; then one bar per source on a shared time axis
(:class:`CoverageBars`), the gaps longer than the threshold with their dates, the overlaps
between sources, and the months of the last twelve that hold entries. The report is computed
by the core in the background; "now" is the core's unless given (tests fix it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.wording import counted
from auditviewer.ui.dialogs.coverage_bars import CoverageBars
from auditviewer.ui.plain_text import plain_label, visible, visible_multiline
from auditviewer.ui.table.entry_format import format_time
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import coverage_job
from auditviewer.ui.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from auditviewer.core.querying.coverage import CoverageReport
    from auditviewer.core.store.connection import Store

DAY = 86_400 * 1_000_000
WARNING_STYLE = (
    "QLabel { background: #fde2e1; color: #7a1010; border: 1px solid #d9534f; "
    "padding: 8px; font-weight: bold; }"
)
NO_WARNING_STYLE = "QLabel { padding: 8px; }"
# The chart scrolls beyond this height (many sources).
MAX_CHART_HEIGHT = 420


def _date(micros: int, utc: bool) -> str:
    return format_time(micros, utc=utc)


def details_text(report: CoverageReport, *, utc: bool) -> str:
    """The gaps, overlaps and months as plain text, one item a line."""
    threshold = report.gap_threshold / DAY
    lines = [f"Gaps longer than {threshold:g} day{'s' if threshold != 1 else ''}:"]
    lines.extend(
        f"  • {gap.days:.1f} days with no entries: from {_date(gap.after_utc, utc)} "
        f"to {_date(gap.before_utc, utc)}"
        for gap in report.gaps
    )
    if not report.gaps:
        lines.append("  none")
    lines.append("")
    lines.append("Overlaps between sources:")
    for overlap in report.overlaps:
        lines.append(
            f"  • sources {overlap.earlier} and {overlap.later}: "
            f"{_date(overlap.start_utc, utc)} to {_date(overlap.end_utc, utc)}, {overlap.proof()}"
        )
    if not report.overlaps:
        lines.append("  none")
    lines.append("")
    months = ", ".join(f"{month} ({count:,})" for month, count in report.months if count)
    missing = ", ".join(month for month, count in report.months if not count)
    lines.append(
        f"Months of the last 12 holding entries: {report.months_covered} of 12"
        + (f": {months}" if months else "")
    )
    if missing:
        lines.append(f"Months without entries: {missing}")
    if report.undated:
        lines.append(f"{counted(report.undated, 'entry')} without a time are not shown.")
    return "\n".join(lines)


def retention_text(report: CoverageReport) -> str:
    """The retention warning as a sentence, or what the horizon is when nothing is at risk."""
    if report.retention is not None:
        text = str(report.retention)
        return text[:1].upper() + text[1:] + "."
    if report.last_utc is None:
        return "The archive holds no dated entries yet."
    return (
        "No entries are at risk: the next expected sync, "
        f"{format_time(report.next_sync_utc, utc=True)[:10]}, comes before the service drops "
        "any entry the archive does not hold."
    )


class CoverageDialog(QDialog):
    """The coverage report of the store, with a gap threshold the user can change."""

    def __init__(
        self,
        store: Store,
        tasks: TaskRunner,
        *,
        utc: bool,
        now: Callable[[], int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Coverage")
        self.resize(1000, 640)
        self._store = store
        self._tasks = tasks
        self._now = now
        self.utc = utc
        self.worker: Job | None = None
        self.report: CoverageReport | None = None
        self._again = False

        layout = QVBoxLayout(self)
        self.warning = QLabel(self)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Retention warning")
        layout.addWidget(self.warning)
        self.summary = plain_label("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(plain_label("Show gaps longer than"))
        self.threshold = QSpinBox(self)
        self.threshold.setRange(1, 365)
        self.threshold.setValue(1)
        self.threshold.setSuffix(" days")
        self.threshold.setAccessibleName("Gap threshold")
        self.threshold.valueChanged.connect(self.refresh)
        threshold_row.addWidget(self.threshold)
        threshold_row.addStretch(1)
        layout.addLayout(threshold_row)
        self.bars = CoverageBars(self)
        self.chart_area = QScrollArea(self)
        self.chart_area.setWidgetResizable(True)
        self.chart_area.setWidget(self.bars)
        layout.addWidget(self.chart_area)
        self._fit_chart()
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Gaps, overlaps and months")
        layout.addWidget(self.details, 1)
        buttons = QDialogButtonBox(self)
        refresh = QPushButton("&Refresh", self)
        close = QPushButton("Close", self)
        buttons.addButton(refresh, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.AcceptRole)
        refresh.clicked.connect(self.refresh)
        close.clicked.connect(self.close)
        layout.addWidget(buttons)
        self.warning.setText("Reading what the archive covers…")
        self.warning.setStyleSheet(NO_WARNING_STYLE)

    @property
    def reading(self) -> bool:
        """Whether the report is being computed."""
        return self.worker is not None

    def refresh(self) -> None:
        """Computes the report again in the background."""
        if self.worker is not None:
            self._again = True
            return
        worker = coverage_job(self._store, gap=self.threshold.value() * DAY, now=self._now)
        worker.done.connect(self._on_read)
        self.worker = worker
        self._tasks.start(worker)

    def set_utc(self, utc: bool) -> None:
        """Shows times in UTC or local time, as the window does."""
        self.utc = utc
        if self.report is not None:
            self._show(self.report)

    def _fit_chart(self) -> None:
        """Gives the chart the height of its rows, scrolling beyond :data:`MAX_CHART_HEIGHT`."""
        frame = 2 * self.chart_area.frameWidth()
        self.chart_area.setFixedHeight(min(MAX_CHART_HEIGHT, self.bars.sizeHint().height() + frame))

    def _on_read(self, worker: Job) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        if worker.error is not None:
            self.warning.setText(visible(f"The coverage cannot be read: {worker.error}", 600))
        elif worker.result is not None:
            self._show(worker.result)
        if self._again:
            self._again = False
            self.refresh()

    def _show(self, report: CoverageReport) -> None:
        self.report = report
        self.warning.setText(retention_text(report))
        self.warning.setStyleSheet(WARNING_STYLE if report.retention else NO_WARNING_STYLE)
        span = (
            f", {format_time(report.first_utc, utc=self.utc)} to "
            f"{format_time(report.last_utc, utc=self.utc)}"
            if report.first_utc is not None
            else ""
        )
        self.summary.setText(
            f"{counted(report.entries, 'entry')} from "
            f"{counted(len(report.sources), 'source')}{span}. Gaps are shaded red; "
            "hover a bar for its source."
        )
        self.bars.show_report(report, utc=self.utc)
        self._fit_chart()
        self.details.setPlainText(visible_multiline(details_text(report, utc=self.utc)))
