"""One rule for selection and scrolling: the selected entry stays if it still matches, else top.

The details panel shows the current entry only while it is selected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from auditviewer.core.querying.filter import Filter
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.dialogs import welcome_view
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table.entry_table_model import ACTION, TIME
from tests.conftest import make_entry, write_json

ENTRIES = 200


def entry(number: int) -> dict[str, Any]:
    """Entries on many days, a third of them by a token, every fifth in project gateway."""
    return make_entry(
        number,
        created_date=f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}T10:{number % 60:02d}:00Z",
        project={"slug": "gateway" if number % 5 == 0 else "smart-sensor"},
    )


@pytest.fixture
def many(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference, ui_settings: UiSettings
) -> Iterator[EntryBrowser]:
    """A browser over more entries than one screen shows."""
    import_file(store, write_json(tmp_path / "many.json", [entry(n) for n in range(1, ENTRIES)]))
    widget = EntryBrowser(store, reference, ui_settings)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def select(browser: EntryBrowser, row: int) -> int:
    """Selects a row as a click does; returns its entry's seq."""
    table = browser.table
    table.selectionModel().setCurrentIndex(
        browser.model.index(row, ACTION),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    browser.show_details_now()
    found = browser.model.row_at(row)
    assert found is not None
    return found.seq


def selected_seqs(browser: EntryBrowser) -> list[int]:
    return browser.selected_seqs()


def row_on_screen(browser: EntryBrowser, seq: int) -> int | None:
    """The row of ``seq`` when it is inside the visible part of the table."""
    table = browser.table
    for row in range(browser.model.rowCount()):
        found = browser.model.row_at(row)
        if found is not None and found.seq == seq:
            top = table.rowViewportPosition(row)
            inside = top >= 0 and top + table.rowHeight(row) <= table.viewport().height()
            return row if inside else None
    return None


def current_seq(browser: EntryBrowser) -> int | None:
    index = browser.table.currentIndex()
    found = browser.model.row_at(index.row()) if index.isValid() else None
    return found.seq if found is not None else None


def test_the_selected_entry_stays_selected_and_in_view_when_it_still_matches(
    many: EntryBrowser,
) -> None:
    many.table.scrollToBottom()
    seq = select(many, 150)
    project = "gateway" if (many.model.row_at(150).project == "gateway") else "smart-sensor"
    many.set_filter(Filter(projects=(project,)))
    assert selected_seqs(many) == [seq]
    assert current_seq(many) == seq
    assert row_on_screen(many, seq) is not None
    many.show_details_now()
    assert many.detail_seq == seq
    many.clear_filter()
    assert selected_seqs(many) == [seq]
    assert row_on_screen(many, seq) is not None


def test_a_selected_entry_the_filter_drops_leaves_nothing_selected_at_the_top(
    many: EntryBrowser,
) -> None:
    many.table.scrollToBottom()
    seq = select(many, 170)
    assert many.detail_seq == seq
    project = many.model.row_at(170).project
    many.set_filter(Filter(not_projects=(project,)))
    assert selected_seqs(many) == []
    assert not many.table.currentIndex().isValid()
    assert many.table.verticalScrollBar().value() == 0
    many.show_details_now()
    assert many.detail_seq is None


def test_clearing_the_filter_without_a_selection_starts_at_the_top(many: EntryBrowser) -> None:
    many.set_filter(Filter(projects=("smart-sensor",)))
    many.table.verticalScrollBar().setValue(60)
    many.clear_filter()
    assert many.table.verticalScrollBar().value() == 0
    assert selected_seqs(many) == []


def test_sorting_keeps_the_selected_entry_in_view(many: EntryBrowser) -> None:
    seq = select(many, 3)
    many.table.sortByColumn(ACTION, Qt.SortOrder.AscendingOrder)
    many.table.sortByColumn(TIME, Qt.SortOrder.AscendingOrder)
    assert selected_seqs(many) == [seq]
    assert row_on_screen(many, seq) is not None


def test_new_entries_keep_the_selection_and_its_place_on_screen(
    many: EntryBrowser, tmp_path: Path
) -> None:
    table = many.table
    table.verticalScrollBar().setValue(40)
    seq = select(many, 45)
    top_before = table.rowAt(0)
    offset = 45 - top_before
    newer = [make_entry(1000 + n, created_date=f"2025-06-{1 + n:02d}T08:00:00Z") for n in range(20)]
    import_file(many.store, write_json(tmp_path / "newer.json", newer))
    many.refresh()
    assert selected_seqs(many) == [seq]
    row = row_on_screen(many, seq)
    # Newest first: the entry moved down by the 20 new ones and the view moved with it.
    assert row == 65
    assert row - table.rowAt(0) == offset
    many.show_details_now()
    assert many.detail_seq == seq


def test_new_entries_without_a_selection_keep_the_scroll_position(
    many: EntryBrowser, tmp_path: Path
) -> None:
    many.table.verticalScrollBar().setValue(30)
    import_file(
        many.store, write_json(tmp_path / "one.json", [make_entry(5000, created_date="2025-07-01")])
    )
    many.refresh()
    assert many.table.verticalScrollBar().value() == 30
    assert selected_seqs(many) == []


def test_details_show_no_entry_that_nobody_selected(qtbot: Any, many: EntryBrowser) -> None:
    table = many.table
    table.setFocus()
    # Focus gives the table a current row, but selects nothing.
    table.selectionModel().setCurrentIndex(
        many.model.index(0, ACTION), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    many.show_details_now()
    assert table.currentIndex().isValid()
    assert many.detail_seq is None
    seq = select(many, 0)
    assert many.detail_seq == seq
    table.clearSelection()
    many.show_details_now()
    assert many.detail_seq is None


def test_load_sample_data_shows_no_entry_in_the_details(
    qtbot: Any,
    store: Store,
    ui_settings: UiSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = write_json(tmp_path / "sample-export.json", [make_entry(n) for n in range(1, 6)])
    monkeypatch.setattr(welcome_view, "sample_export_path", lambda: sample)
    window = MainWindow(ui_settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    assert window.welcome is not None
    window.welcome.sample_button.click()
    qtbot.waitUntil(lambda: window.viewed_files == (sample,), timeout=10_000)
    browser = window.browser
    assert browser is not None
    browser.table.setFocus()
    qtbot.wait(100)
    browser.show_details_now()
    assert browser.selected_seqs() == []
    assert browser.detail_seq is None
    window.close()
