"""The entry table: fixed-height rows, movable/hideable columns, the per-cell context menu."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.plain_text import menu_text, plain_label, visible
from auditviewer.ui.table import COPY_AS_JSON, COPY_AS_JSON_TIP
from auditviewer.ui.table.entry_table_model import (
    ACTION,
    ACTOR,
    COLUMNS,
    ENTITY,
    FLAGS,
    IP,
    PROJECT,
    REVIEW,
    TIME,
    EntryTableModel,
)
from auditviewer.ui.table.flags_delegate import FlagsDelegate, flags_width

# Table column -> filter dimension a "filter by value" on it edits.
COLUMN_DIMENSIONS = {
    ACTION: "action",
    ACTOR: "actor",
    PROJECT: "project",
    ENTITY: "entity",
    IP: "text",
}
DEFAULT_WIDTHS = {
    TIME: 215,
    ACTION: 230,
    ACTOR: 200,
    PROJECT: 140,
    ENTITY: 220,
    IP: 120,
    FLAGS: max(flags_width(4), 56),
    REVIEW: 110,
}
# The columns left to right on a first start: the flags right after the time, where they are
# seen without scrolling.
DEFAULT_ORDER = (TIME, FLAGS, REVIEW, ACTION, ACTOR, PROJECT, ENTITY, IP)
# The columns of the first release, whose saved layouts are brought over: all before REVIEW.
FIRST_RELEASE_COLUMNS = REVIEW


# How much of the base colour is laid over rows that no longer match the query being edited.
STALE_VEIL_ALPHA = 150


class _StaleVeil(QWidget):
    """Dims the rows and says why: they belong to the last valid query, not to the text shown.

    Clicks pass through, so the rows can still be selected and copied.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.message: QLabel = plain_label("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Rows out of date")
        self.message.setAutoFillBackground(True)
        self.message.setMargin(6)
        self.message.setFrameShape(QLabel.Shape.StyledPanel)
        layout.addWidget(self.message, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(1)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        veil = QColor(self.palette().color(QPalette.ColorRole.Base))
        veil.setAlpha(STALE_VEIL_ALPHA)
        painter.fillRect(self.rect(), veil)
        painter.end()


class EntryTableView(QTableView):
    """Shows an :class:`EntryTableModel`; asks the browser to filter via signals."""

    filter_requested = Signal(str, str, bool)  # dimension, value, exclude
    day_requested = Signal(int)  # a row whose day to show
    entity_requested = Signal(int)  # a row whose entity's entries to show
    actor_requested = Signal(int)  # a row whose actor's entries to show
    copy_requested = Signal()
    export_requested = Signal()  # the selected entries, to a file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Audit entries")
        # Tab moves on to the next control, not through every cell of every entry.
        self.setTabKeyNavigation(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        vertical = self.verticalHeader()
        vertical.hide()
        # Fixed heights: the view never asks the model to measure a million rows.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._cell_menu)
        self._flags_delegate = FlagsDelegate(self)
        self.setItemDelegateForColumn(FLAGS, self._flags_delegate)
        self.stale_veil = _StaleVeil(self.viewport())
        # The window's Edit ▸ Copy as JSON, shared with the context menu (see share_copy_action).
        self.copy_action: QAction | None = None
        # The window's actions about one entry, at the end of the context menu.
        self.extra_menu_actions: list[QAction] = []

    def share_copy_action(self, action: QAction) -> None:
        """Puts the window's Copy as JSON in the context menu and makes its Ctrl+C work here."""
        self.copy_action = action
        self.addAction(action)

    # --- keys ------------------------------------------------------------------------------

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        # Home/End go to the first/last entry, not the first/last column of a row; with Ctrl
        # they also bring the time column into view. Shift extends the selection as usual.
        if cursorAction not in (
            QAbstractItemView.CursorAction.MoveHome,
            QAbstractItemView.CursorAction.MoveEnd,
        ):
            return super().moveCursor(cursorAction, modifiers)
        model = self.entry_model()
        if cursorAction == QAbstractItemView.CursorAction.MoveEnd:
            rows = model.exact_count()
            row = rows - 1
        else:
            rows = model.rowCount()
            row = 0
        if rows <= 0:
            return QModelIndex()
        column = self._home_column(bool(modifiers & Qt.KeyboardModifier.ControlModifier))
        return model.index(row, column)

    def _home_column(self, to_time: bool) -> int:
        header = self.horizontalHeader()
        if to_time and not header.isSectionHidden(TIME):
            return TIME
        current = self.currentIndex()
        if current.isValid() and not header.isSectionHidden(current.column()):
            return current.column()
        if not header.isSectionHidden(TIME):
            return TIME
        visible_columns = (header.logicalIndex(visual) for visual in range(header.count()))
        return next((c for c in visible_columns if not header.isSectionHidden(c)), 0)

    # --- stale rows --------------------------------------------------------------------------

    @property
    def stale(self) -> bool:
        """Whether the rows are marked as belonging to an earlier query."""
        return not self.stale_veil.isHidden()

    @property
    def stale_message(self) -> str:
        """What the mark over stale rows says ('' when the rows are current)."""
        return self.stale_veil.message.text() if self.stale else ""

    def set_stale(self, reason: str | None) -> None:
        """Dims the rows with ``reason`` over them, or shows them as current when None."""
        if reason is None:
            self.stale_veil.hide()
            return
        self.stale_veil.message.setText(
            visible(f"These rows are from the last valid query, not the one typed: {reason}", 400)
        )
        self.stale_veil.setGeometry(self.viewport().rect())
        self.stale_veil.show()
        self.stale_veil.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.stale_veil.setGeometry(self.viewport().rect())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and isinstance(self.model(), EntryTableModel):
            self.entry_model().palette_changed()
        super().changeEvent(event)

    def entry_model(self) -> EntryTableModel:
        """The model, typed."""
        model = self.model()
        assert isinstance(model, EntryTableModel)
        return model

    def apply_default_widths(self) -> None:
        """Column widths for a first start."""
        for column, width in DEFAULT_WIDTHS.items():
            self.setColumnWidth(column, width)

    def apply_default_columns(self) -> None:
        """Column order and widths for a first start."""
        header = self.horizontalHeader()
        for position, column in enumerate(DEFAULT_ORDER):
            header.moveSection(header.visualIndex(column), position)
        self.apply_default_widths()

    def restore_columns(self, state: QByteArray, *, flags_last: bool = False) -> bool:
        """Brings back saved columns (order, widths, hidden ones, sort).

        ``flags_last``: the state was saved by the first release, when the flags column came
        last, off-screen, and there was no review column; the flags are moved next to the time
        column and the review column next to the flags, the rest kept as the user left it.
        """
        header = self.horizontalHeader()
        if flags_last:
            if not self._restore_first_release_columns(state):
                return False
            header.moveSection(header.visualIndex(FLAGS), header.visualIndex(TIME) + 1)
            self.setColumnWidth(FLAGS, DEFAULT_WIDTHS[FLAGS])
            header.moveSection(header.visualIndex(REVIEW), header.visualIndex(FLAGS) + 1)
            self.setColumnWidth(REVIEW, DEFAULT_WIDTHS[REVIEW])
            return True
        return header.restoreState(state)

    def _restore_first_release_columns(self, state: QByteArray) -> bool:
        # Qt restores a state with fewer sections than the model's, but a state saved after
        # that cannot be restored again. So the old state is read in a header of its own size
        # and its order, widths, hidden columns and sort are applied here one by one.
        from PySide6.QtGui import QStandardItemModel

        old = QHeaderView(Qt.Orientation.Horizontal)
        old.setModel(QStandardItemModel(0, FIRST_RELEASE_COLUMNS, old))
        if not old.restoreState(state) or old.count() != FIRST_RELEASE_COLUMNS:
            return False
        header = self.horizontalHeader()
        for position in range(old.count()):
            logical = old.logicalIndex(position)
            header.moveSection(header.visualIndex(logical), position)
        for logical in range(old.count()):
            header.resizeSection(logical, old.sectionSize(logical))
            header.setSectionHidden(logical, old.isSectionHidden(logical))
        header.setSortIndicator(old.sortIndicatorSection(), old.sortIndicatorOrder())
        return True

    # --- columns -----------------------------------------------------------------------------

    def fill_columns_menu(self, menu: QMenu) -> None:
        """One checkable entry per column to show or hide it."""
        header = self.horizontalHeader()
        for column, info in enumerate(COLUMNS):
            action = QAction(info.title, menu)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda on, column=column: self.set_column_visible(column, on))
            menu.addAction(action)
        menu.addSeparator()
        reset = QAction("Reset Columns", menu)
        reset.triggered.connect(self.reset_columns)
        menu.addAction(reset)

    def fill_sort_menu(self, menu: QMenu) -> None:
        """The keyboard's way to the header's sort: one choice per column, then the direction."""
        header = self.horizontalHeader()
        current = header.sortIndicatorSection()
        order = header.sortIndicatorOrder()
        columns = QActionGroup(menu)
        for column, info in enumerate(COLUMNS):
            action = QAction(info.title, columns)
            action.setCheckable(True)
            action.setChecked(column == current)
            action.triggered.connect(lambda _=False, column=column: self.sort_by(column, None))
            menu.addAction(action)
        menu.addSeparator()
        directions = QActionGroup(menu)
        for title, direction in (
            ("&Ascending", Qt.SortOrder.AscendingOrder),
            ("&Descending", Qt.SortOrder.DescendingOrder),
        ):
            action = QAction(title, directions)
            action.setCheckable(True)
            action.setChecked(direction == order)
            action.triggered.connect(
                lambda _=False, direction=direction: self.sort_by(None, direction)
            )
            menu.addAction(action)

    def sort_by(self, column: int | None, order: Qt.SortOrder | None) -> None:
        """Sorts as a click on a header does; None keeps the current column or direction."""
        header = self.horizontalHeader()
        if column is None:
            column = header.sortIndicatorSection()
        if order is None:
            order = header.sortIndicatorOrder()
        if header.isSectionHidden(column):
            self.set_column_visible(column, True)
        self.sortByColumn(column, order)

    def set_column_visible(self, column: int, on: bool) -> None:
        """Shows or hides a column; the last visible column cannot be hidden."""
        header = self.horizontalHeader()
        if not on and header.count() - header.hiddenSectionCount() <= 1:
            return
        header.setSectionHidden(column, not on)

    def reset_columns(self) -> None:
        """Shows every column in its first order and width."""
        header = self.horizontalHeader()
        for column in range(header.count()):
            header.setSectionHidden(column, False)
        self.apply_default_columns()

    def _header_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        self.fill_columns_menu(menu)
        menu.popup(self.horizontalHeader().mapToGlobal(position))

    # --- cells -------------------------------------------------------------------------------

    def build_cell_menu(self, row: int, column: int) -> QMenu:
        """The context menu of one cell."""
        model = self.entry_model()
        menu = QMenu(self)
        value = model.cell_value(row, column)
        copy_value = menu.addAction("Copy Value")
        copy_value.triggered.connect(lambda: QGuiApplication.clipboard().setText(value))
        copy_value.setEnabled(bool(value))
        if self.copy_action is not None:
            menu.addAction(self.copy_action)
        else:
            copy_entries = menu.addAction(COPY_AS_JSON)
            copy_entries.setToolTip(COPY_AS_JSON_TIP)
            copy_entries.triggered.connect(self.copy_requested)
        export_selected = menu.addAction("Export Selected…")
        export_selected.triggered.connect(self.export_requested)
        menu.addSeparator()
        entry = model.row_at(row)
        dimension = COLUMN_DIMENSIONS.get(column)
        filter_value = self._filter_value(row, column)
        if dimension is not None and filter_value:
            shown = menu_text(filter_value, 50)
            include = menu.addAction(f"Filter by “{shown}”")
            include.triggered.connect(
                lambda: self.filter_requested.emit(dimension, filter_value, False)
            )
            exclude = menu.addAction(f"Exclude “{shown}”")
            exclude.triggered.connect(
                lambda: self.filter_requested.emit(dimension, filter_value, True)
            )
        if column == TIME and entry is not None and entry.created_utc is not None:
            day = menu.addAction("Entries of This Day (UTC)")
            day.triggered.connect(lambda: self.day_requested.emit(row))
        menu.addSeparator()
        entity = menu.addAction("All Entries of This Entity")
        entity.setEnabled(entry is not None and bool(entry.entity_type))
        entity.triggered.connect(lambda: self.entity_requested.emit(row))
        actor = menu.addAction("All Entries of This Actor")
        actor.setEnabled(entry is not None and bool(entry.actor_label or entry.actor_id))
        actor.triggered.connect(lambda: self.actor_requested.emit(row))
        if self.extra_menu_actions:
            menu.addSeparator()
            for action in self.extra_menu_actions:
                menu.addAction(action)
        return menu

    def _filter_value(self, row: int, column: int) -> str:
        entry = self.entry_model().row_at(row)
        if entry is None:
            return ""
        if column == ACTION:
            return entry.action or ""
        if column == ACTOR:
            return entry.actor_label or entry.actor_id or ""
        if column == PROJECT:
            return entry.project or ""
        if column == ENTITY:
            return entry.entity_type or ""
        if column == IP:
            return entry.ip or ""
        return ""

    def _cell_menu(self, position: QPoint) -> None:
        index = self.indexAt(position)
        if not index.isValid():
            return
        if not self.selectionModel().isSelected(index):
            self.selectRow(index.row())
        menu = self.build_cell_menu(index.row(), index.column())
        menu.popup(self.viewport().mapToGlobal(position))
