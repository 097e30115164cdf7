"""Import and export from the window: in workers, with cancel, and round-tripping exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import EntryQuery, get_entries
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.dialogs.export_dialog import ExportDialog
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.tasks.jobs import ExportRequest
from tests.conftest import make_entry, write_json


def stored_seqs(store: Store) -> list[int]:
    with EntryQuery(store, Filter()) as query:
        return list(query.iter_seqs())


def wait_idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(
        lambda: window.tasks.running("import") is None and window.tasks.running("export") is None,
        timeout=30_000,
    )


def test_import_runs_in_a_worker_and_reports(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "more.json", [make_entry(n) for n in range(100, 130)] + [[1, 2]])
    window.import_files([path])
    assert window.tasks.running("import") is not None
    assert window.task_progress.isVisible()
    wait_idle(qtbot, window)
    assert not window.task_progress.isVisible()
    dialog = window.report_dialog
    assert dialog is not None
    assert "30 new entries" in dialog.summary.text()
    assert "1 quarantined" in dialog.summary.text()
    assert window.browser.total_count == 41
    assert "41 of 41 entries" in window.status_label.text()
    dialog.show_quarantined_button.click()
    assert window.browser.current_filter.quarantined is True
    assert window.browser.model.rowCount() == 1
    assert window.settings.recent_files[0] == path.resolve()


def test_cancelled_import_leaves_the_store_unchanged(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    before = stored_seqs(filled_store)
    big = write_json(tmp_path / "big.json", [make_entry(n) for n in range(1000, 13_000)])
    window.import_files([big])
    window.task_progress.cancel_button.click()
    wait_idle(qtbot, window)
    assert stored_seqs(filled_store) == before
    assert window.browser.total_count == len(before)
    assert window.report_dialog is not None
    assert "cancelled" in window.report_dialog.summary.text()


def test_rejected_file_names_file_and_position(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('[\n  {"id": 1},\n  {"id": 2,,}\n]', encoding="utf-8")
    window.import_files([bad])
    wait_idle(qtbot, window)
    text = window.error_box.text()
    assert "broken.json" in text
    assert "line 3" in text
    assert "Nothing of the file was imported; the store is as it was." in text
    assert window.error_box.windowTitle() == "The file was not imported"
    assert "Traceback" not in text
    window.error_box.close()


def test_counts_in_the_report_and_the_status_bar_take_their_plural(
    qtbot: Any, store: Store, ui_settings: UiSettings, tmp_path: Path
) -> None:
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    first = make_entry(1)
    conflicting = make_entry(1, action="cohort.update")
    window.import_files([write_json(tmp_path / "a.json", [first, conflicting])])
    wait_idle(qtbot, window)
    assert window.report_dialog is not None
    summary = window.report_dialog.summary.text()
    assert summary.startswith("1 file imported: 1 new entry, 0 already stored, 1 conflict,")
    window.report_dialog.close()
    assert window.browser is not None
    window.browser.set_filter(Filter(seqs=(1,)))
    assert "1 of 2 entries" in window.status_label.text()
    window.close()


def test_a_report_of_two_files_and_a_rejected_one_says_what_was_not_imported(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    good = [write_json(tmp_path / f"g{n}.json", [make_entry(900 + n)]) for n in range(2)]
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    window.import_files([*good, bad])
    wait_idle(qtbot, window)
    assert window.report_dialog is not None
    summary = window.report_dialog.summary.text()
    assert summary.startswith("2 files imported: 2 new entries, 0 already stored, 0 conflicts,")
    assert "bad.json" in summary
    assert "Nothing of the file was imported" in summary
    window.report_dialog.close()


def test_export_of_a_selection_reimports_identically(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    browser = window.browser
    table = browser.table
    table.selectRow(1)
    for row in (3, 4, 7):
        table.selectionModel().select(
            browser.model.index(row, 0),
            table.selectionModel().SelectionFlag.Select | table.selectionModel().SelectionFlag.Rows,
        )
    selected = browser.selected_seqs()
    assert len(selected) == 4
    target = tmp_path / "evidence.json"
    window.start_export(ExportRequest(target, "json", selected_only=True))
    wait_idle(qtbot, window)
    assert target.is_file()
    originals = {d.raw for d in get_entries(filled_store, selected)}

    again = Store.open(tmp_path / "again.sqlite")
    try:
        report = import_file(again, target)
        assert report.imported == 4
        reimported = {d.raw for d in get_entries(again, stored_seqs(again))}
    finally:
        again.close()
    assert reimported == originals
    assert "Exported 4 entries" in window.statusBar().currentMessage()


def test_export_of_the_filter_as_csv(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    window.browser.set_filter(Filter(projects=("gateway",)))
    target = tmp_path / "gateway.csv"
    window.start_export(ExportRequest(target, "csv", selected_only=False))
    wait_idle(qtbot, window)
    lines = target.read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) == 1 + 4


def test_export_dialog_offers_selection_or_filter(qtbot: Any, tmp_path: Path) -> None:
    dialog = ExportDialog(3, 120, str(tmp_path))
    qtbot.addWidget(dialog)
    assert "3" in dialog.selected_radio.text()
    assert "120" in dialog.matching_radio.text()
    assert dialog.selected_radio.isChecked()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("csv"))
    request = dialog.request()
    assert request is not None
    assert request.format == "csv"
    assert request.path.suffix == ".csv"
    assert request.selected_only
    assert ExportDialog(0, 5, str(tmp_path)).matching_radio.isChecked()


def test_ctrl_c_copies_selected_entries_as_json(
    qtbot: Any, window: MainWindow, filled_store: Store
) -> None:
    browser = window.browser
    browser.table.setFocus()
    browser.table.selectRow(0)
    browser.table.selectionModel().select(
        browser.model.index(2, 0),
        browser.table.selectionModel().SelectionFlag.Select
        | browser.table.selectionModel().SelectionFlag.Rows,
    )
    qtbot.keyClick(browser.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = json.loads(QGuiApplication.clipboard().text())
    expected = [json.loads(d.raw) for d in get_entries(filled_store, browser.selected_seqs())]
    assert copied == expected
    assert "2 selected" in window.status_label.text() or "Copied 2" in window.status_label.text()


def test_search_field_keeps_its_own_copy(qtbot: Any, window: MainWindow) -> None:
    search = window.browser.filter_bar.search
    search.setText("project:gateway")
    search.setFocus()
    search.selectAll()
    QApplication.clipboard().clear()
    qtbot.keyClick(search, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "project:gateway"


def test_empty_store_shows_the_welcome_view(
    qtbot: Any, store: Store, ui_settings: UiSettings
) -> None:
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    assert window.pages.currentWidget() is window.welcome
    assert window.welcome.open_button.isEnabled()
    assert window.welcome.sync_button.isEnabled()
    window.close()


def test_text_index_is_built_in_the_background_after_opening(
    qtbot: Any, window: MainWindow, filled_store: Store
) -> None:
    from auditviewer.core.querying.window import store_stats

    qtbot.waitUntil(lambda: window.tasks.running("index") is None, timeout=10_000)
    stats = store_stats(filled_store)
    assert stats.fts_indexed_upto == stats.last_seq
    window.browser.set_filter(Filter(text=("gateway",)))
    assert window.browser.model.rowCount() == 4


def test_an_import_pauses_indexing_and_indexing_resumes_after(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    from auditviewer.core.querying.window import store_stats

    window.import_files(
        [write_json(tmp_path / "later.json", [make_entry(n) for n in range(50, 60)])]
    )
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.tasks.running("index") is None, timeout=10_000)
    stats = store_stats(filled_store)
    assert stats.last_seq == 20
    assert stats.fts_indexed_upto == 20
