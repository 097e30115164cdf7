"""The window's conventions: menus, shortcuts, state across restarts, About, welcome, start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

import auditviewer
from auditviewer.core.store.connection import Store
from auditviewer.ui.app import start_window
from auditviewer.ui.dialogs import welcome_view
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json


def open_window(
    qtbot: Any, path: Path, settings: UiSettings, view_folder: Path | None = None
) -> MainWindow:
    window = MainWindow(settings, view_folder=view_folder)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(path)
    return window


def test_window_state_persists_across_a_restart(
    qtbot: Any, filled_store: Store, tmp_path: Path
) -> None:
    ini = str(tmp_path / "state.ini")
    first = open_window(
        qtbot, filled_store.path, UiSettings(QSettings(ini, QSettings.Format.IniFormat))
    )
    first.resize(760, 650)  # the offscreen screen is 800 x 800
    qtbot.waitUntil(lambda: first.size().width() == 760)
    size = first.size()
    table = first.browser.table
    header = table.horizontalHeader()
    table.set_column_visible(5, False)
    header.moveSection(header.visualIndex(2), 0)
    header.resizeSection(1, 321)
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    first.browser.splitter.setSizes([150, 700, 261])
    sizes = first.browser.splitter.sizes()
    first.utc_action.setChecked(True)
    first.panel_actions["timeline"].setChecked(False)
    first.close()

    second = open_window(
        qtbot, filled_store.path, UiSettings(QSettings(ini, QSettings.Format.IniFormat))
    )
    table = second.browser.table
    header = table.horizontalHeader()
    assert second.size() == size
    assert header.isSectionHidden(5)
    assert header.visualIndex(2) == 0
    assert header.sectionSize(1) == 321
    assert header.sortIndicatorSection() == 1
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert second.browser.model.sort_order.column == "action"
    assert second.browser.splitter.sizes() == sizes
    assert second.utc_action.isChecked()
    assert second.browser.model.data(second.browser.model.index(0, 0)).endswith(" Z")
    assert not second.browser.timeline.isVisibleTo(second)
    second.close()


def test_menus_have_the_standard_actions_and_shortcuts(window: MainWindow) -> None:
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    assert window.copy_action.shortcut().toString() == "Ctrl+C"
    assert window.find_action.shortcut().toString() == "Ctrl+F"
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.open_action.text() == "&Open File…"
    assert window.import_action.text() == "&Import into Archive…"
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "V&iews", "&Review", "&Help"]


def test_ctrl_f_focuses_the_search_box(qtbot: Any, window: MainWindow) -> None:
    window.activateWindow()
    window.browser.table.setFocus()
    window.find_action.trigger()
    assert window.browser.filter_bar.search.hasFocus()


def test_columns_menu_hides_and_shows_columns(window: MainWindow) -> None:
    window._fill_columns_menu()
    actions = [a for a in window.columns_menu.actions() if a.isCheckable()]
    assert [a.text() for a in actions][:3] == ["Time", "Action", "Actor"]
    actions[3].setChecked(False)
    assert window.browser.table.horizontalHeader().isSectionHidden(3)
    actions[3].setChecked(True)
    assert not window.browser.table.horizontalHeader().isSectionHidden(3)


def test_about_box_shows_the_version(window: MainWindow) -> None:
    window.show_about()
    box = window._about_box
    assert auditviewer.__version__ in box.text()
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.close()


def test_recent_files_are_remembered_newest_first(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    first = write_json(tmp_path / "a&b.json", [make_entry(300)])
    second = write_json(tmp_path / "second.json", [make_entry(301)])
    for path in (first, second):
        window.import_files([path])
        qtbot.waitUntil(lambda: window.tasks.running("import") is None, timeout=10_000)
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert texts[0].endswith("second.json")
    assert texts[1].endswith("a&&b.json")
    assert texts[-1] == "Clear Recent Files"


def test_sample_data_button_follows_the_resource(
    qtbot: Any, store: Store, ui_settings: UiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(welcome_view, "sample_export_path", lambda: None)
    window = open_window(qtbot, store.path, ui_settings)
    assert window.welcome is not None
    assert not window.welcome.sample_button.isEnabled()
    window.load_sample()
    assert "no sample export" in window.error_box.text()
    window.error_box.close()
    window.close()


def test_sample_data_loads_when_shipped(
    qtbot: Any,
    store: Store,
    ui_settings: UiSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = write_json(tmp_path / "sample-export.json", [make_entry(n) for n in range(1, 6)])
    monkeypatch.setattr(welcome_view, "sample_export_path", lambda: sample)
    window = open_window(qtbot, store.path, ui_settings, tmp_path / "views")
    window.welcome.sample_button.click()
    qtbot.waitUntil(lambda: window.viewed_files == (sample,), timeout=10_000)
    assert window.pages.currentWidget() is window.browser
    assert window.browser.total_count == 5
    assert ui_settings.recent_files == []
    window.close()
    with store.raw() as connection:  # the sample is a view: the archive stays empty
        assert connection.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_the_empty_archive_offers_a_view_beside_the_import(
    qtbot: Any,
    store: Store,
    ui_settings: UiSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = write_json(tmp_path / "colleague.json", [make_entry(n) for n in range(1, 4)])
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(export)], ""))
    window = open_window(qtbot, store.path, ui_settings, tmp_path / "views")
    assert window.welcome is not None
    assert window.welcome.open_button.text() == "Import into Archive…"
    window.welcome.view_button.click()
    qtbot.waitUntil(lambda: window.viewed_files == (export,), timeout=10_000)
    assert window.browser is not None
    assert window.browser.total_count == 3
    window.close()
    with store.raw() as connection:
        assert connection.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_start_window_shows_first_then_opens_the_files_in_a_view(
    qtbot: Any, tmp_path: Path
) -> None:
    export = write_json(tmp_path / "start.json", [make_entry(n) for n in range(1, 4)])
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    archive = tmp_path / "new-store.sqlite"
    window = start_window(archive, [export], settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    assert window.isVisible()
    assert window.store is None
    qtbot.waitUntil(
        lambda: window.browser is not None and window.browser.total_count == 3, timeout=15_000
    )
    assert window.viewed_files == (export,)
    assert window.archive_path == archive
    assert not archive.exists()
    window.close()


def test_start_window_without_files_opens_the_store_last_chosen(
    qtbot: Any, filled_store: Store, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    UiSettings(settings).last_store = filled_store.path
    window = start_window(None, [], settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.browser is not None, timeout=15_000)
    assert window.store is not None
    assert window.store.path == filled_store.path.resolve()
    window.close()


def test_unusable_store_is_reported_in_the_window(
    qtbot: Any, tmp_path: Path, ui_settings: UiSettings
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    assert not window.open_store(folder)
    assert "folder" in window.error_box.text()
    window.error_box.close()


def test_importing_the_gui_module_loads_no_database_code() -> None:
    code = (
        "import sys; import auditviewer.ui.app; "
        "heavy = ['sqlalchemy', 'auditviewer.core.store.connection']; "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_none_refcount_stays_stable_across_many_qt_calls(window: MainWindow) -> None:
    # PySide6 6.12.0 on Python 3.11 leaked a reference to None on most void Qt calls, until
    # the process died with "none_dealloc". A leak shows as steady growth here.
    browser = window.browser
    label = window.status_label
    table = browser.table
    for _ in range(200):  # warm caches
        label.setText("x")
        table.update()
    before = sys.getrefcount(None)
    for round_ in range(20_000):
        label.setText("x")
        table.update()
        table.viewport().update()
        browser.timeline.set_selection(None, None)
        if round_ % 1000 == 0:
            QApplication.processEvents()
    growth = sys.getrefcount(None) - before
    assert growth < 1000, f"None gained {growth} references over 80,000 Qt calls"


def test_a_read_only_store_is_browsed_and_never_added_to(
    qtbot: Any, filled_store: Store, ui_settings: UiSettings
) -> None:
    path = filled_store.path
    filled_store.close()
    path.chmod(0o444)
    before = path.read_bytes()
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(path)
    assert window.store is not None
    assert window.store.read_only
    assert "(read-only)" in window.windowTitle()
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.total_count == 10)
    assert not window.import_action.isEnabled()
    assert not window.sync_action.isEnabled()
    assert window.export_action.isEnabled()
    assert window.tasks.running("index") is None
    window.close()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [
        path.name
    ]
