"""The Action reference tab: the reference table plus the unknown actions seen in the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible

if TYPE_CHECKING:
    from auditviewer.core.reference import ActionReference

UNKNOWN_DESCRIPTION = "Not in the reference: a deprecated or unknown action"
COLUMNS = ("Action", "Description", "Logged since", "In store")
ACTION_ROLE = Qt.ItemDataRole.UserRole + 1


class ReferencePanel(QWidget):
    """Lists every reference row; highlights the selected entry's action; a click filters."""

    action_clicked = Signal(str, bool)  # action, exclude (modifier held)

    def __init__(self, reference: ActionReference, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reference = reference
        self._counts: dict[str, int] = {}
        self._highlighted: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        hint = plain_label(
            "Click an action to show its entries; Ctrl+click to hide them. Actions the "
            "reference lacks are listed last."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setTabKeyNavigation(False)  # Tab moves on; arrows move in the table
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        # Descriptions wrap, so that the rows of one action (``release.create`` has three) read
        # apart; actions are cut in the middle, where ``release_activation.create`` and
        # ``.delete`` differ.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setAccessibleName("Action reference")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        # Row heights follow the wrapped descriptions once the header has settled its widths.
        self._rows_timer = QTimer(self)
        self._rows_timer.setSingleShot(True)
        self._rows_timer.setInterval(0)
        self._rows_timer.timeout.connect(self.table.resizeRowsToContents)
        header.sectionResized.connect(self._fit_rows)
        self.table.cellClicked.connect(self._on_clicked)
        self.table.cellActivated.connect(self._on_clicked)
        layout.addWidget(self.table)
        self.table.viewport().installEventFilter(self)
        self._populate()
        self._fit_action_column()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_action_column()
        return super().eventFilter(watched, event)

    def _fit_action_column(self) -> None:
        """The action column as wide as its longest action, but at most a third of the
        table, so that the description keeps room to be read."""
        self.table.resizeColumnToContents(0)
        widest = max(self.table.viewport().width() // 3, self.fontMetrics().averageCharWidth() * 12)
        if self.table.columnWidth(0) > widest:
            self.table.setColumnWidth(0, widest)
        self._fit_rows()

    def _fit_rows(self) -> None:
        self._rows_timer.start()

    def set_store_counts(self, counts: dict[str, int]) -> None:
        """How many entries of each action the store holds (adds the unknown actions)."""
        self._counts = dict(counts)
        self._populate()
        self.highlight_action(self._highlighted)

    def _populate(self) -> None:
        rows: list[tuple[str, str, str, bool]] = [
            (row.action, row.description, row.logged_since.isoformat(), True)
            for row in self._reference.rows
        ]
        unknown = sorted(a for a in self._counts if a and not self._reference.is_known(a))
        rows.extend((action, UNKNOWN_DESCRIPTION, "", False) for action in unknown)
        self.table.setRowCount(len(rows))
        for index, (action, description, since, known) in enumerate(rows):
            action_item = QTableWidgetItem(visible(action, 200))
            action_item.setData(ACTION_ROLE, action)
            since_text = f" (logged since {since})" if since else ""
            action_item.setToolTip(safe_tooltip(f"{action}: {description}{since_text}"))
            description_item = QTableWidgetItem(visible(description, 500))
            description_item.setToolTip(safe_tooltip(description))
            since_item = QTableWidgetItem(since or "—")
            count_item = QTableWidgetItem()
            count_item.setData(Qt.ItemDataRole.DisplayRole, f"{self._counts.get(action, 0):,}")
            count_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not known:
                font = action_item.font()
                font.setItalic(True)
                for item in (action_item, description_item):
                    item.setFont(font)
            for column, item in enumerate((action_item, description_item, since_item, count_item)):
                self.table.setItem(index, column, item)
        self._fit_rows()

    def rows_of(self, action: str) -> list[int]:
        """The table rows showing an action (``release.create`` has three)."""
        return [
            row
            for row in range(self.table.rowCount())
            if (item := self.table.item(row, 0)) is not None and item.data(ACTION_ROLE) == action
        ]

    def highlight_action(self, action: str | None) -> None:
        """Marks the rows of the selected entry's action and scrolls to them."""
        self._highlighted = action
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is None:
                continue
            font = item.font()
            font.setBold(item.data(ACTION_ROLE) == action)
            item.setFont(font)
        selection = self.table.selectionModel()
        selection.clearSelection()
        rows = self.rows_of(action) if action else []
        for row in rows:
            for column in range(self.table.columnCount()):
                cell = self.table.item(row, column)
                if cell is not None:
                    cell.setSelected(True)
        if rows:
            first = self.table.item(rows[0], 0)
            if first is not None:
                self.table.scrollToItem(first, QAbstractItemView.ScrollHint.PositionAtCenter)

    def highlighted_rows(self) -> list[int]:
        """The rows currently marked as the selected entry's action."""
        return sorted({index.row() for index in self.table.selectionModel().selectedIndexes()})

    def _on_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        modifiers = QGuiApplication.keyboardModifiers()
        exclude = bool(
            modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        )
        self.action_clicked.emit(str(item.data(ACTION_ROLE)), exclude)
