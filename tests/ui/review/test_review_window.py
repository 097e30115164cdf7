"""The window's review: starting one, marking by keys, walking, bulk marks, signing off."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from auditviewer.core.reviewing.marks import current_marks
from auditviewer.core.reviewing.reviews import review_progress
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.review.review_controller import KEYS, ReviewController
from auditviewer.ui.review.review_dialogs import SignOffDialog, StartReviewDialog
from tests.ui.conftest import table_seqs


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
