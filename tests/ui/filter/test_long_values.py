"""Facet values and reference actions that share a long beginning still read apart."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from auditviewer.core.querying.aggregates import FacetCount
from auditviewer.core.reference import ActionReference
from auditviewer.ui.details.reference_panel import ReferencePanel
from auditviewer.ui.filter.facet_panel import FacetPanel

FAMILY = ("release_activation.create", "release_activation.update", "release_activation.delete")


def _tooltip_text(html: str) -> str:
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()


def test_facet_values_are_shortened_in_the_middle_with_the_whole_value_in_a_tooltip(
    qtbot: Any,
) -> None:
    panel = FacetPanel()
    qtbot.addWidget(panel)
    panel.resize(170, 400)
    panel.show()
    panel.set_facets({"action": [FacetCount(value, 3) for value in FAMILY]})
    items = panel.items("action")
    tree = panel.tree
    assert tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    width = tree.visualItemRect(items[0]).width()
    metrics = tree.fontMetrics()
    shown = [metrics.elidedText(item.text(0), tree.textElideMode(), width) for item in items]
    assert all("…" in text and text.startswith("rel") for text in shown), shown
    assert len(set(shown)) == 3, shown
    assert {_tooltip_text(item.toolTip(0)) for item in items} == set(FAMILY)


def test_reference_rows_of_one_action_show_their_description_and_date(
    qtbot: Any, reference: ActionReference
) -> None:
    panel = ReferencePanel(reference)
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    qtbot.waitExposed(panel)
    table = panel.table
    first = panel.rows_of("release.create")[0]
    qtbot.waitUntil(lambda: table.rowHeight(first) > table.fontMetrics().height() * 2)
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
    rows = panel.rows_of("release.create")
    seen = set()
    for row in rows:
        description = table.item(row, 1)
        since = table.item(row, 2)
        # The description wraps and its row is as tall as the wrapped text needs.
        assert table.wordWrap()
        qtbot.waitUntil(lambda row=row: table.rowHeight(row) >= table.sizeHintForRow(row))
        assert table.visualItemRect(since).width() >= table.fontMetrics().horizontalAdvance(
            since.text()
        )
        assert table.visualItemRect(since).right() <= table.viewport().width()
        seen.add((description.text(), since.text()))
        assert "release.create" in _tooltip_text(table.item(row, 0).toolTip())
    assert len(seen) == 3
    # The action column leaves the description room, and long actions are cut in the middle.
    assert table.columnWidth(0) <= table.viewport().width() // 3 + 1
    for action in FAMILY:
        item = table.item(panel.rows_of(action)[0], 0)
        text = table.fontMetrics().elidedText(
            item.text(), table.textElideMode(), table.columnWidth(0) - 8
        )
        assert text.endswith(action.rpartition(".")[2]) or text == action
