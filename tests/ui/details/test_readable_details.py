"""Every value of the details reads whole at 1280×800: wrapped, selectable, copyable, plain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.details.detail_panel import DetailPanel
from auditviewer.ui.details.value_view import ValueView
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json
from tests.ui.conftest import wait_for_aggregates

HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
LONG_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " * 100  # 5,200 characters
RTL = "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd"


@pytest.fixture
def long_window(
    qtbot: Any, store: Store, tmp_path: Path, ui_settings: UiSettings
) -> Iterator[MainWindow]:
    """The window at 1280×800 over a store with a long, hostile entry and a quarantined one."""
    entries = [
        make_entry(
            1,
            action="legacy.gone",
            created_date="2024-09-30T10:00:00",
            user_agent=LONG_AGENT,
            actor={"type": "user", "id": 17, "email": "<b>x</b>", "name": RTL},
            entity={"type": "release", "id": HASH * 3, "name": RTL + " " + "n" * 300},
        ),
        make_entry(2, created_date="yesterday", ip_address="192.0.2.77"),
        make_entry(3),
    ]
    import_file(store, write_json(tmp_path / "long.json", entries))
    main = MainWindow(ui_settings)
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    assert main.open_store(store.path)
    assert main.browser is not None
    qtbot.waitExposed(main)
    wait_for_aggregates(qtbot, main.browser)
    yield main
    main.close()


def _select(qtbot: Any, window: MainWindow, entry_key: str) -> DetailPanel:
    browser = window.browser
    assert browser is not None
    model = browser.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).entry_key == entry_key)
    browser.table.selectRow(row)
    browser.show_details_now()
    panel = browser.details
    qtbot.waitUntil(lambda: all(v.height() >= v.needed_height() for v in panel.fields.values()))
    return panel


def _right_edge(panel: DetailPanel, widget: QWidget) -> int:
    return widget.mapTo(panel.widget(), QPoint(widget.width(), 0)).x()


def test_no_value_reaches_past_the_panel_at_1280(qtbot: Any, long_window: MainWindow) -> None:
    panel = _select(qtbot, long_window, "1")
    limit = panel.viewport().width()
    views = [view for view in panel.findChildren(ValueView) if view.isVisible()]
    buttons = [panel.copy_raw_button, panel.copy_pretty_button, panel.copy_summary_button]
    assert panel.widget().width() <= limit
    for widget in [*views, *buttons]:
        assert _right_edge(panel, widget) <= limit, widget.accessibleName() or widget.text()
    for view in views:
        # As tall as its wrapped text: nothing cut at the bottom, no scrolling inside.
        assert view.height() >= view.needed_height(), view.accessibleName()
        assert view.sizeHint().width() <= limit
    agent = panel.fields["user_agent"]
    assert agent.toPlainText() == LONG_AGENT
    assert agent.height() > 20 * agent.fontMetrics().lineSpacing()  # wrapped, not cut
    assert panel.flag_labels
    long_window.grab()


def test_hashes_break_anywhere_in_a_fixed_font_and_copy_whole(
    qtbot: Any, long_window: MainWindow
) -> None:
    panel = _select(qtbot, long_window, "1")
    chain = panel.fields["chain_sha256"]
    metrics = chain.fontMetrics()
    assert metrics.horizontalAdvance("i") == metrics.horizontalAdvance("W")  # fixed width
    assert chain.height() >= 2 * chain.fontMetrics().lineSpacing()  # wider than the panel
    entity = panel.fields["entity_id"]
    assert entity.toPlainText() == HASH * 3
    assert _right_edge(panel, entity) <= panel.viewport().width()
    # Keyboard: focus, select all, copy: the value itself, no inserted break characters.
    chain.setFocus()
    qtbot.keyClick(chain, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(chain, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    assert copied == panel._values["chain_sha256"]
    assert len(copied) == 64
    # Mouse: a double click selects the hash, which is one word.
    qtbot.mouseDClick(chain.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(8, 6))
    assert chain.textCursor().selectedText() == copied


def test_values_are_plain_text(qtbot: Any, long_window: MainWindow) -> None:
    panel = _select(qtbot, long_window, "1")
    actor = panel.fields["actor_label"]
    assert actor.toPlainText() == "<b>x</b>"
    assert not actor.document().firstBlock().charFormat().font().bold()
    assert "&lt;b&gt;" in actor.document().toHtml()
    assert panel.fields["entity_name"].toPlainText().startswith(RTL)


def test_a_quarantined_entry_shows_what_its_raw_text_says_as_unverified(
    qtbot: Any, long_window: MainWindow
) -> None:
    panel = _select(qtbot, long_window, "2")
    assert panel.quarantine_note.isVisible()
    assert "'yesterday'" in panel.quarantine_note.toPlainText()
    for key, expected in (
        ("actor_label", "jane@example.com"),
        ("entity_name", "CI uploader"),
        ("ip", "192.0.2.77"),
    ):
        view = panel.fields[key]
        assert view.toPlainText() == expected
        assert view.unverified
        assert view.font().italic()
    assert panel.fields["time_utc"].toPlainText().startswith("yesterday")
    assert not panel.fields["raw_sha256"].unverified
    panel.copy_summary()
    assert "Actor: jane@example.com (unverified)" in QGuiApplication.clipboard().text()
    # An ordinary entry afterwards is shown plainly again.
    panel = _select(qtbot, long_window, "3")
    assert not panel.quarantine_note.isVisible()
    assert not panel.fields["actor_label"].unverified
    assert not panel.fields["actor_label"].font().italic()
