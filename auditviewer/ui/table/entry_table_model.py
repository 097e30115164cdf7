"""The table model over the store: reads windows of rows through ``EntryQuery``, never all rows.

Sorting and filtering are done by SQLite (a new ``EntryQuery``); the model keeps a small LRU cache
of pages of rows, so memory stays flat at a million entries.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPixmap

from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryQuery, EntryRow
from auditviewer.ui.plain_text import safe_tooltip, visible
from auditviewer.ui.review.review_column import (
    review_description,
    review_icon,
    review_text,
    review_tooltip,
)
from auditviewer.ui.table.entry_format import (
    ACTOR_TYPE_NAMES,
    actor_text,
    entity_text,
    entry_flags,
    format_time,
    local_zone_label,
)
from auditviewer.ui.table.flags_delegate import FLAG_KEYS_ROLE

if TYPE_CHECKING:
    from auditviewer.core.reference import ActionReference
    from auditviewer.core.reviewing.marks import MarkEvent
    from auditviewer.core.store.connection import Store
    from auditviewer.ui.tasks.reads import BackgroundCounter

PAGE_SIZE = 128
CACHE_PAGES = 64
CELL_LIMIT = 200
TOOLTIP_FROM = 40  # longer cells get a tooltip with the whole (escaped) value

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: its key, its header, and the core sort column behind it."""

    key: str
    title: str
    sort: str


COLUMNS: tuple[Column, ...] = (
    Column("time", "Time", "time"),
    Column("action", "Action", "action"),
    Column("actor", "Actor", "actor"),
    Column("project", "Project", "project"),
    Column("entity", "Entity", "entity"),
    Column("ip", "IP address", "ip"),
    Column("flags", "Flags", "flags"),
    # Each entry's current mark: unreviewed, ok, flagged, follow-up.
    Column("review", "Review", "review"),
)
# The keys are the core's TABLE_COLUMNS (saved views name them), in the same order.
COLUMN_INDEX = {column.key: number for number, column in enumerate(COLUMNS)}
TIME, ACTION, ACTOR, PROJECT, ENTITY, IP, FLAGS, REVIEW = range(len(COLUMNS))

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
_FONT = Qt.ItemDataRole.FontRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_SERVED = frozenset(
    {_DISPLAY, _TOOLTIP, _DECORATION, _ACCESSIBLE, FLAG_KEYS_ROLE, _FONT, _FOREGROUND}
)
UNVERIFIED_NOTE = (
    "Unverified: read from the raw text of a quarantined entry, which could not be "
    "understood as a whole"
)
_CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _actor_icon(kind: str) -> QIcon:
    """A small user (head and shoulders) or token (key) marker in the palette's text colour."""
    size = 16
    # Drawn at twice the size so that the marker stays sharp on high-DPI screens.
    scale = 2
    pixmap = QPixmap(size * scale, size * scale)
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QGuiApplication.palette().color(QPalette.ColorRole.Text)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    if kind == "user":
        painter.drawEllipse(QPointF(8, 5), 3.2, 3.2)
        path = QPainterPath()
        path.addRoundedRect(QRectF(2.5, 9.5, 11, 6), 3, 3)
        painter.drawPath(path)
    elif kind == "token":
        painter.drawEllipse(QPointF(5, 8), 3.8, 3.8)
        painter.drawRect(QRectF(8, 7, 7, 2.2))
        painter.drawRect(QRectF(12, 9, 1.8, 3))
    else:
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, "?")
    painter.end()
    return QIcon(pixmap)


class EntryTableModel(QAbstractTableModel):
    """Rows of the current filter and sort, fetched a page at a time.

    With a ``counter``, a new filter shows its first page at once and the row count grows to
    the full count when the background count arrives (``count_pending`` until then); without
    one, the count is taken before the rows are shown.
    """

    count_known = Signal(int)

    def __init__(
        self,
        store: Store,
        reference: ActionReference,
        parent: Any = None,
        counter: BackgroundCounter | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._counter = counter
        self._ticket = 0
        self.count_pending = False
        if counter is not None:
            counter.counted.connect(self._on_counted)
        self._reference = reference
        self._filter = Filter()
        self._sort = Sort()
        self._query: EntryQuery | None = None
        self._count = 0
        self._pages: OrderedDict[int, list[EntryRow]] = OrderedDict()
        self._utc = False
        self._icons: dict[str, QIcon] = {}
        # The review column: marks of the active review (None: each entry's latest), read
        # with each page of rows.
        self._review_id: int | None = None
        # The entry whose surrounding entries are shown, set in bold.
        self.highlight_seq: int | None = None
        self._marks: dict[int, dict[int, MarkEvent]] = {}
        self._open_query()

    # --- query -------------------------------------------------------------------------------

    def _open_query(self, *, recount: bool = True) -> None:
        if self._query is not None:
            self._query.close()
        self._pages.clear()
        self._marks.clear()
        self._query = EntryQuery(self._store, self._filter, self._sort)
        if not recount:
            return
        if self._counter is None:
            self._count = self._query.count()
            return
        first = self._query.window(0, PAGE_SIZE)
        self._pages[0] = first
        self._marks[0] = self._read_marks(first)
        self._count = len(first)
        self.count_pending = len(first) == PAGE_SIZE
        self._ticket = self._counter.count(self._filter) if self.count_pending else 0

    def _on_counted(self, ticket: int, count: int) -> None:
        if ticket != self._ticket or not self.count_pending:
            return
        self.count_pending = False
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()
        self.count_known.emit(count)

    def exact_count(self) -> int:
        """The number of matching rows, counting now if the background count is not in."""
        if self.count_pending and self._query is not None:
            self._on_counted(self._ticket, self._query.count())
        return self._count

    @property
    def filter(self) -> Filter:
        """The filter the rows match."""
        return self._filter

    @property
    def sort_order(self) -> Sort:
        """The order of the rows."""
        return self._sort

    def set_filter(self, filter_: Filter) -> None:
        """Shows the rows matching another filter."""
        self.beginResetModel()
        self._filter = filter_
        self._open_query()
        self.endResetModel()

    def refresh(self) -> None:
        """Re-reads the store (after an import)."""
        self.beginResetModel()
        self._open_query()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorts in SQLite by a column (Qt's sort hook)."""
        if not 0 <= column < len(COLUMNS) or not COLUMNS[column].sort:
            return
        new = Sort(COLUMNS[column].sort, descending=order == Qt.SortOrder.DescendingOrder)
        if new == self._sort:
            return
        # Every row may move: a reset is cheaper than mapping persistent indexes. The rows
        # themselves stay the same, and so does their count.
        self.beginResetModel()
        self._sort = new
        self._open_query(recount=self.count_pending)
        self.endResetModel()

    def set_utc(self, utc: bool) -> None:
        """Shows times in UTC (True) or local time."""
        if utc == self._utc:
            return
        self._utc = utc
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, TIME, TIME)
        if self._count:
            self.dataChanged.emit(
                self.index(0, TIME), self.index(self._count - 1, TIME), [_DISPLAY]
            )

    def palette_changed(self) -> None:
        """Redraws the actor markers in the new palette's colours."""
        self._icons.clear()
        if self._count:
            self.dataChanged.emit(
                self.index(0, ACTOR), self.index(self._count - 1, ACTOR), [_DECORATION]
            )

    def close(self) -> None:
        """Releases the query's connection."""
        if self._query is not None:
            self._query.close()
            self._query = None
        self._pages.clear()

    # --- rows --------------------------------------------------------------------------------

    def row_at(self, row: int) -> EntryRow | None:
        """The entry shown in a row (fetching its page when needed)."""
        if not 0 <= row < self._count or self._query is None:
            return None
        number, offset = divmod(row, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            page = self._query.window(number * PAGE_SIZE, PAGE_SIZE)
            self._pages[number] = page
            self._marks[number] = self._read_marks(page)
            if len(self._pages) > CACHE_PAGES:
                dropped, _ = self._pages.popitem(last=False)
                self._marks.pop(dropped, None)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def seqs_of_rows(self, ranges: list[tuple[int, int]]) -> list[int]:
        """The store ids of rows ``top..bottom`` (inclusive) of each range, in table order."""
        if self._query is None:
            return []
        seqs: list[int] = []
        for top, bottom in ranges:
            # From the query's order alone: no entry is read.
            seqs.extend(self._query.seqs(top, bottom - top + 1))
        return seqs

    # --- review marks ------------------------------------------------------------------------

    def _read_marks(self, page: list[EntryRow]) -> dict[int, MarkEvent]:
        from auditviewer.core.reviewing.marks import current_marks

        return current_marks(self._store, [row.seq for row in page], self._review_id)

    def mark_at(self, row: int) -> MarkEvent | None:
        """The review mark of the entry in a row (the active review's, else its latest)."""
        entry = self.row_at(row)
        if entry is None:
            return None
        return self._marks.get(row // PAGE_SIZE, {}).get(entry.seq)

    @property
    def review_id(self) -> int | None:
        """The review whose marks the review column shows (None: each entry's latest)."""
        return self._review_id

    def set_review(self, review_id: int | None) -> None:
        """Shows the marks of another review in the review column."""
        self._review_id = review_id
        self.refresh_marks()

    def refresh_marks(self) -> None:
        """Re-reads the marks of the pages held (after marking); the rows stay."""
        for number, page in self._pages.items():
            self._marks[number] = self._read_marks(page)
        if self._count:
            self.dataChanged.emit(self.index(0, REVIEW), self.index(self._count - 1, REVIEW))

    def cell_value(self, row: int, column: int) -> str:
        """The unescaped value of a cell, as stored (for copying)."""
        entry = self.row_at(row)
        if entry is None:
            return ""
        if column == REVIEW:
            return review_text(self.mark_at(row))
        return self._text(entry, column)

    def _text(self, entry: EntryRow, column: int) -> str:
        # A quarantined entry shows what its raw text still says (marked as unverified).
        shown: Any = entry.readable if entry.readable is not None else entry
        if column == TIME:
            if shown.created_utc is None and entry.readable is not None:
                return entry.readable.created_text or ""
            return format_time(shown.created_utc, utc=self._utc)
        if column == ACTION:
            return entry.action or shown.action or ""
        if column == ACTOR:
            return actor_text(shown)
        if column == PROJECT:
            return shown.project or ""
        if column == ENTITY:
            return entity_text(shown)
        if column == IP:
            return shown.ip or ""
        if column == FLAGS:
            return ", ".join(f.short for f in entry_flags(entry))
        return ""

    # --- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role not in _SERVED or not index.isValid():
            return None
        entry = self.row_at(index.row())
        if entry is None:
            return None
        column = index.column()
        if column == REVIEW:
            return self._review_data(self.mark_at(index.row()), role)
        if column == FLAGS and role in (_DISPLAY, _ACCESSIBLE, FLAG_KEYS_ROLE):
            # Drawn as markers (FlagsDelegate); the names are for screen readers and copying.
            if role == FLAG_KEYS_ROLE:
                return tuple(flag.key for flag in entry_flags(entry))
            return None if role == _DISPLAY else self._text(entry, column)
        if role in (_FONT, _FOREGROUND):
            if entry.quarantine_reason is not None:
                return self._unverified_style(role)
            if role == _FONT and entry.seq == self.highlight_seq:
                font = QGuiApplication.font()
                font.setBold(True)
                return font
            return None
        if role == _ACCESSIBLE:
            return None
        if role == _DISPLAY:
            return visible(self._text(entry, column), CELL_LIMIT)
        if role == _DECORATION:
            if column != ACTOR:
                return None
            kind = entry.actor_type or "unknown"
            icon = self._icons.get(kind)
            if icon is None:
                icon = self._icons[kind] = _actor_icon(kind)
            return icon
        return self._tooltip(entry, column)

    def _review_data(self, mark: MarkEvent | None, role: int) -> Any:
        if role == _DISPLAY:
            return visible(review_text(mark), CELL_LIMIT)
        if role == _DECORATION:
            return review_icon(mark)
        if role == _TOOLTIP:
            return review_tooltip(mark)
        if role == _ACCESSIBLE:
            return visible(review_description(mark), CELL_LIMIT)
        return None

    def _unverified_style(self, role: int) -> Any:
        if role == _FONT:
            font = QGuiApplication.font()
            font.setItalic(True)
            return font
        return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)

    def _tooltip(self, entry: EntryRow, column: int) -> str | None:
        if entry.quarantine_reason is not None and column != FLAGS:
            text = self._text(entry, column)
            value = f"{text}\n" if text else ""
            return safe_tooltip(f"{value}{UNVERIFIED_NOTE}: {entry.quarantine_reason}.")
        if column == FLAGS:
            flags = entry_flags(entry)
            return safe_tooltip("\n".join(f.sentence for f in flags)) if flags else None
        if column == ACTOR:
            kind = ACTOR_TYPE_NAMES.get(entry.actor_type or "unknown", entry.actor_type)
            ident = f" (id {entry.actor_id})" if entry.actor_id else ""
            return safe_tooltip(f"{kind}: {actor_text(entry)}{ident}")
        if column == ACTION and entry.action:
            rows = self._reference.describe(entry.action)
            description = rows[0].description if rows else "Not in the action reference"
            return safe_tooltip(f"{entry.action}: {description}")
        text = self._text(entry, column)
        return safe_tooltip(text) if len(text) > TOOLTIP_FROM else None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == _DISPLAY:
            title = COLUMNS[section].title
            if section == TIME:
                title += " (UTC)" if self._utc else f" ({local_zone_label()})"
            return title
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _CELL_FLAGS
