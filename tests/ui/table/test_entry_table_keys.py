"""The entry table answers the keys of any table; its context menu copies and exports entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.dialogs.export_dialog import ExportDialog
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table.entry_table_model import ACTION, TIME
from tests.conftest import make_entry, write_json

ENTRIES = 300  # more than one page of the table model


@pytest.fixture
def long_browser(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference, ui_settings: UiSettings
) -> Iterator[EntryBrowser]:
    """A browser over more entries than one screen shows, in a narrow window."""
    import_file(store, write_json(tmp_path / "many.json", [make_entry(n) for n in range(ENTRIES)]))
    widget = EntryBrowser(store, reference, ui_settings)
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def press(qtbot: Any, browser: EntryBrowser, key: Qt.Key, modifier: Any = None) -> None:
    qtbot.keyClick(browser.table, key, modifier or Qt.KeyboardModifier.NoModifier)
    if modifier is not None:
        # Lets go of the modifier, as a user does, so that later clicks are plain clicks.
        qtbot.keyRelease(browser.table, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)


def current_row(browser: EntryBrowser) -> int:
    return browser.table.currentIndex().row()


def selected_rows(browser: EntryBrowser) -> list[int]:
    return sorted(index.row() for index in browser.table.selectionModel().selectedRows())


def start_at(browser: EntryBrowser, row: int, column: int = ACTION) -> None:
    table = browser.table
    table.setFocus()
    table.setCurrentIndex(browser.model.index(row, column))
    table.selectRow(row)


def test_home_and_end_go_to_the_first_and_last_entry(
    qtbot: Any, long_browser: EntryBrowser
) -> None:
    start_at(long_browser, 40)
    press(qtbot, long_browser, Qt.Key.Key_End)
    assert current_row(long_browser) == ENTRIES - 1
    assert long_browser.table.currentIndex().column() == ACTION
    assert selected_rows(long_browser) == [ENTRIES - 1]
    assert long_browser.table.verticalScrollBar().value() > 0
    press(qtbot, long_browser, Qt.Key.Key_Home)
    assert current_row(long_browser) == 0
    assert selected_rows(long_browser) == [0]
    assert long_browser.table.verticalScrollBar().value() == 0


def test_ctrl_home_and_end_go_to_the_entries_and_bring_the_time_column_into_view(
    qtbot: Any, long_browser: EntryBrowser
) -> None:
    table = long_browser.table
    start_at(long_browser, 40, table.horizontalHeader().logicalIndex(6))
    table.horizontalScrollBar().setValue(table.horizontalScrollBar().maximum())
    assert table.horizontalScrollBar().value() > 0
    press(qtbot, long_browser, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert (current_row(long_browser), table.currentIndex().column()) == (ENTRIES - 1, TIME)
    assert table.horizontalScrollBar().value() == 0
    table.horizontalScrollBar().setValue(table.horizontalScrollBar().maximum())
    press(qtbot, long_browser, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert (current_row(long_browser), table.currentIndex().column()) == (0, TIME)
    assert table.horizontalScrollBar().value() == 0


def test_arrows_move_one_entry(qtbot: Any, long_browser: EntryBrowser) -> None:
    start_at(long_browser, 5)
    press(qtbot, long_browser, Qt.Key.Key_Down)
    assert (current_row(long_browser), selected_rows(long_browser)) == (6, [6])
    press(qtbot, long_browser, Qt.Key.Key_Up)
    press(qtbot, long_browser, Qt.Key.Key_Up)
    assert (current_row(long_browser), selected_rows(long_browser)) == (4, [4])


def test_page_down_and_up_move_by_a_screen(qtbot: Any, long_browser: EntryBrowser) -> None:
    table = long_browser.table
    start_at(long_browser, 0)
    shown = table.viewport().height() // table.rowHeight(0)
    assert 3 < shown < ENTRIES // 2
    press(qtbot, long_browser, Qt.Key.Key_PageDown)
    moved = current_row(long_browser)
    assert shown - 2 <= moved <= shown + 1
    assert selected_rows(long_browser) == [moved]
    press(qtbot, long_browser, Qt.Key.Key_PageUp)
    assert current_row(long_browser) == 0


def test_shift_extends_the_selection_with_arrows_pages_and_end(
    qtbot: Any, long_browser: EntryBrowser
) -> None:
    start_at(long_browser, 10)
    shift = Qt.KeyboardModifier.ShiftModifier
    press(qtbot, long_browser, Qt.Key.Key_Down, shift)
    press(qtbot, long_browser, Qt.Key.Key_Down, shift)
    assert selected_rows(long_browser) == [10, 11, 12]
    press(qtbot, long_browser, Qt.Key.Key_End, shift)
    assert selected_rows(long_browser) == list(range(10, ENTRIES))
    press(qtbot, long_browser, Qt.Key.Key_Home, shift)
    assert selected_rows(long_browser) == list(range(11))
    press(qtbot, long_browser, Qt.Key.Key_PageDown, shift)
    assert selected_rows(long_browser)[0] == 10
    assert long_browser.selection_count() > 1


def test_context_menu_offers_copy_copy_as_json_and_export_selected(browser: EntryBrowser) -> None:
    menu = browser.table.build_cell_menu(0, ACTION)
    texts = [action.text().replace("&", "") for action in menu.actions() if action.text()]
    assert texts[:3] == ["Copy Value", "Copy as JSON", "Export Selected…"]


def test_copy_as_json_from_the_menu_copies_the_selected_entries(
    qtbot: Any, window: MainWindow
) -> None:
    browser = window.browser
    assert browser is not None
    browser.table.selectRow(1)
    menu = browser.table.build_cell_menu(1, ACTION)
    copy = next(a for a in menu.actions() if a.text().replace("&", "") == "Copy as JSON")
    QApplication.clipboard().clear()
    copy.trigger()
    copied = json.loads(QApplication.clipboard().text())
    assert [entry["id"] for entry in copied] == [9]
    assert window.status_label.text() == "Copied 1 entry as JSON."


def test_edit_menu_and_context_menu_share_one_copy_as_json(window: MainWindow) -> None:
    browser = window.browser
    assert browser is not None
    menu = browser.table.build_cell_menu(0, ACTION)
    edit_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Edit"
    )
    in_edit = [a for a in edit_menu.actions() if "JSON" in a.text()]
    in_context = [a for a in menu.actions() if "JSON" in a.text()]
    assert in_edit == in_context == [window.copy_action]
    assert window.copy_action.text().replace("&", "") == "Copy as JSON"


def test_export_selected_opens_the_export_dialog_with_the_selection_chosen(
    qtbot: Any, window: MainWindow
) -> None:
    browser = window.browser
    assert browser is not None
    browser.table.selectRow(0)
    browser.table.selectionModel().select(
        browser.model.index(3, 0),
        browser.table.selectionModel().SelectionFlag.Select
        | browser.table.selectionModel().SelectionFlag.Rows,
    )
    seen: list[tuple[bool, str]] = []

    def inspect() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ExportDialog)
        seen.append((dialog.selected_radio.isChecked(), dialog.selected_radio.text()))
        dialog.reject()

    QTimer.singleShot(0, inspect)
    menu = browser.table.build_cell_menu(0, ACTION)
    next(a for a in menu.actions() if a.text() == "Export Selected…").trigger()
    assert seen == [(True, "The selected entries (2)")]


def _menu_titled(window: MainWindow, *path: str) -> Any:
    actions = window.menuBar().actions()
    menu = None
    for title in path:
        (action,) = [a for a in actions if a.text().replace("&", "") == title]
        menu = action.menu()
        assert menu is not None, title
        menu.aboutToShow.emit()  # as opening it does: the sort menu is filled then
        actions = menu.actions()
    return menu


def _trigger(menu: Any, title: str) -> None:
    (action,) = [a for a in menu.actions() if a.text().replace("&", "") == title]
    assert action.isEnabled()
    action.trigger()


def test_view_sort_by_sorts_every_column_from_the_keyboard(qtbot: Any, window: MainWindow) -> None:
    """The header sorts by mouse; View > Sort By offers the same to the keyboard."""
    browser = window.browser
    assert browser is not None
    header = browser.table.horizontalHeader()
    menu = _menu_titled(window, "View", "Sort By")
    titles = [a.text() for a in menu.actions() if a.isCheckable()]
    assert titles[:3] == ["Time", "Action", "Actor"]
    assert titles[-2:] == ["&Ascending", "&Descending"]
    checked = [a.text() for a in menu.actions() if a.isChecked()]
    assert checked == ["Time", "&Descending"]

    _trigger(menu, "Action")
    qtbot.waitUntil(lambda: browser.model.sort_order.column == "action")
    assert browser.model.sort_order.descending
    assert header.sortIndicatorSection() == ACTION

    menu = _menu_titled(window, "View", "Sort By")
    _trigger(menu, "Ascending")
    qtbot.waitUntil(lambda: not browser.model.sort_order.descending)
    assert browser.model.sort_order.column == "action"
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder

    # A hidden column is shown when the rows are sorted by it.
    browser.table.set_column_visible(TIME, False)
    menu = _menu_titled(window, "View", "Sort By")
    _trigger(menu, "Time")
    qtbot.waitUntil(lambda: browser.model.sort_order.column == "time")
    assert not header.isSectionHidden(TIME)
    menu = _menu_titled(window, "View", "Sort By")
    assert [a.text() for a in menu.actions() if a.isChecked()] == ["Time", "&Ascending"]
