"""One date convention everywhere: after: includes its day, before: does not, in every face."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate

from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.filter.filter_controls import day_start_micros
from auditviewer.ui.filter.timeline_widget import DAY, HOUR
from tests.ui.conftest import table_seqs, wait_for_aggregates
from tests.ui.filter.test_facets_and_timeline import drag


def shown(picker: Any) -> str:
    return str(picker.text())


def test_a_timeline_drag_shows_the_same_dates_in_the_query_and_the_fields(
    qtbot: Any, browser: EntryBrowser
) -> None:
    first = day_start_micros(date(2024, 9, 3))
    drag(qtbot, browser.timeline, first, first + 7 * DAY)
    query = browser.filter_bar.search.text()
    assert "after:2024-09-03" in query
    assert "before:2024-09-10" in query
    assert shown(browser.controls.from_picker) == "2024-09-03"
    assert shown(browser.controls.before_picker) == "2024-09-10"
    # 3 Sept up to, not including, 10 Sept: entries 3, 4, 5 and 6.
    assert len(table_seqs(browser)) == 4


def test_an_hourly_drag_shows_the_hours_in_the_fields_as_in_the_query(
    qtbot: Any, browser: EntryBrowser
) -> None:
    day = day_start_micros(date(2024, 9, 2))
    drag(qtbot, browser.timeline, day, day + DAY)
    wait_for_aggregates(qtbot, browser)
    assert browser.timeline.bucket == "hour"
    drag(qtbot, browser.timeline, day + 9 * HOUR, day + 10 * HOUR)
    query = browser.filter_bar.search.text()
    assert "after:2024-09-02T09:00:00Z" in query
    assert "before:2024-09-02T10:00:00Z" in query
    assert shown(browser.controls.from_picker) == "2024-09-02 09:00"
    assert shown(browser.controls.before_picker) == "2024-09-02 10:00"
    assert len(table_seqs(browser)) == 1


def test_the_before_field_writes_an_excluded_day_into_the_query(browser: EntryBrowser) -> None:
    browser.controls.before_picker.setDate(QDate(2024, 9, 4))
    assert browser.current_filter.before == day_start_micros(date(2024, 9, 4))
    assert "before:2024-09-04" in browser.filter_bar.search.text()
    assert shown(browser.controls.before_picker) == "2024-09-04"
    # Entries of 2 and 3 September; the one of 4 September is not included.
    assert len(table_seqs(browser)) == 3


def test_a_typed_range_shows_unchanged_in_the_fields(qtbot: Any, browser: EntryBrowser) -> None:
    search = browser.filter_bar.search
    search.setText("after:2024-09-05 before:2024-09-12T10:30:00Z")
    assert browser.filter_bar.apply()
    assert shown(browser.controls.from_picker) == "2024-09-05"
    assert shown(browser.controls.before_picker) == "2024-09-12 10:30"
    assert browser.filter_bar.search.text() == "after:2024-09-05 before:2024-09-12T10:30:00Z"
    assert len(table_seqs(browser)) == 3
