"""Search box and controls are two faces of one filter: same rows, each follows the other."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import format_query, parse_query
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.filter.filter_controls import day_start_micros
from tests.ui.conftest import table_seqs


def type_query(qtbot: Any, browser: EntryBrowser, text: str) -> None:
    search = browser.filter_bar.search
    search.clear()
    qtbot.keyClicks(search, text)
    qtbot.keyClick(search, Qt.Key.Key_Return)


def pick(combo: Any, value: str) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def use_controls(browser: EntryBrowser, kind: str) -> None:
    controls = browser.controls
    if kind == "actor":
        pick(controls.actor_picker, "jane@example.com")
    elif kind == "project":
        pick(controls.project_picker, "gateway")
    elif kind == "type":
        pick(controls.type_picker, "token")
    elif kind == "dates":
        controls.from_picker.setDate(
            controls.from_picker.date().fromString("2024-09-03", "yyyy-MM-dd")
        )
        controls.before_picker.setDate(
            controls.before_picker.date().fromString("2024-09-13", "yyyy-MM-dd")
        )
    elif kind == "actions":
        for item in controls.action_picker.action_items():
            if str(item.text(0)).startswith("cohort."):
                item.setCheckState(0, Qt.CheckState.Checked)


QUERIES = {
    "actor": "actor:jane@example.com",
    "project": "project:gateway",
    "type": "actor-type:token",
    "dates": "after:2024-09-03 before:2024-09-13",
    "actions": "action:cohort.*",
}


@pytest.mark.parametrize("kind", sorted(QUERIES))
@pytest.mark.parametrize("sort_column", [0, 2])
def test_search_box_and_controls_show_the_same_rows(
    qtbot: Any, browser: EntryBrowser, kind: str, sort_column: int
) -> None:
    browser.table.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    type_query(qtbot, browser, QUERIES[kind])
    by_text = table_seqs(browser)
    by_text_filter = browser.current_filter
    assert 0 < len(by_text) < 10

    browser.clear_filter()
    assert len(table_seqs(browser)) == 10
    use_controls(browser, kind)
    qtbot.waitUntil(lambda: browser.current_filter == by_text_filter, timeout=3000)
    assert table_seqs(browser) == by_text
    # ... and the search box now shows the filter the controls made.
    assert parse_query(browser.filter_bar.search.text()) == by_text_filter


def test_typing_a_query_updates_the_controls(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(
        qtbot, browser, "actor:omar@example.com project:gateway actor-type:user after:2024-09-02"
    )
    controls = browser.controls
    assert controls.actor_picker.currentData() == "omar@example.com"
    assert controls.project_picker.currentData() == "gateway"
    assert controls.type_picker.currentData() == "user"
    assert controls.from_picker.date().toString("yyyy-MM-dd") == "2024-09-02"


def test_typing_applies_after_a_pause_without_enter(qtbot: Any, browser: EntryBrowser) -> None:
    qtbot.keyClicks(browser.filter_bar.search, "project:gateway")
    qtbot.waitUntil(lambda: browser.current_filter.projects == ("gateway",), timeout=3000)
    assert browser.model.rowCount() == 4


def test_malformed_query_shows_a_message_in_place(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, "project:gateway")
    type_query(qtbot, browser, 'action:"unterminated')
    bar = browser.filter_bar
    assert bar.message.isVisible()
    assert "unterminated quote" in bar.message.text()
    assert "character 8" in bar.message.text()
    # The last good filter stays, and nothing pops up.
    assert browser.current_filter == Filter(projects=("gateway",))
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    type_query(qtbot, browser, "project:gateway")
    assert not bar.message.isVisible()


def test_escape_clears_the_search_and_the_filter(qtbot: Any, browser: EntryBrowser) -> None:
    type_query(qtbot, browser, "project:gateway")
    assert browser.model.rowCount() == 4
    qtbot.keyClick(browser.filter_bar.search, Qt.Key.Key_Escape)
    assert browser.filter_bar.search.text() == ""
    assert browser.current_filter.is_empty
    assert browser.model.rowCount() == 10


def test_date_controls_write_utc_day_bounds(browser: EntryBrowser) -> None:
    from datetime import date

    use_controls(browser, "dates")
    flt = browser.current_filter
    assert flt.after == day_start_micros(date(2024, 9, 3))
    assert flt.before == day_start_micros(date(2024, 9, 13))
    assert format_query(flt) == browser.filter_bar.search.text()


def test_action_picker_lists_unknown_actions_seen_in_the_store(browser: EntryBrowser) -> None:
    names = [item.text(0) for item in browser.controls.action_picker.action_items()]
    assert "legacy.removed_action" in names
    assert "release.create" in names
    assert names.count("release.create") == 1


def test_actor_picker_shows_counts(browser: EntryBrowser) -> None:
    texts = [
        browser.controls.actor_picker.itemText(i)
        for i in range(browser.controls.actor_picker.count())
    ]
    assert "jane@example.com  (5)" in texts
