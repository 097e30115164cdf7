"""What an import did: per file counts, quarantined elements, failures."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.records import ImportReport
from auditviewer.core.wording import counted, rejection
from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible
from auditviewer.ui.table.entry_format import format_time

REPORT_COLUMNS = ("File", "Read", "New", "Duplicates", "Conflicts", "Quarantined", "Time span")


def _item(value: object, *, number: bool = False) -> QTableWidgetItem:
    if number and isinstance(value, int):
        item = QTableWidgetItem(f"{value:,}")
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item
    text = str(value)
    item = QTableWidgetItem(visible(text, 300))
    if len(text) > 40:
        item.setToolTip(safe_tooltip(text))
    return item


def _span(report: ImportReport) -> str:
    if report.first_created_utc is None or report.last_created_utc is None:
        return ""
    first = format_time(report.first_created_utc, utc=True)
    last = format_time(report.last_created_utc, utc=True)
    return f"{first} – {last}"


class ImportReportDialog(QDialog):
    """Shown when an import ends; can jump to the imported or the quarantined entries."""

    show_entries = Signal(tuple, bool)  # source ids, quarantined only

    def __init__(
        self,
        reports: list[ImportReport],
        failures: list[tuple[Path, str]],
        cancelled: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import finished" if not cancelled else "Import cancelled")
        self.reports = reports
        layout = QVBoxLayout(self)
        self.summary = plain_label(self._summary(reports, failures, cancelled))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        self.table = QTableWidget(len(reports), len(REPORT_COLUMNS), self)
        self.table.setTabKeyNavigation(False)  # Tab moves on; arrows move in the table
        self.table.setHorizontalHeaderLabels(list(REPORT_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAccessibleName("Imported files")
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, report in enumerate(reports):
            cells = (
                _item(Path(report.location).name),
                _item(report.parsed, number=True),
                _item(report.imported, number=True),
                _item(report.duplicates, number=True),
                _item(report.conflicts, number=True),
                _item(report.quarantined, number=True),
                _item(_span(report)),
            )
            cells[0].setToolTip(safe_tooltip(report.location))
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setVisible(bool(reports))
        layout.addWidget(self.table)

        quarantine = [
            (Path(report.location).name, entry) for report in reports for entry in report.quarantine
        ]
        self.quarantine_table = QTableWidget(len(quarantine), 3, self)
        self.quarantine_table.setHorizontalHeaderLabels(["File", "Where", "Why it was quarantined"])
        self.quarantine_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.quarantine_table.verticalHeader().hide()
        self.quarantine_table.setAccessibleName("Quarantined elements")
        self.quarantine_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        for row, (name, entry) in enumerate(quarantine):
            where = f"element {entry.index + 1}" + (
                f", line {entry.line}" if entry.line is not None else ""
            )
            for column, text in enumerate((name, where, entry.reason)):
                self.quarantine_table.setItem(row, column, _item(text))
        self.quarantine_table.setVisible(bool(quarantine))
        layout.addWidget(self.quarantine_table)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        self.show_imported_button = QPushButton("Show these entries")
        self.show_imported_button.clicked.connect(lambda: self._show(quarantined=False))
        self.show_quarantined_button = QPushButton("Show quarantined entries")
        self.show_quarantined_button.clicked.connect(lambda: self._show(quarantined=True))
        self.show_imported_button.setEnabled(any(r.imported or r.conflicts for r in reports))
        self.show_quarantined_button.setEnabled(any(r.quarantined for r in reports))
        buttons.addButton(self.show_imported_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.show_quarantined_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout.addWidget(buttons)
        if reports:
            self.resize(760, 360 if quarantine else 240)
        else:
            self.adjustSize()

    @staticmethod
    def _summary(
        reports: list[ImportReport], failures: list[tuple[Path, str]], cancelled: bool
    ) -> str:
        lines = []
        if reports:
            new = sum(r.imported for r in reports)
            duplicates = sum(r.duplicates for r in reports)
            conflicts = sum(r.conflicts for r in reports)
            quarantined = sum(r.quarantined for r in reports)
            lines.append(
                f"{counted(len(reports), 'file')} imported: "
                f"{counted(new, 'new entry')}, {duplicates:,} already stored, "
                f"{counted(conflicts, 'conflict')}, {quarantined:,} quarantined."
            )
        if cancelled:
            lines.append("The import was cancelled; the file being read was not stored.")
        lines.extend(visible(rejection(message), 1000) for _, message in failures)
        return "\n".join(lines) or "Nothing was imported."

    def _show(self, *, quarantined: bool) -> None:
        self.show_entries.emit(tuple(r.source_id for r in self.reports), quarantined)
        self.accept()
