"""Queries beyond the language's limits, typed into the viewer's search box."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from auditviewer.core.errors import QueryError
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import parse_query
from auditviewer.ui.entry_browser import EntryBrowser


def enter_query(qtbot: Any, browser: EntryBrowser, text: str) -> None:
    browser.filter_bar.search.setText(text)
    qtbot.keyClick(browser.filter_bar.search, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    "text",
    [
        "source:9223372036854775808",
        "seq:" + "9" * 4301,
        "project:gateway seq:0",
        "after:9999-12-31T23:59:59-00:01",
    ],
)
def test_a_refused_query_shows_the_same_sentence_under_the_box(
    qtbot: Any, browser: EntryBrowser, text: str
) -> None:
    enter_query(qtbot, browser, "project:gateway")
    with pytest.raises(QueryError) as refused:
        parse_query(text)
    enter_query(qtbot, browser, text)
    bar = browser.filter_bar
    assert bar.message.isVisible()
    expected = f"{refused.value.reason} at character {refused.value.position + 1}"
    assert bar.message.text() == expected
    assert browser.current_filter == Filter(projects=("gateway",))
    assert browser.model.rowCount() == 4
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def test_a_thousand_words_and_alternatives_are_answered(qtbot: Any, browser: EntryBrowser) -> None:
    enter_query(qtbot, browser, " ".join(f"word{n}" for n in range(1000)))
    qtbot.waitUntil(lambda: browser.model.rowCount() == 0)
    assert not browser.filter_bar.message.isVisible()
    alternatives = " ".join(f"action:x{n}*" for n in range(1200))
    enter_query(qtbot, browser, f"{alternatives} action:cohort.*")
    qtbot.waitUntil(lambda: browser.model.rowCount() == 3)
    enter_query(qtbot, browser, " ".join(f"-word{n}" for n in range(1000)))
    qtbot.waitUntil(lambda: browser.model.rowCount() == 10)
    assert not browser.filter_bar.message.isVisible()
