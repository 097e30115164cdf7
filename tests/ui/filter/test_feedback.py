"""Feedback while the filter changes: rows of an invalid edit are marked stale, counts updating."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from auditviewer.core.querying.filter import Filter
from auditviewer.ui.entry_browser import EntryBrowser
from tests.ui.conftest import table_seqs, wait_for_aggregates


def type_query(qtbot: Any, browser: EntryBrowser, text: str) -> None:
    search = browser.filter_bar.search
    search.selectAll()
    qtbot.keyClicks(search, text)
    qtbot.keyClick(search, Qt.Key.Key_Return)


def test_rows_of_an_invalid_edit_are_dimmed_with_the_error_and_its_position(
    qtbot: Any, browser: EntryBrowser
) -> None:
    type_query(qtbot, browser, "project:gateway")
    rows = table_seqs(browser)
    assert not browser.table.stale
    type_query(qtbot, browser, "project:gateway action:(")
    assert browser.table.stale
    assert browser.table.stale_veil.isVisible()
    message = browser.table.stale_message
    assert "last valid query" in message
    assert "'(' cannot be part of an action name" in message
    assert "character 24" in message
    assert "rows of the last valid query" in browser.status_text()
    # The rows themselves are still those of the last valid query.
    assert table_seqs(browser) == rows
    assert browser.current_filter == Filter(projects=("gateway",))


def test_rows_are_current_again_once_the_query_is_valid(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, 'action:"unterminated')
    assert browser.table.stale
    type_query(qtbot, browser, "action:cohort.*")
    assert not browser.table.stale
    assert "last valid query" not in browser.status_text()
    assert browser.table.stale_message == ""
    assert len(table_seqs(browser)) == 3


def test_the_same_valid_text_again_clears_the_stale_mark(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, "project:gateway")
    type_query(qtbot, browser, "project:(")
    assert browser.table.stale
    type_query(qtbot, browser, "project:gateway")
    assert not browser.table.stale


def test_a_filter_set_elsewhere_clears_the_stale_mark(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, "colour:blue")
    assert browser.table.stale
    browser.state.include("actor", "CI bot")
    assert not browser.table.stale
    assert not browser.filter_bar.message.isVisible()


def test_the_stale_mark_lets_clicks_through_to_the_rows(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, "colour:blue")
    table = browser.table
    rect = table.visualRect(browser.model.index(2, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [index.row() for index in table.selectionModel().selectedRows()] == [2]


def test_refreshing_counts_are_marked_updating_after_entries_are_added(
    qtbot: Any, browser: EntryBrowser
) -> None:
    wait_for_aggregates(qtbot, browser)
    browser.refresh()
    assert browser.facets.updating
    assert browser.timeline.updating
    wait_for_aggregates(qtbot, browser)
    assert not browser.facets.updating
    assert not browser.timeline.updating
