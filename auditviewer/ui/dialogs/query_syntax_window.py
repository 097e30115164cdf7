"""Help ▸ Query Syntax: every term of the search box's language with an example each."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.querying.language import QUERY_TERMS
from auditviewer.ui.plain_text import plain_label

COLUMNS = ("Term", "Meaning", "Example")
INTRO = (
    "Type terms into the search box, separated by spaces. Different keys must all hold (AND); "
    "a repeated key is an alternative (OR). Values match regardless of case. Dates are UTC: "
    "after: includes its day, before: does not, as in the date fields and the timeline. "
    "Esc in the search box clears the filter."
)


class QuerySyntaxWindow(QDialog):
    """A non-modal window listing the query terms; it stays open beside the entries."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query Syntax")
        self.setModal(False)
        layout = QVBoxLayout(self)
        intro = plain_label(INTRO, self)
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(intro)
        self.table = QTableWidget(len(QUERY_TERMS), len(COLUMNS), self)
        self.table.setTabKeyNavigation(False)  # Tab moves on; arrows move in the table
        self.table.setAccessibleName("Query terms with an example each")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        for row, item in enumerate(QUERY_TERMS):
            for column, text in enumerate((item.term, item.meaning, item.example)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(row, column, cell)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(820, 720)

    def examples(self) -> list[str]:
        """The examples as listed."""
        cells = (self.table.item(row, 2) for row in range(self.table.rowCount()))
        return [cell.text() for cell in cells if cell is not None]
