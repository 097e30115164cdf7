"""Entries are untrusted: hostile strings crash nothing and show literally everywhere."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QToolTip

from auditviewer.core.querying.window import get_entries
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui import plain_text
from auditviewer.ui.details.value_view import VALUE_LIMIT
from auditviewer.ui.dialogs.import_report_dialog import ImportReportDialog
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.plain_text import (
    TOOLTIP_LIMIT,
    TOOLTIP_LINE,
    menu_text,
    safe_tooltip,
    tooltip_lines,
    visible,
    visible_multiline,
)
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json

IMG = '<img src="/dev/zero">'
BOLD = "<b>bold</b>"
LINK = '<a href="https://evil.example/">click me</a>'
RLO = "evil\u202egnp.exe"
CONTROLS = "bell\x07null\x00esc\x1b[31mred"
LONG = "A" * 10_000
HOSTILE_VALUES = (IMG, BOLD, LINK, RLO, CONTROLS, LONG)


def hostile_entries() -> list[dict[str, Any]]:
    entries = []
    for number, value in enumerate(HOSTILE_VALUES, start=1):
        entries.append(
            make_entry(
                number,
                action=f"{value[:200]}.create",
                actor={"type": "user", "id": value, "email": value, "name": value},
                project={"slug": value},
                entity={"type": value[:100], "id": value, "name": value},
                changes={value: {"old": value, "new": value}},
                ip_address=value,
                user_agent=value,
            )
        )
    return entries


@pytest.fixture
def hostile_store(store: Store, tmp_path: Path) -> Store:
    import_file(store, write_json(tmp_path / "hostile.json", hostile_entries()))
    return store


@pytest.fixture
def hostile_window(qtbot: Any, hostile_store: Store, ui_settings: UiSettings) -> Any:
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    assert window.open_store(hostile_store.path)
    assert window.browser is not None
    window.browser.aggregates.refresh_now()
    qtbot.waitUntil(lambda: not window.browser.aggregates.pending, timeout=10_000)
    yield window
    window.close()


def test_visible_escapes_every_invisible_character() -> None:
    invisible = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in invisible:
            assert plain_text._INVISIBLE.match(char), hex(code)
    assert visible(RLO) == "evil\\u202egnp.exe"
    assert visible(CONTROLS) == "bell\\u0007null\\u0000esc\\u001b[31mred"
    assert visible("a\nb\tc") == "a\\nb\\tc"
    assert visible_multiline("a\nb\u202e") == "a\nb\\u202e"
    assert visible(LONG, 100) == "A" * 100 + "…"


def test_safe_tooltips_show_markup_literally(qapp: Any) -> None:
    for value in HOSTILE_VALUES:
        document = QTextDocument()
        document.setHtml(safe_tooltip(value, 20_000))
        shown = document.toPlainText().replace("\u2028", "").replace("\n", "")
        assert shown == visible(value, 20_000)
    assert menu_text("Tom & Jerry") == "Tom && Jerry"


def test_long_tooltips_are_capped_and_wrapped(qapp: Any) -> None:
    value = (
        "<b>x</b> " + "\u05d0\u05d1" * 100 + " " + "f" * 64 * 70
    )  # markup, RTL, one hash-like word
    html = safe_tooltip(value)
    document = QTextDocument()
    document.setHtml(html)
    lines = document.toPlainText().replace("\u2028", "\n").split("\n")
    assert lines[0].startswith("<b>x</b>")
    assert all(len(line) <= TOOLTIP_LINE + 1 for line in lines)
    assert sum(len(line) for line in lines) <= TOOLTIP_LIMIT + 1
    assert lines[-1].endswith("…")
    # Shown as a tooltip is shown: a label of its own, no wider than about 60 em.
    label = QLabel()
    label.setText(html)
    em = label.fontMetrics().horizontalAdvance("M")
    assert label.sizeHint().width() <= 64 * em
    assert len(tooltip_lines("short <i>one</i>")) == 1


def test_table_cells_and_tooltips_are_literal(qtbot: Any, hostile_window: MainWindow) -> None:
    browser = hostile_window.browser
    model = browser.model
    assert model.rowCount() == len(HOSTILE_VALUES)
    shown = set()
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            shown.add(model.data(index))
            tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
            if tooltip:
                QToolTip.showText(
                    browser.table.viewport().mapToGlobal(browser.table.visualRect(index).center()),
                    tooltip,
                    browser.table,
                )
                assert tooltip.startswith("<qt>")
                assert "<img" not in tooltip
                assert "<b>" not in tooltip
    QToolTip.hideText()
    assert IMG in shown
    assert BOLD in shown
    assert LINK in shown
    assert "evil\\u202egnp.exe" in shown
    assert not any("\u202e" in text or "\x00" in text for text in shown if text)
    hostile_window.grab()


def test_detail_panel_shows_hostile_fields_literally(
    qtbot: Any, hostile_window: MainWindow
) -> None:
    browser = hostile_window.browser
    for row in range(browser.model.rowCount()):
        browser.table.selectRow(row)
        browser.show_details_now()
        entry = browser.model.row_at(row)
        details = browser.details
        # Shown whole (the 10,000-character value too), escaped.
        assert details.value("actor_label") == visible(entry.actor_label, VALUE_LIMIT)
        assert details.value("ip") == visible(entry.ip, VALUE_LIMIT)
        raw = details.raw_view.toPlainText()
        assert "\u202e" not in raw
        assert "\x00" not in raw
        cells = [details.changes.item(0, c).text() for c in range(3)]
        assert all("\u202e" not in cell for cell in cells)
        hostile_window.grab()
    labels = set()
    for row in range(browser.model.rowCount()):
        browser.table.selectRow(row)
        browser.show_details_now()
        labels.add(browser.details.value("actor_label"))
    assert {IMG, BOLD, LINK, "evil\\u202egnp.exe"} <= labels


def test_panels_and_facets_render_hostile_values_literally(
    qtbot: Any, hostile_window: MainWindow
) -> None:
    browser = hostile_window.browser
    actor_texts = {item.text(0) for item in browser.facets.items("actor")}
    assert IMG in actor_texts
    assert LINK in actor_texts
    unknown = [
        browser.reference_panel.table.item(r, 0).text()
        for r in range(browser.reference_panel.table.rowCount())
    ]
    assert f"{BOLD}.create" in unknown
    browser.side.setCurrentWidget(browser.reference_panel)
    browser.controls.setVisible(True)
    picker_texts = [
        browser.controls.actor_picker.itemText(i)
        for i in range(browser.controls.actor_picker.count())
    ]
    assert any(text.startswith(IMG) for text in picker_texts)
    browser.controls.actions_menu.popup(hostile_window.mapToGlobal(hostile_window.rect().center()))
    browser.controls.actions_menu.grab()
    browser.controls.actions_menu.close()
    hostile_window.grab()


def test_every_label_in_the_window_is_plain_text(hostile_window: MainWindow) -> None:
    browser = hostile_window.browser
    browser.table.selectRow(0)
    browser.show_details_now()
    labels = hostile_window.findChildren(QLabel)
    assert labels
    rich = [
        label.objectName() or label.text()[:40]
        for label in labels
        if label.textFormat() != Qt.TextFormat.PlainText and label.text()
    ]
    assert rich == []


def test_context_menu_texts_are_literal_and_escaped(hostile_window: MainWindow) -> None:
    browser = hostile_window.browser
    for row in range(browser.model.rowCount()):
        menu = browser.table.build_cell_menu(row, 2)
        texts = [action.text() for action in menu.actions()]
        assert any(text.startswith("Filter by") for text in texts)
        assert all("\u202e" not in text and "\x00" not in text for text in texts)
        menu.grab()
        menu.deleteLater()


def test_import_report_and_error_dialogs_are_plain_text(
    qtbot: Any, hostile_window: MainWindow, hostile_store: Store, tmp_path: Path
) -> None:
    details = get_entries(hostile_store, [1])
    assert details
    from auditviewer.core.records import ImportReport, QuarantinedEntry

    report = ImportReport(
        source_id=1, location=str(tmp_path / f"{BOLD}.json"), sha256=None, parsed=1, imported=1,
        duplicates=0, conflicts=0, quarantined=1, first_created_utc=None, last_created_utc=None,
        naive_times=0, quarantine=(QuarantinedEntry(0, 1, f"bad {IMG} {RLO}"),),
    )  # fmt: skip
    dialog = ImportReportDialog([report], [(tmp_path / "x.json", f"{LINK} failed {IMG}")], False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert IMG in dialog.summary.text()
    assert dialog.summary.textFormat() == Qt.TextFormat.PlainText
    assert dialog.quarantine_table.item(0, 2).text() == visible(f"bad {IMG} {RLO}")
    dialog.grab()

    hostile_window._error(IMG, f"{IMG}\n{LINK}\n{RLO}")
    box = hostile_window.error_box
    assert isinstance(box, QMessageBox)
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert IMG in box.text()
    assert "\u202e" not in box.text()
    box.grab()
    box.close()


def test_importing_a_file_with_a_hostile_name_reports_it_literally(
    qtbot: Any, hostile_window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "<b>not json<\\b> \u202e.json"
    bad.write_text('[{"id": 1,', encoding="utf-8")
    hostile_window.import_files([bad])
    qtbot.waitUntil(lambda: hostile_window.tasks.running("import") is None, timeout=10_000)
    box = hostile_window.error_box
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert "<b>not json<\\b> \\u202e.json" in box.text()
    assert "line 1" in box.text()
    assert "Traceback" not in box.text()
    box.grab()
    box.close()
    assert not [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w.windowTitle() == "Traceback"
    ]
