"""The search box: the filter as query-language text, with an inline message when malformed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.errors import QueryError
from auditviewer.core.querying.language import QUERY_TERMS, format_query, parse_query
from auditviewer.ui.filter.filter_state import FilterState
from auditviewer.ui.plain_text import plain_label, visible

TYPING_DELAY_MS = 300
PLACEHOLDER = (
    'Filter: action:cohort.* actor:jane@example.com after:2024-09-01 -action:release.update "text"'
)
_EXAMPLES = [item.example for item in QUERY_TERMS]
HELP = "\n".join(
    [
        "Query language: field:value terms, AND across fields, OR within a field.",
        *("   ".join(_EXAMPLES[start : start + 4]) for start in range(0, len(_EXAMPLES), 4)),
        "Esc clears the filter; the ? button lists every term with its meaning.",
    ]
)


HISTORY_LIMIT = 50


class FilterBar(QWidget):
    """Edits the filter as text; follows it when something else edits it."""

    controls_toggled = Signal(bool)
    help_requested = Signal()
    # The problem with the text typed ('' once it is a valid query again).
    error_changed = Signal(str)
    history_changed = Signal(list)  # the queries run with Enter, newest first

    def __init__(self, state: FilterState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(PLACEHOLDER)
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter query")
        self.search.setToolTip(HELP)
        self.search.textEdited.connect(self._on_edited)
        self.search.returnPressed.connect(self._run_query)
        # The last queries run with Enter, offered as the box is typed in.
        self.history: list[str] = []
        self._history_model = QStringListModel(self)
        self.completer = QCompleter(self._history_model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self._on_completed)
        self.search.setCompleter(self.completer)
        self.search.installEventFilter(self)
        row.addWidget(self.search, 1)
        self.help_button = QToolButton(self)
        self.help_button.setText("?")
        self.help_button.setToolTip("Query syntax: every term with an example")
        self.help_button.setAccessibleName("Query syntax")
        self.help_button.clicked.connect(self.help_requested)
        row.addWidget(self.help_button)
        self.controls_button = QToolButton(self)
        self.controls_button.setText("Controls")
        self.controls_button.setCheckable(True)
        self.controls_button.setToolTip("Show or hide the filter controls")
        self.controls_button.setAccessibleName("Filter controls")
        self.controls_button.toggled.connect(self.controls_toggled)
        row.addWidget(self.controls_button)
        layout.addLayout(row)
        self.message = plain_label("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Filter error")
        self.message.hide()
        icon_size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.message_icon = plain_label("", self)
        self.message_icon.setPixmap(self._warning.pixmap(icon_size, icon_size))
        self.message_icon.hide()
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_icon)
        message_row.addWidget(self.message, 1)
        layout.addLayout(message_row)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_DELAY_MS)
        self._timer.timeout.connect(self.apply)
        state.changed.connect(self._on_filter_changed)
        self.search.setText(format_query(state.filter))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.clear()
            return True
        return super().eventFilter(watched, event)

    def clear(self) -> None:
        """Empties the search box and the filter."""
        self.search.clear()
        self.apply()

    def _on_edited(self) -> None:
        self._timer.start()

    def apply(self) -> bool:
        """Parses the text into the filter; shows the problem in place when it is malformed."""
        self._timer.stop()
        text = self.search.text()
        try:
            new = parse_query(text)
        except QueryError as exc:
            self.show_error(f"{exc.reason} at character {exc.position + 1}")
            return False
        self.show_error(None)
        self._state.set_filter(new, self)
        return True

    def _run_query(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()
        if self.apply():
            self.remember(self.search.text())

    def _on_completed(self, text: str) -> None:
        self.search.setText(text)
        if self.apply():
            self.remember(text)

    def set_history(self, queries: list[str]) -> None:
        """The queries to offer (newest first), as kept in the settings."""
        self.history = [query for query in queries if query.strip()][:HISTORY_LIMIT]
        self._history_model.setStringList(self.history)

    def remember(self, query: str) -> None:
        """Puts ``query`` first in the history (once; at most :data:`HISTORY_LIMIT` kept)."""
        query = query.strip()
        if not query:
            return
        self.set_history([query, *(kept for kept in self.history if kept != query)])
        self.history_changed.emit(list(self.history))

    def show_error(self, text: str | None) -> None:
        """Shows (or hides) the message under the box."""
        self.message.setText(visible(text or "", 300))
        self.message.setVisible(bool(text))
        self.message_icon.setVisible(bool(text))
        self.error_changed.emit(self.message.text() if text else "")

    @property
    def error_text(self) -> str:
        """The message shown, '' when the query is fine."""
        return self.message.text() if self.message.isVisible() or self.message.text() else ""

    def _on_filter_changed(self, new: object, origin: object) -> None:
        if origin is self:
            return
        self._timer.stop()
        self.show_error(None)
        self.search.setText(format_query(new))  # type: ignore[arg-type]
