"""The Details tab: every field of the selected entry, its changes, its raw JSON, copy buttons."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.details.value_view import VALUE_LIMIT, ValueView
from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible, visible_multiline
from auditviewer.ui.table.entry_format import (
    ACTOR_TYPE_NAMES,
    entry_flags,
    format_time_long,
)

if TYPE_CHECKING:
    from auditviewer.core.reference import ActionReference

# (key, label) of the single-line fields, in display order.
ENTRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("time_utc", "Time (UTC)"),
    ("time_local", "Time (local)"),
    ("action", "Action"),
    ("description", "Description"),
    ("actor_type", "Actor type"),
    ("actor_label", "Actor"),
    ("actor_id", "Actor id"),
    ("project", "Project"),
    ("entity_type", "Entity type"),
    ("entity_name", "Entity name"),
    ("entity_id", "Entity id"),
    ("ip", "IP address"),
    ("user_agent", "User agent"),
    ("entry_key", "Entry id"),
    ("seq", "Stored as #"),
)
PROVENANCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("source", "Came from"),
    ("imported", "Imported"),
    ("source_sha256", "File SHA-256"),
    ("raw_sha256", "Text SHA-256"),
    ("content_sha256", "Content SHA-256"),
    ("chain_sha256", "Chain SHA-256"),
)
# Fields shown in a fixed-width font: hashes, read and compared character by character.
MONOSPACE_FIELDS = frozenset(
    {"source_sha256", "raw_sha256", "content_sha256", "chain_sha256", "entry_key"}
)
# Fields that, for a quarantined entry, come from its raw text and are not verified.
READABLE_KEYS = frozenset(
    {
        "time_utc",
        "time_local",
        "action",
        "actor_type",
        "actor_label",
        "actor_id",
        "project",
        "entity_type",
        "entity_name",
        "entity_id",
        "ip",
        "user_agent",
    }
)
UNVERIFIED = " (unverified)"
# Pairs of keys a change can be spelled with, in order of preference.
CHANGE_KEYS = (("old", "new"), ("before", "after"), ("from", "to"), ("previous", "current"))
CELL_LIMIT = 300
CHANGES_SHOWN = 8  # rows of changes shown before the table scrolls
CHANGES_LIMIT = 1_000  # rows of changes listed at most
MORE_CHANGES = (
    f"more changes than the {CHANGES_LIMIT:,} listed; the Raw JSON below and Copy formatted "
    "JSON hold every one"
)


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def change_rows(changes: Any, limit: int | None = None) -> list[tuple[str, str, str]]:
    """``changes`` as (field, before, after) rows, whatever shape the source used; at most
    ``limit`` rows (the rest are never formatted)."""
    return list(itertools.islice(_change_rows(changes), limit))


def _change_rows(changes: Any) -> Iterator[tuple[str, str, str]]:
    if changes is None:
        return
    if isinstance(changes, list):
        for position, item in enumerate(changes):
            if isinstance(item, dict) and "field" in item:
                rest = {key: value for key, value in item.items() if key != "field"}
                yield from (
                    (_value_text(item["field"]), before, after)
                    for _, before, after in _change_rows({"": rest})
                )
            else:
                yield (f"[{position}]", "", _value_text(item))
        return
    if not isinstance(changes, dict):
        yield ("", "", _value_text(changes))
        return
    for field, change in changes.items():
        yield (str(field), *_before_after(change))


def _before_after(change: Any) -> tuple[str, str]:
    if isinstance(change, dict):
        for old_key, new_key in CHANGE_KEYS:
            if old_key in change or new_key in change:
                return _value_text(change.get(old_key)), _value_text(change.get(new_key))
    if isinstance(change, list) and len(change) == 2:
        return _value_text(change[0]), _value_text(change[1])
    return "", _value_text(change)


def history_text(event: Any) -> str:
    """One review event in words: when, the disposition, who (name and OS user), the review,
    then its tags and note as written (invisible characters shown as escapes)."""
    from auditviewer.ui.review.review_column import DISPOSITION_WORDS

    when = format_time_long(event.created_utc, utc=True)
    word = DISPOSITION_WORDS.get(event.disposition) or "Unreviewed"
    who = visible(event.reviewer, 200)
    lines = [
        f"{when} — {word} by {who} (OS user {visible(event.os_user, 80)}), review {event.review_id}"
    ]
    if event.tags:
        lines.append("Tags: " + ", ".join(visible(tag, 200) for tag in event.tags))
    if event.note:
        lines.append("Note: " + visible_multiline(event.note))
    return "\n".join(lines)


# The raw JSON shown is cut after this many characters (laying out a line of megabytes stalls
# the window); the copy buttons copy all of it.
RAW_LIMIT = 100_000


def raw_shown(raw: str) -> str:
    """The entry's formatted JSON as the Raw JSON box shows it: escaped, and cut with a note
    when it is longer than :data:`RAW_LIMIT`."""
    text = pretty_json(raw)
    if len(text) <= RAW_LIMIT:
        return visible_multiline(text)
    return (
        visible_multiline(text[:RAW_LIMIT])
        + f"\n… cut here: {len(text):,} characters in all. Copy original JSON or Copy formatted "
        "JSON copies every one."
    )


# Digits enough for a number beyond 64 bits, which orjson would read as a float (rounded).
_LONG_NUMBER = re.compile(r"\d{19}")


def parsed_entry(raw: str) -> Any:
    """The raw entry text as JSON values, numbers exactly as written; None when it is not
    JSON. orjson reads it fast; a text with very long numbers goes to the standard parser,
    which keeps them whole."""
    if _LONG_NUMBER.search(raw) is None:
        with contextlib.suppress(orjson.JSONDecodeError):
            return orjson.loads(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return None


def pretty_json(raw: str) -> str:
    """The raw entry text indented for reading (the raw text itself when it is not JSON)."""
    if _LONG_NUMBER.search(raw) is None:
        with contextlib.suppress(orjson.JSONDecodeError, TypeError):
            return orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2).decode()
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


class DetailPanel(QScrollArea):
    """Shows one entry (an ``EntryDetail``); every text in it is plain and escaped."""

    def __init__(self, reference: ActionReference, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reference = reference
        self._raw = ""
        self.setWidgetResizable(True)
        # Values wrap to the panel's width; the panel itself only scrolls down.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Entry details")
        # The values are one Tab stop (the first of them) and the arrows move through them.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._stack = QStackedWidget()
        self.setWidget(self._stack)
        self._empty = plain_label("Select an entry to see its details.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._stack.addWidget(self._empty)
        body = QWidget()
        self._body = body
        self._stack.addWidget(body)
        layout = QVBoxLayout(body)

        self.quarantine_note = ValueView()
        self.quarantine_note.setAccessibleName("Why the entry is quarantined")
        self.quarantine_note.step_requested.connect(self._step_values)
        self.quarantine_note.hide()
        layout.addWidget(self.quarantine_note)
        self.fields: dict[str, ValueView] = {}
        layout.addWidget(self._form("Entry", ENTRY_FIELDS))
        layout.addWidget(self._form("Provenance", PROVENANCE_FIELDS))
        first_value = self.fields[ENTRY_FIELDS[0][0]]
        first_value.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        first_value.setAccessibleDescription("Up and Down move through the entry's values")

        self._flags_box = QGroupBox("Flags")
        self._flags_layout = QVBoxLayout(self._flags_box)
        layout.addWidget(self._flags_box)

        changes_box = QGroupBox("Changes")
        changes_layout = QVBoxLayout(changes_box)
        self.changes = QTableWidget(0, 3)
        self.changes.setHorizontalHeaderLabels(["Field", "Before", "After"])
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes.verticalHeader().hide()
        self.changes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.changes.setAccessibleName("Changes: field, before, after")
        # Tab moves on to the next control; the arrows move between the cells.
        self.changes.setTabKeyNavigation(False)
        # Values wrap; the table is as tall as its first rows, the rest scroll inside it.
        self.changes.setWordWrap(True)
        self.changes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.changes.horizontalHeader().sectionResized.connect(self._fit_changes_soon)
        self._changes_timer = QTimer(self)
        self._changes_timer.setSingleShot(True)
        self._changes_timer.setInterval(0)
        self._changes_timer.timeout.connect(self._fit_changes)
        self._no_changes = plain_label("This entry records no changes.")
        changes_layout.addWidget(self.changes)
        changes_layout.addWidget(self._no_changes)
        layout.addWidget(changes_box)

        # Every review mark the entry was given, oldest first (see set_history_reader).
        self.history_box = QGroupBox("Review history")
        history_layout = QVBoxLayout(self.history_box)
        self.history_view = ValueView()
        self.history_view.setAccessibleName("Review history of the entry")
        self.history_view.step_requested.connect(self._step_values)
        history_layout.addWidget(self.history_view)
        self.history_box.hide()
        layout.addWidget(self.history_box)
        self._history_of: Callable[[int], list[Any]] | None = None

        raw_box = QGroupBox("Raw JSON")
        raw_layout = QVBoxLayout(raw_box)
        self.raw_view = QPlainTextEdit()
        self.raw_view.setReadOnly(True)
        self.raw_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw_view.setMinimumHeight(160)
        self.raw_view.setAccessibleName("Raw JSON of the entry")
        raw_layout.addWidget(self.raw_view)
        buttons = QGridLayout()
        self.copy_raw_button = QPushButton("Copy original JSON")
        self.copy_raw_button.setToolTip("Copies the entry's exact original text")
        self.copy_raw_button.clicked.connect(self.copy_raw)
        self.copy_pretty_button = QPushButton("Copy formatted JSON")
        self.copy_pretty_button.clicked.connect(self.copy_pretty)
        self.copy_summary_button = QPushButton("Copy details")
        self.copy_summary_button.setToolTip("Copies the fields above as text")
        self.copy_summary_button.clicked.connect(self.copy_summary)
        # Two to a row, so that they fit beside the table at 1280 px.
        for number, button in enumerate(
            (self.copy_raw_button, self.copy_pretty_button, self.copy_summary_button)
        ):
            buttons.addWidget(button, number // 2, number % 2)
        raw_layout.addLayout(buttons)
        layout.addWidget(raw_box)
        layout.addStretch(1)
        self._values: dict[str, str] = {}
        self.flag_labels: list[str] = []

    def _form(self, title: str, fields: tuple[tuple[str, str], ...]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        for key, label in fields:
            view = ValueView(monospace=key in MONOSPACE_FIELDS)
            view.setAccessibleName(label)
            view.step_requested.connect(self._step_values)
            self.fields[key] = view
            form.addRow(plain_label(label), view)
        return box

    def clear(self) -> None:
        """Shows no entry."""
        self._raw = ""
        self._values = {}
        self._stack.setCurrentWidget(self._empty)

    def show_entry(self, detail: Any) -> None:
        """Shows an ``EntryDetail``."""
        self._raw = detail.raw or ""
        readable = getattr(detail, "readable", None)
        reason = getattr(detail, "quarantine_reason", None)
        values = self._entry_values(detail if readable is None else _Readable(detail, readable))
        values.update(self._provenance_values(detail))
        if readable is not None and readable.created_utc is None and readable.created_text:
            written = f"{readable.created_text} (as written; not a time that can be read)"
            values["time_utc"] = values["time_local"] = written
        unverified = READABLE_KEYS if reason is not None else frozenset()
        self._values = {
            key: f"{value}{UNVERIFIED}" if key in unverified and value else value
            for key, value in values.items()
        }
        for key, view in self.fields.items():
            text = values.get(key, "")
            view.set_value(visible(text, VALUE_LIMIT), unverified=key in unverified and bool(text))
            view.setToolTip(UNVERIFIED_TIP if key in unverified and text else "")
        self._show_quarantine(reason)
        self._show_flags(detail)
        self._show_changes(self._raw)
        self._show_history(getattr(detail, "seq", None))
        self.raw_view.setPlainText(raw_shown(self._raw))
        self._stack.setCurrentIndex(1)

    def set_history_reader(self, read: Callable[[int], list[Any]] | None) -> None:
        """How to read an entry's review history (``MarkEvent``s by seq); None hides it."""
        self._history_of = read

    def _show_history(self, seq: int | None) -> None:
        if self._history_of is None or seq is None:
            self.history_box.hide()
            return
        events = self._history_of(seq)
        text = "\n\n".join(history_text(event) for event in events)
        self.history_view.set_value(text or "Not reviewed yet.")
        self.history_box.show()

    def _show_quarantine(self, reason: str | None) -> None:
        if reason is None:
            self.quarantine_note.hide()
            return
        self.quarantine_note.set_value(
            visible(f"Quarantined: {reason}. {UNVERIFIED_TIP}", VALUE_LIMIT)
        )
        self.quarantine_note.show()

    def _entry_values(self, detail: Any) -> dict[str, str]:
        action = detail.action or ""
        rows = self._reference.describe(action) if action else ()
        if rows:
            description = " / ".join(
                f"{row.description} (logged since {row.logged_since.isoformat()})" for row in rows
            )
        elif action:
            description = "Not in the action reference (deprecated or unknown action)."
        else:
            description = ""
        actor_type = detail.actor_type or "unknown"
        return {
            "time_utc": format_time_long(detail.created_utc, utc=True),
            "time_local": format_time_long(detail.created_utc, utc=False),
            "action": action,
            "description": description,
            "actor_type": ACTOR_TYPE_NAMES.get(actor_type, actor_type),
            "actor_label": detail.actor_label or "",
            "actor_id": detail.actor_id or "",
            "project": detail.project or "(organization level)",
            "entity_type": detail.entity_type or "",
            "entity_name": detail.entity_name or "",
            "entity_id": detail.entity_id or "",
            "ip": detail.ip or "",
            "user_agent": detail.user_agent or "",
            "entry_key": detail.entry_key or "(none)",
            "seq": str(detail.seq),
        }

    def _provenance_values(self, detail: Any) -> dict[str, str]:
        source = getattr(detail, "source", None)
        values = {
            "raw_sha256": getattr(detail, "raw_sha256", "") or "",
            "content_sha256": getattr(detail, "content_sha256", "") or "",
            "chain_sha256": getattr(detail, "chain_sha256", "") or "",
        }
        if source is not None:
            kind = getattr(source, "kind", "") or ""
            location = getattr(source, "location", "") or ""
            source_id = getattr(source, "id", None)
            number = f" #{source_id}" if source_id is not None else ""
            values["source"] = f"{kind}{number}: {location}" if kind else location
            started = getattr(source, "started_utc", None)
            values["imported"] = format_time_long(started, utc=False) if started else ""
            values["source_sha256"] = getattr(source, "sha256", "") or ""
        return values

    def _show_flags(self, detail: Any) -> None:
        while self._flags_layout.count():
            item = self._flags_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        flags = entry_flags(detail)
        self.flag_labels = [visible(flag.sentence, VALUE_LIMIT) for flag in flags] or ["No flags."]
        for text in self.flag_labels:
            view = ValueView()
            view.setAccessibleName("Flag")
            view.step_requested.connect(self._step_values)
            view.set_value(text)
            self._flags_layout.addWidget(view)

    def value_views(self) -> list[ValueView]:
        """The values shown, top to bottom, as the arrows move through them."""
        return [view for view in self._body.findChildren(ValueView) if not view.isHidden()]

    def _step_values(self, step: int) -> None:
        """Moves the keyboard focus from the value that asked to the one before or after it."""
        source = self.sender()
        views = self.value_views()
        if source not in views:
            return
        index = views.index(source) + step
        if not 0 <= index < len(views):
            return
        target = views[index]
        cursor = target.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Start if step > 0 else QTextCursor.MoveOperation.End
        )
        target.setTextCursor(cursor)
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        self.ensureWidgetVisible(target)

    def _show_changes(self, raw: str) -> None:
        value = parsed_entry(raw)
        changes = value.get("changes") if isinstance(value, dict) else None
        rows = change_rows(changes, CHANGES_LIMIT + 1)
        if len(rows) > CHANGES_LIMIT:
            # Thousands of rows would stall the window; the raw JSON holds every change.
            rows[CHANGES_LIMIT:] = [("…", "", MORE_CHANGES)]
        self.changes.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(visible(text, CELL_LIMIT))
                if len(text) > 30:
                    item.setToolTip(safe_tooltip(text))
                self.changes.setItem(row, column, item)
        self.changes.setVisible(bool(rows))
        self._no_changes.setVisible(not rows)
        self._fit_changes()

    def _fit_changes_soon(self) -> None:
        self._changes_timer.start()

    def _fit_changes(self) -> None:
        self.changes.resizeRowsToContents()
        height = self.changes.horizontalHeader().height() + 4
        rows = range(min(self.changes.rowCount(), CHANGES_SHOWN))
        height += sum(self.changes.rowHeight(row) for row in rows)
        if self.changes.height() != height:
            self.changes.setFixedHeight(height)

    def copy_raw(self) -> None:
        """Copies the entry's exact original text."""
        QGuiApplication.clipboard().setText(self._raw)

    def copy_pretty(self) -> None:
        """Copies the entry's text, indented."""
        QGuiApplication.clipboard().setText(pretty_json(self._raw))

    def copy_summary(self) -> None:
        """Copies the fields as ``label: value`` lines (values unescaped, as stored)."""
        labels = dict(ENTRY_FIELDS + PROVENANCE_FIELDS)
        lines = [f"{labels[key]}: {value}" for key, value in self._values.items() if value]
        QGuiApplication.clipboard().setText("\n".join(lines))

    def value(self, key: str) -> str:
        """The shown (escaped) text of one field, for tests and accessibility."""
        return self.fields[key].toPlainText()


UNVERIFIED_TIP = "Values in grey italics were read from the entry's raw text and are not verified."


class _Readable:
    """A quarantined entry seen through what its raw text still says."""

    def __init__(self, detail: Any, readable: Any) -> None:
        self._detail = detail
        self._readable = readable

    def __getattr__(self, name: str) -> Any:
        if name == "action":
            return self._detail.action or self._readable.action
        if hasattr(self._readable, name):
            return getattr(self._readable, name)
        return getattr(self._detail, name)
