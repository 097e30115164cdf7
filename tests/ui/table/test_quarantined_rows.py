"""Quarantined entries in the table show what their raw text says; the timeline counts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from auditviewer.core.querying.filter import Filter
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table.entry_table_model import ACTION, ACTOR, ENTITY, IP, TIME
from tests.conftest import make_entry, write_json
from tests.ui.conftest import wait_for_aggregates


@pytest.fixture
def quarantine_browser(
    qtbot: Any, store: Store, tmp_path: Path, ui_settings: UiSettings
) -> Iterator[EntryBrowser]:
    """A browser over entries of which two are quarantined (an unreadable time, no time)."""
    entries = [make_entry(n, action="release.create") for n in range(1, 6)]
    entries.append(make_entry(20, action="release.create", created_date="next week"))
    entries.append(make_entry(21, action="cohort.update", created_date=None, ip_address="x"))
    import_file(store, write_json(tmp_path / "q.json", entries))
    widget = EntryBrowser(store, ActionReference.load(), ui_settings)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    wait_for_aggregates(qtbot, widget)
    yield widget
    widget.shutdown()


def _row_of(browser: EntryBrowser, key: str) -> int:
    model = browser.model
    return next(r for r in range(model.rowCount()) if model.row_at(r).entry_key == key)


def test_quarantined_rows_show_their_readable_fields_as_unverified(
    quarantine_browser: EntryBrowser,
) -> None:
    model = quarantine_browser.model
    row = _row_of(quarantine_browser, "20")
    shown = {
        column: model.data(model.index(row, column)) for column in (TIME, ACTION, ACTOR, ENTITY)
    }
    assert shown == {
        TIME: "next week",
        ACTION: "release.create",
        ACTOR: "jane@example.com",
        ENTITY: "organization_auth_token CI uploader",
    }
    font = model.data(model.index(row, ACTOR), Qt.ItemDataRole.FontRole)
    assert font.italic()
    tooltip = QTextDocument()
    tooltip.setHtml(model.data(model.index(row, ACTOR), Qt.ItemDataRole.ToolTipRole))
    assert "Unverified" in tooltip.toPlainText()
    assert "next week" in tooltip.toPlainText()  # the reason
    other = _row_of(quarantine_browser, "21")
    assert model.data(model.index(other, IP)) == "x"
    assert model.data(model.index(other, TIME)) == ""
    ordinary = _row_of(quarantine_browser, "1")
    assert model.data(model.index(ordinary, ACTOR), Qt.ItemDataRole.FontRole) is None


@pytest.mark.parametrize(
    "filter_",
    [
        Filter(),
        Filter(actions=("release.create",)),
        Filter(quarantined=True),
        Filter(quarantined=False),
        Filter(after=0),
    ],
    ids=["everything", "one action", "quarantined only", "none quarantined", "a date range"],
)
def test_the_timeline_counts_what_the_table_lists(
    qtbot: Any, quarantine_browser: EntryBrowser, filter_: Filter
) -> None:
    quarantine_browser.state.set_filter(filter_)
    wait_for_aggregates(qtbot, quarantine_browser)
    timeline = quarantine_browser.timeline
    assert timeline.total == quarantine_browser.model.exact_count()
    if filter_.quarantined is not False and filter_.after is None:
        assert timeline.untimed > 0
        assert "without a time" in timeline.untimed_text()
    quarantine_browser.grab()
