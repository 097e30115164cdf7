"""The flags column sits next to the time as markers; the time column names its zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QStandardItemModel
from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table import entry_format
from auditviewer.ui.table.entry_table_model import (
    ACTION,
    FLAGS,
    IP,
    REVIEW,
    TIME,
    EntryTableModel,
)
from auditviewer.ui.table.entry_table_view import EntryTableView
from tests.conftest import make_entry, write_json
from tests.ui.conftest import varied_entries, wait_for_aggregates


@pytest.fixture
def flagged_store(store: Store, tmp_path: Path) -> Store:
    """The varied entries plus an unknown action, a conflict and a time without an offset."""
    entries = varied_entries()
    entries.append(make_entry(50, action="legacy.gone", created_date="2024-09-07T10:00:00"))
    entries.append(make_entry(51, created_date="2024-09-08T10:00:00+00:00"))
    import_file(store, write_json(tmp_path / "flagged.json", entries))
    import_file(store, write_json(tmp_path / "again.json", [make_entry(51, ip_address="x")]))
    return store


def _browser(qtbot: Any, store: Store, settings: UiSettings, width: int = 1280) -> EntryBrowser:
    widget = EntryBrowser(store, ActionReference.load(), settings)
    qtbot.addWidget(widget)
    widget.resize(width, 800)
    widget.show()
    qtbot.waitExposed(widget)
    wait_for_aggregates(qtbot, widget)
    return widget


@pytest.mark.parametrize("width", [1280, 1600])
def test_flags_come_right_after_the_time_and_are_in_view(
    qtbot: Any, flagged_store: Store, ui_settings: UiSettings, width: int
) -> None:
    browser = _browser(qtbot, flagged_store, ui_settings, width)
    try:
        table = browser.table
        header = table.horizontalHeader()
        assert header.visualIndex(FLAGS) == header.visualIndex(TIME) + 1
        right = header.sectionViewportPosition(FLAGS) + header.sectionSize(FLAGS)
        assert header.sectionViewportPosition(FLAGS) >= 0
        assert right <= table.viewport().width()
        # Compact: room for the markers, not for their names.
        assert header.sectionSize(FLAGS) <= 80
    finally:
        browser.shutdown()


def test_flags_column_sorts_by_seriousness(
    qtbot: Any, flagged_store: Store, ui_settings: UiSettings
) -> None:
    browser = _browser(qtbot, flagged_store, ui_settings)
    try:
        header = browser.table.horizontalHeader()
        rect = QRect(header.sectionViewportPosition(FLAGS), 0, header.sectionSize(FLAGS), 10)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        model = browser.model
        assert model.sort_order.column == "flags"
        bits = [model.row_at(r).flags for r in range(model.rowCount())]
        assert bits == sorted(bits, reverse=model.sort_order.descending)
        assert len(set(bits)) > 2
    finally:
        browser.shutdown()


def test_flag_markers_are_painted_with_the_sentences_as_tooltip(
    qtbot: Any, flagged_store: Store, reference: ActionReference
) -> None:
    view = EntryTableView()
    qtbot.addWidget(view)
    model = EntryTableModel(flagged_store, reference)
    view.setModel(model)
    try:
        rows = {model.row_at(r).action: r for r in range(model.rowCount())}
        flagged = model.index(rows["legacy.gone"], FLAGS)
        tooltip = model.data(flagged, Qt.ItemDataRole.ToolTipRole)
        assert "Unknown action" in tooltip
        assert "No time zone" in tooltip
        assert model.data(model.index(rows["cohort.create"], FLAGS)) is None

        def painted(index: Any) -> int:
            image = QImage(80, 24, QImage.Format.Format_ARGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            option = QStyleOptionViewItem()
            option.rect = QRect(0, 0, 80, 24)
            option.palette = view.palette()
            view.itemDelegateForColumn(FLAGS).paint(painter, option, index)
            painter.end()
            return sum(
                1 for x in range(80) for y in range(24) if image.pixelColor(x, y).saturation() > 80
            )

        assert painted(flagged) > 40  # coloured markers
        assert painted(model.index(rows["release.delete"], FLAGS)) == 0
    finally:
        model.close()


def test_columns_saved_with_flags_last_keep_the_users_choices(
    qtbot: Any, flagged_store: Store, ui_settings: UiSettings, reference: ActionReference
) -> None:
    # The columns as the first release saved them: seven, the flags last and no review column;
    # the user widened the action column and hid the IP address.
    earlier = QTableView()
    qtbot.addWidget(earlier)
    earlier.setModel(QStandardItemModel(0, REVIEW, earlier))
    earlier.setColumnWidth(ACTION, 333)
    earlier.horizontalHeader().setSectionHidden(IP, True)
    ui_settings.set_state("table_header", earlier.horizontalHeader().saveState())

    browser = _browser(qtbot, flagged_store, ui_settings)
    header = browser.table.horizontalHeader()
    assert header.visualIndex(FLAGS) == header.visualIndex(TIME) + 1
    assert header.visualIndex(REVIEW) == header.visualIndex(FLAGS) + 1
    assert not header.isSectionHidden(REVIEW)
    assert header.sectionSize(ACTION) == 333
    assert header.isSectionHidden(IP)
    # A flags column the user then puts last stays there.
    header.moveSection(header.visualIndex(FLAGS), header.count() - 1)
    browser.save_state()
    browser.shutdown()
    again = _browser(qtbot, flagged_store, ui_settings)
    try:
        assert again.table.horizontalHeader().visualIndex(FLAGS) == header.count() - 1
        again.table.reset_columns()
        assert again.table.horizontalHeader().visualIndex(FLAGS) == 1
    finally:
        again.shutdown()


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is Berlin's for the test."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_time_header_names_the_local_zone_and_its_offset(
    berlin: None, qapp: Any, filled_store: Store, reference: ActionReference
) -> None:
    winter = datetime(2026, 1, 15, 12, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, tzinfo=UTC)
    assert entry_format.local_zone_label(winter) == "Europe/Berlin, UTC+1"
    assert entry_format.local_zone_label(summer) == "Europe/Berlin, UTC+2"
    model = EntryTableModel(filled_store, reference)
    try:
        model.set_utc(False)
        now = entry_format.local_zone_label()
        assert model.headerData(TIME, Qt.Orientation.Horizontal) == f"Time ({now})"
        assert now in {"Europe/Berlin, UTC+1", "Europe/Berlin, UTC+2"}
        model.set_utc(True)
        assert model.headerData(TIME, Qt.Orientation.Horizontal) == "Time (UTC)"
    finally:
        model.close()


def test_zone_offsets_read_as_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    assert entry_format.utc_offset_text(timedelta(hours=5, minutes=30)) == "UTC+5:30"
    assert entry_format.utc_offset_text(timedelta(hours=-3)) == "UTC-3"
    assert entry_format.utc_offset_text(None) == "UTC+0"
    monkeypatch.setenv("TZ", "CET-1CEST")  # a POSIX rule names no zone
    monkeypatch.setattr(entry_format, "LOCALTIME_LINK", Path("/nonexistent/localtime"))
    assert entry_format.local_zone_name() in {None, *_qt_zone()}


def _qt_zone() -> set[str]:
    from PySide6.QtCore import QTimeZone

    return {bytes(QTimeZone.systemTimeZoneId().data()).decode()}


def test_the_core_and_the_table_name_the_same_columns() -> None:
    """Saved views name the columns by the core's keys; the table shows them in that order."""
    from auditviewer.core.vocabulary import TABLE_COLUMNS
    from auditviewer.ui.table.entry_table_model import COLUMNS

    assert tuple(column.key for column in COLUMNS) == TABLE_COLUMNS
