"""The window's review: starting one, marking by keys, walking, bulk marks, signing off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from auditviewer.core.reviewing.marks import current_marks
from auditviewer.core.reviewing.reviews import review_progress
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.review.review_controller import KEYS, ReviewController
from auditviewer.ui.review.review_dialogs import SignOffDialog, StartReviewDialog
from auditviewer.ui.table.entry_table_model import REVIEW
from tests.ui.conftest import table_seqs, wait_for_aggregates


def wait_idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.jobs, timeout=10_000)


def start(
    qtbot: Any, window: MainWindow, name: str = "Weekly", query: str = ""
) -> ReviewController:
    controller = window.review
    controller.start_review()
    dialog = controller.dialog
    assert isinstance(dialog, StartReviewDialog)
    dialog.name_edit.setText(name)
    dialog.query_edit.setText(query)
    dialog.reviewer_edit.setText("Ada Auditor")
    dialog.accept()
    qtbot.waitUntil(lambda: controller.review is not None, timeout=10_000)
    wait_idle(qtbot, window)
    return controller


def select_row(window: MainWindow, row: int) -> int:
    browser = window.browser
    assert browser is not None
    seq = table_seqs(browser)[row]
    assert window.review.select_entry(seq)
    return seq


def press(qtbot: Any, window: MainWindow, key: Qt.Key, modifier: Any = None) -> None:
    """Presses a key in the table of the active window, as the user does."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    table = window.browser.table
    table.setFocus()
    if modifier is None:
        QTest.keyClick(table, key)
    else:
        QTest.keyClick(table, key, modifier)
        # The modifier let go: later clicks are plain clicks.
        QTest.keyRelease(table, Qt.Key.Key_Control)
    wait_idle(qtbot, window)


def test_start_review_shows_the_bar_with_reviewer_and_progress(
    qtbot: Any, window: MainWindow
) -> None:
    controller = start(qtbot, window, query="actor:jane@example.com")
    bar = controller.bar
    assert bar.isVisible()
    assert "Weekly" in bar.text
    assert "reviewed by Ada Auditor" in bar.text
    assert "0 of 5 reviewed, 0 flagged, 0 follow-up" in bar.text
    # The table shows the review's scope; the reviewer's name is kept for the next time.
    assert window.browser is not None
    assert window.browser.model.rowCount() == 5
    assert controller.reviewer == "Ada Auditor"


def test_marking_by_key_updates_the_progress_and_the_store(qtbot: Any, window: MainWindow) -> None:
    controller = start(qtbot, window)
    seq = select_row(window, 2)
    assert controller.mark_actions["flagged"].shortcut().toString() == KEYS["flagged"]
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert "1 of 10 reviewed, 1 flagged, 0 follow-up" in controller.bar.text
    assert controller.review is not None
    marks = current_marks(window.store, [seq], controller.review.id)
    assert marks[seq].disposition == "flagged"
    assert marks[seq].reviewer == "Ada Auditor"
    # The selection stays on the marked entry.
    assert window.browser.selected_seqs() == [seq]


def test_bulk_marking_is_confirmed_and_cancel_marks_nothing(qtbot: Any, window: MainWindow) -> None:
    controller = start(qtbot, window)
    window.browser.table.selectAll()
    controller.mark_selected("ok")
    box = controller.box
    assert box is not None
    assert box.text() == "Mark 10 entries as OK?"
    box.button(QMessageBox.StandardButton.Cancel).click()
    wait_idle(qtbot, window)
    assert review_progress(window.store, controller.review.id).reviewed == 0

    controller.mark_selected("ok")
    assert controller.box is not None
    controller.box.button(QMessageBox.StandardButton.Yes).click()
    wait_idle(qtbot, window)
    assert "10 of 10 reviewed" in controller.bar.text


def test_next_unreviewed_moves_in_the_table_order(qtbot: Any, window: MainWindow) -> None:
    start(qtbot, window)
    browser = window.browser
    browser.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # by action
    qtbot.waitUntil(lambda: browser.model.sort_order.column == "action")
    order = table_seqs(browser)
    select_row(window, 1)
    press(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    select_row(window, 0)
    press(qtbot, window, Qt.Key.Key_F8)
    # Row 1 is reviewed: the next unreviewed after row 0 is row 2.
    assert browser.selected_seqs() == [order[2]]
    press(qtbot, window, Qt.Key.Key_F8, Qt.KeyboardModifier.ShiftModifier)
    assert browser.selected_seqs() == [order[0]]


def test_sign_off_freezes_the_review_and_the_window_refuses_marks(
    qtbot: Any, window: MainWindow
) -> None:
    controller = start(qtbot, window)
    select_row(window, 0)
    controller.mark_selected("follow-up")
    wait_idle(qtbot, window)
    controller.sign_off()
    dialog = controller.dialog
    assert isinstance(dialog, SignOffDialog)
    assert "Follow-up: 1" in dialog.counts_label.text()
    assert "frozen" in dialog.warning.text()
    total = review_progress(window.store, controller.review.id).total
    # Only what the counts show is offered for signing: not "every entry" with entries unreviewed.
    assert dialog.statement.startswith(f"I reviewed 1 of the {total:,} entries")
    assert "every entry" not in dialog.statement
    dialog.accept()
    wait_idle(qtbot, window)
    assert controller.review is not None
    assert controller.review.signed
    assert "Signed by Ada Auditor on" in controller.bar.text
    assert "frozen" in controller.bar.text
    assert not controller.bar.sign_button.isVisible()
    for action in controller.change_actions:
        assert not action.isEnabled()
    assert not controller.sign_action.isEnabled()
    select_row(window, 1)
    controller.mark_selected("ok")
    assert controller.box is not None
    assert "is signed and frozen" in controller.box.text()
    wait_idle(qtbot, window)
    assert review_progress(window.store, controller.review.id).reviewed == 1


def test_daily_review_asks_the_reviewer_once(qtbot: Any, window: MainWindow) -> None:
    controller = window.review
    assert controller.reviewer == ""
    controller.start_daily_review()
    dialog = controller.dialog
    assert dialog is not None
    dialog.setTextValue("Grace Hopper")
    dialog.accept()
    qtbot.waitUntil(lambda: controller.review is not None, timeout=10_000)
    wait_idle(qtbot, window)
    assert controller.reviewer == "Grace Hopper"
    assert controller.review.reviewer == "Grace Hopper"
    assert controller.review.name.startswith("Daily review")
    asked = controller.dialog
    controller.start_daily_review()
    assert controller.dialog is asked  # not asked again
    wait_idle(qtbot, window)


def review_cell(window: MainWindow, row: int, role: Qt.ItemDataRole) -> Any:
    model = window.browser.model
    return model.data(model.index(row, REVIEW), role)


def test_marks_show_in_the_review_column_the_facets_and_the_details(
    qtbot: Any, window: MainWindow
) -> None:
    controller = start(qtbot, window)
    browser = window.browser
    assert review_cell(window, 0, Qt.ItemDataRole.DisplayRole) == ""
    assert review_cell(window, 0, Qt.ItemDataRole.DecorationRole) is None
    seq = select_row(window, 0)
    press(qtbot, window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert review_cell(window, 0, Qt.ItemDataRole.DisplayRole) == "Follow-up"
    assert not review_cell(window, 0, Qt.ItemDataRole.DecorationRole).isNull()
    wait_for_aggregates(qtbot, browser)
    counts = {item.text(0): item.text(1) for item in browser.facets.items("review")}
    assert counts["follow-up"] == "1"
    assert counts["unreviewed"] == "9"
    # A tag and a note keep the disposition; the details list every event.
    controller._mark(tags=("vendor",), verb="")
    wait_idle(qtbot, window)
    controller._mark(note="Checked with the vendor", verb="")
    wait_idle(qtbot, window)
    assert review_cell(window, 0, Qt.ItemDataRole.DisplayRole) == "Follow-up · note"
    wait_for_aggregates(qtbot, browser)
    assert [item.text(0) for item in browser.facets.items("tag")] == ["vendor"]
    assert browser.detail_seq == seq
    history = browser.details.history_view.toPlainText()
    assert history.count("Follow-up by Ada Auditor") == 3
    assert "Tags: vendor" in history
    assert "Note: Checked with the vendor" in history
    # Clicking the facet filters by it.
    item = next(i for i in browser.facets.items("review") if i.text(0) == "follow-up")
    browser.facets._on_clicked(item)
    qtbot.waitUntil(lambda: browser.model.rowCount() == 1)


HOSTILE_NOTE = "<b>bold</b> <script>alert(1)</script> \u202eevil\u202c " + "x" * 5000


def test_hostile_notes_and_tags_render_as_plain_text(qtbot: Any, window: MainWindow) -> None:
    controller = start(qtbot, window)
    browser = window.browser
    select_row(window, 0)
    controller._mark(
        disposition="flagged", note=HOSTILE_NOTE, tags=("<i>tag</i>", "\u202eRTL"), verb=""
    )
    wait_idle(qtbot, window)
    tooltip = review_cell(window, 0, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;script&gt;" in tooltip
    assert "<script>" not in tooltip
    assert "<b>bold" not in tooltip
    assert "\u202e" not in tooltip
    assert len(tooltip) < 3000  # capped
    lines = tooltip.split("<br>")
    assert all(len(line) < 200 for line in lines[1:-1])  # wrapped
    history = browser.details.history_view.toPlainText()
    assert "<b>bold</b> <script>alert(1)</script>" in history  # shown literally
    assert "\u202e" not in history
    assert "\\u202eevil" in history
    assert "<i>tag</i>" in history
    assert review_cell(window, 0, Qt.ItemDataRole.DisplayRole) == "Flagged · note"


def test_write_report_writes_pdf_json_and_csv_in_the_background(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    controller = start(qtbot, window)
    seq = select_row(window, 0)
    controller._mark(disposition="flagged", note="<script>x</script>", verb="")
    wait_idle(qtbot, window)
    for suffix in ("pdf", "json", "csv"):
        path = tmp_path / f"report.{suffix}"
        controller.write_report(path)
        wait_idle(qtbot, window)
        assert path.stat().st_size > 0
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [entry["seq"] for entry in report["entries"]] == [seq]
    controller.write_report(tmp_path / "report.txt")
    assert controller.box is not None
    assert ".pdf" in controller.box.text()
    assert not (tmp_path / "report.txt").exists()


def test_the_review_column_sorts_by_mark_and_follows_new_marks(
    qtbot: Any, window: MainWindow
) -> None:
    controller = start(qtbot, window)
    browser = window.browser
    assert browser is not None
    by_time = table_seqs(browser)
    browser.table.horizontalHeader().setSortIndicator(REVIEW, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: browser.model.sort_order.column == "review")
    # Nothing marked yet: time breaks every tie.
    assert table_seqs(browser) == by_time

    select_row(window, 6)
    flagged = by_time[6]
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: table_seqs(browser)[0] == flagged)
    # The marked entry moved to the top and stays selected.
    assert browser.selected_seqs() == [flagged]
    assert table_seqs(browser)[1:] == [seq for seq in by_time if seq != flagged]

    select_row(window, 3)
    follow_up = table_seqs(browser)[3]
    controller.mark_selected("follow-up")
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: table_seqs(browser)[:2] == [follow_up, flagged])


def test_a_tag_added_to_entries_with_different_tags_reaches_every_one(
    qtbot: Any, window: MainWindow
) -> None:
    controller = start(qtbot, window)
    first = select_row(window, 0)
    controller._mark(tags=("vendor",), verb="")
    wait_idle(qtbot, window)
    second = select_row(window, 1)
    controller._mark(tags=("night",), verb="")
    wait_idle(qtbot, window)
    third = table_seqs(window.browser)[2]
    window.browser.table.selectAll()

    controller._add_tag("urgent")
    box = controller.box
    assert box is not None
    assert box.text() == "Mark 10 entries with the tag urgent?"
    box.button(QMessageBox.StandardButton.Yes).click()
    wait_idle(qtbot, window)

    assert controller.review is not None
    marks = current_marks(window.store, [first, second, third], controller.review.id)
    assert marks[first].tags == ("vendor", "urgent")
    assert marks[second].tags == ("night", "urgent")
    assert marks[third].tags == ("urgent",)
