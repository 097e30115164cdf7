"""Saved views, the query history and the entries around one, in the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest

from auditviewer.core.store.connection import Store
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.review import review_controller
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table.entry_table_model import ACTION, IP, TIME
from tests.ui.conftest import table_seqs, wait_for_aggregates


def wait_idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.jobs, timeout=10_000)


def open_window(qtbot: Any, path: Path, settings: UiSettings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(path)
    assert window.browser is not None
    wait_for_aggregates(qtbot, window.browser)
    return window


def type_query(qtbot: Any, window: MainWindow, text: str) -> None:
    search = window.browser.filter_bar.search
    search.setFocus()
    search.setText(text)
    QTest.keyClick(search, Qt.Key.Key_Return)


def test_a_saved_view_is_applied_and_survives_reopening(
    qtbot: Any, filled_store: Store, tmp_path: Path
) -> None:
    ini = str(tmp_path / "views.ini")
    first = open_window(
        qtbot, filled_store.path, UiSettings(QSettings(ini, QSettings.Format.IniFormat))
    )
    type_query(qtbot, first, "actor:jane@example.com")
    first.browser.table.sortByColumn(ACTION, Qt.SortOrder.AscendingOrder)
    first.browser.table.set_column_visible(IP, False)
    first.utc_action.setChecked(True)
    first.views.save("Jane's work")
    wait_idle(qtbot, first)
    assert [view.name for view in first.views.views()] == ["Jane's work"]
    first.close()

    second = open_window(
        qtbot,
        filled_store.path,
        UiSettings(QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat)),
    )
    assert second.browser.model.rowCount() == 10
    assert not second.utc_action.isChecked()
    (view,) = second.views.views()
    second.views.menu.aboutToShow.emit()
    titles = [action.text() for action in second.views.menu.actions()]
    assert "Jane's work" in titles
    second.views.apply(view)
    browser = second.browser
    qtbot.waitUntil(lambda: browser.model.rowCount() == 5)
    assert browser.model.sort_order.column == "action"
    assert not browser.model.sort_order.descending
    assert browser.table.horizontalHeader().isSectionHidden(IP)
    assert second.utc_action.isChecked()
    second.views.delete("Jane's work")
    wait_idle(qtbot, second)
    assert second.views.views() == []


def test_the_query_history_keeps_the_last_queries_run(
    qtbot: Any, filled_store: Store, tmp_path: Path
) -> None:
    ini = str(tmp_path / "history.ini")
    first = open_window(
        qtbot, filled_store.path, UiSettings(QSettings(ini, QSettings.Format.IniFormat))
    )
    for query in ("action:release.*", "actor:jane@example.com", "action:release.*"):
        type_query(qtbot, first, query)
    bar = first.browser.filter_bar
    assert bar.history == ["action:release.*", "actor:jane@example.com"]
    for number in range(60):
        bar.remember(f"ip:203.0.113.{number}")
    assert len(bar.history) == 50
    assert bar.history[0] == "ip:203.0.113.59"
    first.close()

    second = open_window(
        qtbot, filled_store.path, UiSettings(QSettings(ini, QSettings.Format.IniFormat))
    )
    bar = second.browser.filter_bar
    assert len(bar.history) == 50
    assert bar.history[0] == "ip:203.0.113.59"
    # The search box offers them as it is typed in.
    assert bar.search.completer() is bar.completer
    bar.completer.setCompletionPrefix("113.5")
    assert bar.completer.completionCount() == 10


def test_surrounding_entries_and_back_to_the_filtered_list(
    qtbot: Any, window: MainWindow, monkeypatch: Any
) -> None:
    monkeypatch.setattr(review_controller, "AROUND", 2)
    browser = window.browser
    type_query(qtbot, window, "actor:jane@example.com")
    qtbot.waitUntil(lambda: browser.model.rowCount() == 5)
    browser.table.sortByColumn(ACTION, Qt.SortOrder.AscendingOrder)
    filtered = table_seqs(browser)
    anchor = filtered[2]
    assert window.review.select_entry(anchor)
    scroll = browser.table.verticalScrollBar().value()
    menu = browser.table.build_cell_menu(2, TIME)
    assert window.review.context_action in menu.actions()
    window.review.context_action.trigger()

    assert window.review.context_banner.isVisible()
    assert f"entry seq {anchor:,}" in window.review.context_banner.text
    assert "Showing 2 entries before and 2 entries after" in window.review.context_banner.text
    rows = table_seqs(browser)
    assert len(rows) == 5
    assert rows[2] == anchor  # oldest first, the anchor in the middle
    times = [browser.model.row_at(r).created_utc for r in range(5)]
    assert times == sorted(times)
    assert browser.selected_seqs() == [anchor]
    font = browser.model.data(browser.model.index(2, ACTION), Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont)
    assert font.bold()
    assert browser.model.data(browser.model.index(1, ACTION), Qt.ItemDataRole.FontRole) is None

    window.review.back_action.trigger()
    assert not window.review.context_banner.isVisible()
    assert table_seqs(browser) == filtered
    assert browser.model.sort_order.column == "action"
    assert browser.selected_seqs() == [anchor]
    assert browser.table.verticalScrollBar().value() == scroll
    assert browser.filter_bar.search.text() == "actor:jane@example.com"

    # At the start of the log there is nothing before the entry, and the banner says so.
    window.clear_filter()
    qtbot.waitUntil(lambda: browser.model.rowCount() > 5)
    browser.table.sortByColumn(TIME, Qt.SortOrder.AscendingOrder)
    oldest = table_seqs(browser)[0]
    assert window.review.select_entry(oldest)
    window.review.context_action.trigger()
    assert f"Showing 0 entries before and 2 entries after entry seq {oldest:,}" in (
        window.review.context_banner.text
    )


def test_another_filter_over_the_surrounding_entries_closes_their_banner(
    qtbot: Any, window: MainWindow
) -> None:
    browser = window.browser
    assert window.review.select_entry(table_seqs(browser)[3])
    window.review.show_surrounding()
    assert window.review.context_banner.isVisible()
    type_query(qtbot, window, "actor:jane@example.com")
    assert not window.review.context_banner.isVisible()
    assert not window.review.back_action.isEnabled()
    assert browser.model.highlight_seq is None
