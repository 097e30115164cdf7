"""View > Activity: the store's custody log as a table, newest first.

Every import, sync run, export, evidence pack, verification, review sign-off and schema
migration, with its time, the OS user, counts, file hashes and the entry chain head after it.
The log is read in the background and read again after each operation of the window.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
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

from auditviewer.ui.dialogs.signing_key_dialog import copy_text
from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible
from auditviewer.ui.table.entry_format import format_time
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import custody_job
from auditviewer.ui.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.custody_log import CustodyRecord

COLUMNS = ("Time", "OS user", "What", "Counts", "File hashes", "Entry chain head", "Subject")
SUBJECT = COLUMNS.index("Subject")
HASHES = COLUMNS.index("File hashes")
HEAD = COLUMNS.index("Entry chain head")
INTRO = (
    "Everything done to this store, newest first. The log is append-only and hash-chained: "
    "Verify Store checks that no record was changed or removed."
)
# The detail fields that name what an operation worked on, in the order looked for.
SUBJECT_KEYS = ("file", "folder", "location", "zip")
# Integer detail fields that are identifiers, not counts.
NOT_COUNTS = frozenset({"source_id", "seq", "from_version", "to_version", "size_bytes", "bytes"})
# Counts shown even when zero; the others only when something was counted.
ALWAYS_COUNTED = frozenset({"entries", "parsed", "imported", "entries_checked"})
# The counts shown first, in this order; the others follow by name.
COUNT_ORDER = (
    "entries",
    "parsed",
    "imported",
    "duplicates",
    "conflicts",
    "quarantined",
    "pages",
    "entries_checked",
)
FLAGS = ("ok", "complete", "redacted", "full")
HASH_LENGTH = 64
# Characters kept on each side of an elided hash.
HASH_SIDE = 8


def elided_hash(value: str) -> str:
    """A SHA-256 in hex with its middle elided: ``1a2b3c4d…9e8f7a6b``."""
    if len(value) <= 2 * HASH_SIDE + 1:
        return value
    return f"{value[:HASH_SIDE]}…{value[-HASH_SIDE:]}"


def _is_hash(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == HASH_LENGTH
        and all(c in "0123456789abcdef" for c in value.lower())
    )


def file_hashes(detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (name, SHA-256) pairs a record's detail holds: its file's, or each pack file's."""
    found: list[tuple[str, str]] = []
    for name, value in detail.items():
        if _is_hash(value) and name != "chain_head" and name != "expected_head":
            found.append((name, str(value)))
        elif name == "files" and isinstance(value, Mapping):
            found.extend((str(n), str(h)) for n, h in value.items() if _is_hash(h))
    return found


def counts_text(detail: Mapping[str, Any]) -> str:
    """The record's counts, the usual ones first: ``parsed 10, imported 8, duplicates 2``."""
    names = [name for name in COUNT_ORDER if name in detail]
    names += sorted(name for name in detail if name not in COUNT_ORDER)
    parts = []
    for name in names:
        value = detail[name]
        if isinstance(value, bool):
            if name in FLAGS:
                parts.append(f"{name} {'yes' if value else 'no'}")
        elif isinstance(value, int) and name not in NOT_COUNTS:
            if value == 0 and name not in ALWAYS_COUNTED:
                continue
            parts.append(f"{name.replace('_', ' ')} {value:,}")
    return ", ".join(parts)


def subject_text(detail: Mapping[str, Any]) -> str:
    """What the operation worked on: a file, folder or sync location."""
    for name in SUBJECT_KEYS:
        value = detail.get(name)
        if isinstance(value, str) and value:
            return value
    query = detail.get("query")
    if isinstance(query, str) and query:
        return f"query: {query}"
    versions = detail.get("from_version"), detail.get("to_version")
    if all(isinstance(version, int) for version in versions):
        return f"schema version {versions[0]} to {versions[1]}"
    return ""


def head_text(record: CustodyRecord) -> tuple[str, str]:
    """The entry chain head after the operation, shown and in full."""
    if record.entries_head is None:
        return "empty", "The store held no entries."
    shown = f"seq {record.entries_seq:,} · {elided_hash(record.entries_head)}"
    return shown, f"seq {record.entries_seq:,}\n{record.entries_head}"


class ActivityView(QDialog):
    """The custody log as a table; Copy puts a cell's full value on the clipboard."""

    def __init__(
        self, store: Store, tasks: TaskRunner, *, utc: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Activity")
        self.resize(1100, 560)
        self._store = store
        self._tasks = tasks
        self.utc = utc
        self.worker: Job | None = None
        self.records: list[CustodyRecord] = []
        self._again = False

        layout = QVBoxLayout(self)
        intro = plain_label(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Custody log")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 80, 130, 300, 150, 200)):
            self.table.setColumnWidth(column, width)
        copy = QAction("&Copy", self.table)
        copy.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_current)
        self.table.addAction(copy)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout.addWidget(self.table, 1)
        self.status = plain_label("")
        layout.addWidget(self.status)

        buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton("&Copy Cell", self)
        self.refresh_button = QPushButton("&Refresh", self)
        close = QPushButton("Close", self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.AcceptRole)
        self.copy_button.clicked.connect(self.copy_current)
        self.refresh_button.clicked.connect(self.refresh)
        close.clicked.connect(self.close)
        layout.addWidget(buttons)

    @property
    def reading(self) -> bool:
        """Whether the log is being read."""
        return self.worker is not None

    def refresh(self) -> None:
        """Reads the log again in the background (once more after a read already running)."""
        if self.worker is not None:
            self._again = True
            return
        worker = custody_job(self._store)
        worker.done.connect(self._on_read)
        self.worker = worker
        self.status.setText("Reading the custody log…")
        self._tasks.start(worker)

    def set_utc(self, utc: bool) -> None:
        """Shows times in UTC or local time, as the window does."""
        self.utc = utc
        self._fill()

    def copy_current(self) -> None:
        """Copies the full value of the current cell (a whole hash, path or head)."""
        item = self.table.currentItem()
        if item is not None:
            copy_text(str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_read(self, worker: Job) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        if worker.error is not None:
            self.status.setText(visible(f"The custody log cannot be read: {worker.error}", 600))
        elif worker.result is not None:
            self.records = list(worker.result)
            self._fill()
            count = len(self.records)
            self.status.setText(f"{count:,} record{'s' if count != 1 else ''}, newest first.")
        if self._again:
            self._again = False
            self.refresh()

    def _fill(self) -> None:
        self.table.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            for column, (shown, full) in enumerate(self._cells(record)):
                item = QTableWidgetItem(visible(shown, 300))
                item.setData(Qt.ItemDataRole.UserRole, full)
                if full:
                    item.setToolTip(safe_tooltip(full))
                self.table.setItem(row, column, item)

    def _cells(self, record: CustodyRecord) -> list[tuple[str, str]]:
        detail = record.detail
        hashes = file_hashes(detail)
        hashes_shown = ", ".join(elided_hash(value) for _, value in hashes)
        hashes_full = "\n".join(f"{name}: {value}" for name, value in hashes)
        time = format_time(record.recorded_utc, utc=self.utc)
        subject = subject_text(detail)
        counts = counts_text(detail)
        everything = json.dumps(dict(detail), indent=1, ensure_ascii=False, sort_keys=True)
        return [
            (time, time),
            (record.os_user, record.os_user),
            (record.what, everything),
            (counts, counts),
            (hashes_shown, hashes_full),
            head_text(record),
            (subject, subject),
        ]
