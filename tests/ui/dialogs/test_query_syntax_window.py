"""Help ▸ Query Syntax lists every term with an example that the parser reads."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from auditviewer.core.querying.language import KEYS, QUERY_TERMS, parse_query
from auditviewer.ui.dialogs.query_syntax_window import QuerySyntaxWindow
from auditviewer.ui.main_window import MainWindow


@pytest.mark.parametrize("term", QUERY_TERMS, ids=lambda term: term.term)
def test_every_example_parses_into_a_filter(term: Any) -> None:
    assert not parse_query(term.example).is_empty


def test_every_key_is_listed_with_an_example_using_it() -> None:
    for key in KEYS:
        listed = [t for t in QUERY_TERMS if t.term.startswith(f"{key}:")]
        assert listed, key
        assert all(f"{key}:" in t.example for t in listed), key


def test_the_window_lists_every_term(qtbot: Any) -> None:
    window = QuerySyntaxWindow()
    qtbot.addWidget(window)
    assert window.examples() == [t.example for t in QUERY_TERMS]
    assert window.table.item(0, 0).text() == QUERY_TERMS[0].term


def test_help_menu_opens_the_query_syntax_window(qtbot: Any, window: MainWindow) -> None:
    help_menu = window.menuBar().actions()[-1].menu()
    titles = [action.text() for action in help_menu.actions()]
    assert "&Query Syntax" in titles
    window.query_syntax_action.trigger()
    syntax = window.query_syntax_window
    assert syntax is not None
    qtbot.waitUntil(syntax.isVisible)
    assert not syntax.isModal()
    window.query_syntax_action.trigger()
    assert window.query_syntax_window is syntax


def test_the_question_mark_beside_the_search_box_opens_it(qtbot: Any, window: MainWindow) -> None:
    assert window.browser is not None
    button = window.browser.filter_bar.help_button
    assert button.text() == "?"
    assert button.accessibleName() == "Query syntax"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.query_syntax_window is not None
    qtbot.waitUntil(window.query_syntax_window.isVisible)
