"""Details show every field of an entry; the Action reference highlights and filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from auditviewer.core.querying.window import get_entries
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.details.detail_panel import (
    CHANGES_LIMIT,
    MORE_CHANGES,
    RAW_LIMIT,
    DetailPanel,
    change_rows,
    pretty_json,
)
from auditviewer.ui.details.reference_panel import ReferencePanel
from auditviewer.ui.details.value_view import VALUE_LIMIT
from auditviewer.ui.entry_browser import EntryBrowser
from tests.conftest import make_entry, write_json


def test_detail_panel_shows_every_field_of_an_entry(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    entry = make_entry(184467, created_date="2024-09-03T14:07:55.120331+00:00")
    entry["extra_vendor_field"] = {"kept": True}
    import_file(store, write_json(tmp_path / "one.json", [entry]))
    detail = get_entries(store, [1])[0]
    panel = DetailPanel(reference)
    qtbot.addWidget(panel)
    panel.show_entry(detail)

    assert panel.value("time_utc") == "2024-09-03 14:07:55.120331 +00:00 (UTC)"
    assert panel.value("time_local").startswith("2024-09-03") or panel.value("time_local")
    assert panel.value("action") == "organization_auth_token.update"
    assert panel.value("description").startswith("Update of an Organization Auth Token")
    assert panel.value("actor_type") == "User"
    assert panel.value("actor_label") == "jane@example.com"
    assert panel.value("actor_id") == "17"
    assert panel.value("project") == "smart-sensor"
    assert panel.value("entity_type") == "organization_auth_token"
    assert panel.value("entity_name") == "CI uploader"
    assert panel.value("entity_id") == "42"
    assert panel.value("ip") == "203.0.113.5"
    assert panel.value("user_agent") == "memfault-cli/1.4"
    assert panel.value("entry_key") == "184467"
    assert panel.value("source").startswith("file #1: ")
    assert panel.value("source").endswith("one.json")
    assert panel.value("source_sha256") == detail.source.sha256
    assert panel.value("raw_sha256") == detail.raw_sha256
    assert panel.value("imported")
    # changes as field / before / after
    assert panel.changes.rowCount() == 1
    cells = [panel.changes.item(0, c).text() for c in range(3)]
    assert cells == ["scopes", '["read"]', '["read", "write"]']
    # the raw JSON, pretty-printed, with the unknown extra field kept
    raw = panel.raw_view.toPlainText()
    assert json.loads(raw) == entry
    assert '  "extra_vendor_field": {' in raw
    panel.copy_raw()
    assert QGuiApplication.clipboard().text() == detail.raw
    panel.copy_summary()
    assert "IP address: 203.0.113.5" in QGuiApplication.clipboard().text()


def test_flags_are_explained_in_sentences(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    entries = [make_entry(1, action="legacy.gone", created_date="2023-01-05T10:00:00")]
    import_file(store, write_json(tmp_path / "old.json", entries))
    panel = DetailPanel(reference)
    qtbot.addWidget(panel)
    panel.show_entry(get_entries(store, [1])[0])
    text = " ".join(panel.flag_labels)
    assert "Unknown action" in text
    assert "Past retention" in text
    assert "No time zone" in text


def test_change_rows_accept_common_shapes() -> None:
    assert change_rows({"name": {"before": "a", "after": "b"}}) == [("name", "a", "b")]
    assert change_rows({"name": ["a", "b"]}) == [("name", "a", "b")]
    assert change_rows([{"field": "x", "old": 1, "new": 2}]) == [("x", "1", "2")]
    assert change_rows({"flag": True}) == [("flag", "", "true")]
    assert change_rows(None) == []


def test_selecting_a_row_shows_its_details_and_highlights_its_action(
    qtbot: Any, browser: EntryBrowser
) -> None:
    browser.table.selectRow(0)
    browser.show_details_now()
    row = browser.model.row_at(0)
    assert browser.details.value("action") == row.action == "release.create"
    highlighted = browser.reference_panel.highlighted_rows()
    actions = {browser.reference_panel.table.item(r, 0).text() for r in highlighted}
    assert actions == {"release.create"}
    assert len(highlighted) == 3


def test_reference_panel_lists_every_reference_row_and_unknown_actions(
    qtbot: Any, browser: EntryBrowser, reference: ActionReference
) -> None:
    panel = browser.reference_panel
    assert len(panel.rows_of("release.create")) == 3
    assert panel.table.rowCount() == len(reference.rows) + 1
    unknown = panel.rows_of("legacy.removed_action")
    assert len(unknown) == 1
    row = unknown[0]
    assert "Not in the reference" in panel.table.item(row, 1).text()
    assert panel.table.item(row, 3).text() == "1"
    assert panel.table.item(panel.rows_of("release.create")[0], 3).text() == "2"


def test_clicking_a_reference_action_filters_by_it(qtbot: Any, browser: EntryBrowser) -> None:
    panel = browser.reference_panel
    browser.side.setCurrentWidget(panel)
    row = panel.rows_of("release.update")[0]
    item = panel.table.item(row, 0)
    panel.table.scrollToItem(item)
    qtbot.mouseClick(
        panel.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.table.visualItemRect(item).center(),
    )
    assert browser.current_filter.actions == ("release.update",)
    assert browser.model.rowCount() == 1


def test_reference_panel_marks_actions_it_does_not_know(
    qtbot: Any, reference: ActionReference
) -> None:
    panel = ReferencePanel(reference)
    qtbot.addWidget(panel)
    panel.set_store_counts({"cohort.update": 4, "old.action": 2})
    rows = panel.rows_of("old.action")
    assert rows
    assert panel.table.item(rows[0], 0).font().italic()
    panel.highlight_action("old.action")
    assert panel.highlighted_rows() == rows


def test_a_huge_entry_is_shown_cut_and_copied_whole(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    """A value of megabytes would stall the window while the Raw JSON box lays it out."""
    entry = make_entry(7, user_agent="u" * 2_000_000)
    import_file(store, write_json(tmp_path / "huge.json", [entry]))
    detail = get_entries(store, [1])[0]
    panel = DetailPanel(reference)
    qtbot.addWidget(panel)
    panel.show_entry(detail)

    shown = panel.raw_view.toPlainText()
    assert len(shown) < RAW_LIMIT + 200
    assert shown.endswith(
        f"… cut here: {len(pretty_json(detail.raw)):,} characters in all. Copy original JSON or "
        "Copy formatted JSON copies every one."
    )
    assert len(panel.value("user_agent")) <= VALUE_LIMIT + 1
    panel.copy_raw()
    assert QGuiApplication.clipboard().text() == detail.raw


def test_thousands_of_changes_are_listed_up_to_the_limit_and_said_to_go_on(
    qtbot: Any, store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    changes = {f"field{n}": {"old": n, "new": n + 1} for n in range(CHANGES_LIMIT + 50)}
    import_file(store, write_json(tmp_path / "many.json", [make_entry(3, changes=changes)]))
    panel = DetailPanel(reference)
    qtbot.addWidget(panel)
    panel.show_entry(get_entries(store, [1])[0])

    assert panel.changes.rowCount() == CHANGES_LIMIT + 1
    assert [panel.changes.item(0, c).text() for c in range(3)] == ["field0", "0", "1"]
    last = [panel.changes.item(CHANGES_LIMIT, c).text() for c in range(3)]
    assert last == ["…", "", MORE_CHANGES]
    assert change_rows(changes, 3) == [
        ("field0", "0", "1"),
        ("field1", "1", "2"),
        ("field2", "2", "3"),
    ]


def test_the_raw_json_shows_numbers_exactly_as_written() -> None:
    raw = '{"id": 18446744073709551617, "n": -0.5, "big": 1.5e300, "t": "é\\u0000"}'
    shown = json.loads(pretty_json(raw))
    assert shown["id"] == 18446744073709551617
    assert "18446744073709551617" in pretty_json(raw)
    assert shown == json.loads(raw)
    assert pretty_json("not json {") == "not json {"
    assert pretty_json('{"a": NaN}') == '{\n  "a": NaN\n}'
