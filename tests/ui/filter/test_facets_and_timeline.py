"""Facets count under the filter and filter on click; the timeline filters by dragging."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QPoint, Qt

from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.filter.filter_controls import day_start_micros
from auditviewer.ui.filter.timeline_widget import DAY, TimelineWidget
from tests.ui.conftest import table_seqs, wait_for_aggregates


def facet_item(browser: EntryBrowser, dimension: str, value: str | None) -> Any:
    for item in browser.facets.items(dimension):
        if item.data(0, Qt.ItemDataRole.UserRole + 1) == value:
            return item
    raise AssertionError(f"no facet {dimension}={value}")


def click_facet(
    qtbot: Any, browser: EntryBrowser, dimension: str, value: str | None, modifier: Any = None
) -> None:
    tree = browser.facets.tree
    item = facet_item(browser, dimension, value)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        modifier or Qt.KeyboardModifier.NoModifier,
        rect.center(),
    )


def test_facets_count_every_dimension(browser: EntryBrowser) -> None:
    actors = {
        i.data(0, Qt.ItemDataRole.UserRole + 1): i.text(1) for i in browser.facets.items("actor")
    }
    assert actors == {"jane@example.com": "5", "CI bot": "3", "omar@example.com": "2"}
    projects = {
        i.data(0, Qt.ItemDataRole.UserRole + 1): i.text(1) for i in browser.facets.items("project")
    }
    assert projects == {"gateway": "4", "smart-sensor": "4", None: "2"}
    assert len(browser.facets.items("entity")) == 3
    assert len(browser.facets.items("action")) == 9


def test_clicking_a_facet_filters_by_it(qtbot: Any, browser: EntryBrowser) -> None:
    click_facet(qtbot, browser, "actor", "CI bot")
    assert browser.current_filter.actors == ("CI bot",)
    assert browser.model.rowCount() == 3
    wait_for_aggregates(qtbot, browser)
    # The facets now count under the new filter.
    assert {i.text(1) for i in browser.facets.items("actor")} == {"3"}


def test_modifier_click_excludes_a_facet_value(qtbot: Any, browser: EntryBrowser) -> None:
    click_facet(qtbot, browser, "project", "gateway", Qt.KeyboardModifier.ControlModifier)
    assert browser.current_filter.not_projects == ("gateway",)
    assert browser.model.rowCount() == 6
    assert "-project:gateway" in browser.filter_bar.search.text()


def test_timeline_shows_entries_per_day(browser: EntryBrowser) -> None:
    timeline = browser.timeline
    assert timeline.bucket == "day"
    assert sum(count for _, count in timeline.bins) == 10
    assert dict(timeline.bins)[day_start_micros(date(2024, 9, 2))] == 2


def drag(qtbot: Any, timeline: TimelineWidget, start: int, end: int) -> None:
    begin = QPoint(int(timeline.x_of(start)) + 2, timeline.height() // 2)
    finish = QPoint(int(timeline.x_of(end)) - 2, timeline.height() // 2)
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=begin)
    qtbot.mouseMove(timeline, finish)
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=finish)


def test_dragging_across_the_timeline_sets_the_date_range(
    qtbot: Any, browser: EntryBrowser
) -> None:
    timeline = browser.timeline
    first = day_start_micros(date(2024, 9, 3))
    last = day_start_micros(date(2024, 9, 9))
    drag(qtbot, timeline, first, last + DAY)
    flt = browser.current_filter
    assert flt.after == first
    assert flt.before == last + DAY
    # 3 Sept .. 9 Sept holds entries 3, 4, 5 and 6.
    assert browser.model.rowCount() == 4
    assert "after:2024-09-03" in browser.filter_bar.search.text()


def test_narrow_range_switches_the_timeline_to_hours(qtbot: Any, browser: EntryBrowser) -> None:
    drag(
        qtbot,
        browser.timeline,
        day_start_micros(date(2024, 9, 2)),
        day_start_micros(date(2024, 9, 3)),
    )
    wait_for_aggregates(qtbot, browser)
    assert browser.timeline.bucket == "hour"
    assert len(browser.timeline.bins) == 2
    qtbot.mouseDClick(browser.timeline, Qt.MouseButton.LeftButton)
    assert browser.current_filter.after is None
    assert browser.current_filter.before is None


def test_clicking_one_bar_picks_its_day(qtbot: Any, browser: EntryBrowser) -> None:
    timeline = browser.timeline
    day = day_start_micros(date(2024, 9, 12))
    x = int((timeline.x_of(day) + timeline.x_of(day + DAY)) / 2)
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, timeline.height() // 2))
    assert (browser.current_filter.after, browser.current_filter.before) == (day, day + DAY)
    assert len(table_seqs(browser)) == 1


def test_clicking_none_shows_the_entries_without_a_value(qtbot: Any, browser: EntryBrowser) -> None:
    click_facet(qtbot, browser, "project", None)
    assert browser.current_filter.not_projects == ("*",)
    assert browser.model.rowCount() == 2
    assert "-project:*" in browser.filter_bar.search.text()
    wait_for_aggregates(qtbot, browser)
    projects = {
        i.data(0, Qt.ItemDataRole.UserRole + 1): i.text(1) for i in browser.facets.items("project")
    }
    assert projects == {None: "2"}


def test_modifier_click_on_none_shows_the_entries_with_a_value(
    qtbot: Any, browser: EntryBrowser
) -> None:
    click_facet(qtbot, browser, "project", None, Qt.KeyboardModifier.ControlModifier)
    assert browser.current_filter.projects == ("*",)
    assert browser.model.rowCount() == 8


def test_counts_are_marked_updating_until_the_new_ones_arrive(
    qtbot: Any, browser: EntryBrowser
) -> None:
    wait_for_aggregates(qtbot, browser)
    assert not browser.facets.updating
    assert not browser.timeline.updating
    browser.state.include("actor", "CI bot")
    # Until the refresh lands, the old numbers are shown as out of date, never as current.
    assert browser.facets.updating
    assert browser.timeline.updating
    assert browser.facets.busy_label.text() == "Updating counts…"
    wait_for_aggregates(qtbot, browser)
    assert not browser.facets.updating
    assert not browser.timeline.updating
    assert browser.facets.busy_label.text() == ""
    assert {i.text(1) for i in browser.facets.items("actor")} == {"3"}


def focus_timeline(qtbot: Any, browser: EntryBrowser) -> TimelineWidget:
    timeline = browser.timeline
    browser.window().activateWindow()
    qtbot.waitUntil(browser.window().isActiveWindow)
    timeline.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(timeline.hasFocus)
    return timeline


def test_the_keyboard_picks_a_date_range_on_the_timeline(qtbot: Any, browser: EntryBrowser) -> None:
    timeline = focus_timeline(qtbot, browser)
    assert timeline.focusPolicy() == Qt.FocusPolicy.StrongFocus
    bins = dict(timeline.bins)
    newest = max(bins)
    # The keyboard starts at the newest bar and says what it holds.
    assert timeline.keyboard_range() == (newest, newest + DAY)
    assert timeline.status_text().endswith(
        f"entr{'y' if bins[newest] == 1 else 'ies'} · Enter shows them"
    )

    qtbot.keyClick(timeline, Qt.Key.Key_Home)
    first = min(bins)
    assert timeline.keyboard_range() == (first, first + DAY)
    for _ in range(6):
        qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    week = (first, first + 7 * DAY)
    assert timeline.keyboard_range() == week
    held = sum(count for start, count in bins.items() if week[0] <= start < week[1])
    assert f": {held} entries · Enter shows them" in timeline.status_text()
    assert timeline.accessibleDescription() == timeline.status_text()

    qtbot.keyClick(timeline, Qt.Key.Key_Return)
    assert (browser.current_filter.after, browser.current_filter.before) == week
    qtbot.waitUntil(lambda: browser.model.rowCount() == held)

    # A plain arrow starts again from one bar; Escape shows all dates.
    qtbot.keyClick(timeline, Qt.Key.Key_Left)
    assert timeline.keyboard_range() is not None
    start, end = timeline.keyboard_range() or (0, 0)
    assert end - start == DAY
    qtbot.keyClick(timeline, Qt.Key.Key_Escape)
    assert (browser.current_filter.after, browser.current_filter.before) == (None, None)


def test_the_keyboard_cannot_leave_the_axis(qtbot: Any, browser: EntryBrowser) -> None:
    timeline = focus_timeline(qtbot, browser)
    bins = dict(timeline.bins)
    qtbot.keyClick(timeline, Qt.Key.Key_End)
    for _ in range(3):
        qtbot.keyClick(timeline, Qt.Key.Key_PageDown)
    assert timeline.keyboard_range() == (max(bins), max(bins) + DAY)
    qtbot.keyClick(timeline, Qt.Key.Key_Home)
    qtbot.keyClick(timeline, Qt.Key.Key_PageUp)
    assert timeline.keyboard_range() == (min(bins), min(bins) + DAY)
