"""The filter as controls: actions, actor, project, actor type and date range pickers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QSize, Qt, QTime, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QMenu,
    QStyle,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from auditviewer.core.reference import ActionReference
from auditviewer.ui.filter.action_picker import ActionPicker
from auditviewer.ui.filter.filter_state import FilterState
from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible

ANY = ""
ACTOR_TYPES = (
    ("", "Any actor type"),
    ("user", "Users"),
    ("token", "Tokens"),
    ("unknown", "Unknown"),
)
NO_DATE = QDate(1970, 1, 1)
DAY_FORMAT = "yyyy-MM-dd"
MINUTE_FORMAT = "yyyy-MM-dd HH:mm"
SECOND_FORMAT = "yyyy-MM-dd HH:mm:ss"
MICROS_PER_DAY = 86_400_000_000


def day_start_micros(day: date) -> int:
    """Midnight UTC of a day, in microseconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


class _ValuePicker(QComboBox):
    """A combo box of values with their counts; the first item means "any"."""

    def __init__(self, any_text: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._any_text = any_text
        self.setAccessibleName(name)
        self.setMinimumContentsLength(6)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMaxVisibleItems(25)
        self._counts: list[tuple[str, int]] = []
        self.show_values(())

    def set_counts(self, counts: Sequence[Any], current: tuple[str, ...]) -> None:
        """``FacetCount`` values with their counts."""
        self._counts = [(str(f.value), int(f.count)) for f in counts if f.value is not None]
        self.show_values(current)

    def show_values(self, current: tuple[str, ...]) -> None:
        """Fills the items and selects what the filter asks for."""
        self.blockSignals(True)
        try:
            self.clear()
            self.addItem(self._any_text, ANY)
            known = set()
            for value, count in self._counts:
                self.addItem(f"{visible(value, 60)}  ({count:,})", value)
                self.setItemData(self.count() - 1, safe_tooltip(value), Qt.ItemDataRole.ToolTipRole)
                known.add(value)
            if len(current) == 1 and current[0] not in known:
                self.addItem(visible(current[0], 60), current[0])
            if len(current) > 1:
                self.addItem(f"{len(current)} values (see the query)", "\x00multiple")
                self.setCurrentIndex(self.count() - 1)
            elif current:
                self.setCurrentIndex(max(0, self.findData(current[0])))
            else:
                self.setCurrentIndex(0)
        finally:
            self.blockSignals(False)

    def value(self) -> tuple[str, ...] | None:
        """The chosen value as a filter tuple; None when the item stands for several values."""
        data = self.currentData()
        if data == "\x00multiple":
            return None
        return (str(data),) if data else ()


def _format_for(micros: int) -> str:
    """The display format that shows a moment without hiding a part the query names."""
    if micros % MICROS_PER_DAY == 0:
        return DAY_FORMAT
    return MINUTE_FORMAT if micros % 60_000_000 == 0 else SECOND_FORMAT


class _MomentPicker(QDateTimeEdit):
    """A UTC day (or, for a range picked by the hour, a UTC moment), or "any".

    "Any" is the special value at the minimum date. A bound at midnight shows as a day; any other
    bound shows its hour and minute too, so the field always says what the query says.
    """

    def __init__(self, any_text: str, name: str, tooltip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setTimeZone(QTimeZone.utc())
        self.setCalendarPopup(True)
        self.setDisplayFormat(DAY_FORMAT)
        self.setMinimumDate(NO_DATE)
        self.setSpecialValueText(any_text)
        self.setDate(NO_DATE)
        self.setToolTip(f"{tooltip}; the lowest date means any date")

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab leaves the field (Left and Right move between day, month and year): a field
        # showing "any date" would otherwise keep the keyboard focus for good.
        return QWidget.focusNextPrevChild(self, next)

    def moment(self) -> int | None:
        """The picked moment in UTC microseconds, or None for "any"."""
        if self.date() == NO_DATE:
            return None
        picked = self.date()
        day = day_start_micros(date(picked.year(), picked.month(), picked.day()))
        if self.displayFormat() == DAY_FORMAT:
            return day
        clock = self.time()
        return day + (clock.hour() * 3600 + clock.minute() * 60 + clock.second()) * 1_000_000

    def set_moment(self, micros: int | None) -> None:
        """Shows a moment (None = "any") without emitting."""
        self.blockSignals(True)
        try:
            if micros is None:
                self.setDisplayFormat(DAY_FORMAT)
                self.setDate(NO_DATE)
                return
            moment = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
            self.setDisplayFormat(_format_for(micros))
            self.setDateTime(
                QDateTime(
                    QDate(moment.year, moment.month, moment.day),
                    QTime(moment.hour, moment.minute, moment.second),
                    QTimeZone.utc(),
                )
            )
        finally:
            self.blockSignals(False)


class _MenuButton(QToolButton):
    """A button that opens a menu, wide enough that the arrow in its corner does not touch
    its text."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        arrow = self.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, self)
        return QSize(hint.width() + arrow, hint.height())


class FilterControls(QWidget):
    """Writes into the shared filter field by field and follows it when the query text changes."""

    def __init__(
        self, state: FilterState, reference: ActionReference, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._state = state
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.actions_button = _MenuButton(self)
        self.actions_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.actions_button.setAccessibleName("Actions")
        self.actions_menu = QMenu(self.actions_button)
        self.action_picker = ActionPicker(reference)
        self.action_picker.setMinimumSize(360, 420)
        picker_action = QWidgetAction(self.actions_menu)
        picker_action.setDefaultWidget(self.action_picker)
        self.actions_menu.addAction(picker_action)
        self.actions_button.setMenu(self.actions_menu)
        self.action_picker.selection_changed.connect(self._on_actions)
        layout.addWidget(self.actions_button)

        self.actor_picker = _ValuePicker("Any actor", "Actor")
        self.actor_picker.activated.connect(self._on_actor)
        layout.addWidget(self.actor_picker)
        self.type_picker = QComboBox(self)
        self.type_picker.setAccessibleName("Actor type")
        # A few fixed, short choices: show them whole.
        self.type_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for value, text in ACTOR_TYPES:
            self.type_picker.addItem(text, value)
        self.type_picker.activated.connect(self._on_type)
        layout.addWidget(self.type_picker)
        self.project_picker = _ValuePicker("Any project", "Project")
        self.project_picker.activated.connect(self._on_project)
        layout.addWidget(self.project_picker)

        # The same convention as the query's after: and before: (and the timeline): the first
        # day is included, the "before" day is not.
        from_label = plain_label("From")
        from_label.setToolTip("UTC dates: from the first day (included) to before the second")
        layout.addWidget(from_label)
        self.from_picker = _MomentPicker(
            "any date", "From date (UTC, included)", "The query's after: this UTC day is included"
        )
        self.from_picker.dateTimeChanged.connect(self._on_from)
        layout.addWidget(self.from_picker)
        layout.addWidget(plain_label("before"))
        self.before_picker = _MomentPicker(
            "any date",
            "Before date (UTC, not included)",
            "The query's before: entries up to, not including, this UTC day",
        )
        self.before_picker.dateTimeChanged.connect(self._on_before)
        layout.addWidget(self.before_picker)
        layout.addStretch(1)
        state.changed.connect(self._on_filter_changed)
        self.show_filter(state.filter)

    def set_store_counts(self, counts: Mapping[str, Sequence[Any]]) -> None:
        """Store-wide counts per action, actor and project."""
        current = self._state.filter
        self.action_picker.set_counts(
            {str(f.value): int(f.count) for f in counts.get("action", ()) if f.value},
            current.actions,
        )
        self.actor_picker.set_counts(counts.get("actor", ()), current.actors)
        self.project_picker.set_counts(counts.get("project", ()), current.projects)

    def show_filter(self, flt: Any) -> None:
        """Shows the filter in the controls, without writing it back."""
        self.action_picker.set_picked(flt.actions)
        count = len(flt.actions)
        self.actions_button.setText(
            "Any action" if not count else f"Actions: {visible(flt.actions[0], 40)}"
            if count == 1 else f"Actions: {count} picked"
        )  # fmt: skip
        self.actor_picker.show_values(flt.actors)
        self.project_picker.show_values(flt.projects)
        self.type_picker.blockSignals(True)
        types = flt.actor_types
        self.type_picker.setCurrentIndex(
            max(0, self.type_picker.findData(types[0])) if len(types) == 1 else 0
        )
        self.type_picker.blockSignals(False)
        self.from_picker.set_moment(flt.after)
        self.before_picker.set_moment(flt.before)

    def _on_filter_changed(self, flt: object, origin: object) -> None:
        del origin
        self.show_filter(flt)

    def _on_actions(self, patterns: tuple[str, ...]) -> None:
        self._state.update(self, actions=patterns)
        self.show_filter(self._state.filter)

    def _on_actor(self) -> None:
        value = self.actor_picker.value()
        if value is not None:
            self._state.update(self, actors=value)

    def _on_project(self) -> None:
        value = self.project_picker.value()
        if value is not None:
            self._state.update(self, projects=value)

    def _on_type(self) -> None:
        data = self.type_picker.currentData()
        self._state.update(self, actor_types=(str(data),) if data else ())

    def _on_from(self) -> None:
        self._state.update(self, after=self.from_picker.moment())

    def _on_before(self) -> None:
        self._state.update(self, before=self.before_picker.moment())
