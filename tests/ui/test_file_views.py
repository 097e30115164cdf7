"""Opening a file is not archiving it: views, the banner, Add to Archive, switching stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from auditviewer.core.store import file_views
from auditviewer.core.store.connection import Store
from auditviewer.ui.main_window import MainWindow
from tests.conftest import make_entry, write_json
from tests.ui.conftest import wait_for_aggregates


def archive_state(path: Path) -> tuple[object, ...]:
    """What the archive holds: every entry's identity and every source (read-only)."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return (
            connection.execute("SELECT seq, entry_key, chain_sha256 FROM entry_texts").fetchall(),
            connection.execute("SELECT id, kind, location, sha256 FROM sources").fetchall(),
        )
    finally:
        connection.close()


def export(tmp_path: Path, name: str = "export.json", count: int = 4) -> Path:
    """An export whose entries are not in the filled store."""
    return write_json(tmp_path / name, [make_entry(n) for n in range(900, 900 + count)])


def open_view(qtbot: Any, window: MainWindow, *files: Path) -> None:
    """Opens ``files`` as a view and waits until it is shown."""
    assert window.open_files(list(files))
    qtbot.waitUntil(lambda: window.viewed_files == files, timeout=15_000)
    assert window.browser is not None
    wait_for_aggregates(qtbot, window.browser)


def wait_for_box(qtbot: Any, window: MainWindow, name: str) -> QMessageBox:
    qtbot.waitUntil(lambda: getattr(window, name, None) is not None, timeout=15_000)
    box: QMessageBox = getattr(window, name)
    return box


def button(box: QMessageBox, text: str) -> Any:
    return next(b for b in box.buttons() if b.text().replace("&", "") == text)


def test_opening_a_file_shows_a_view_and_leaves_the_archive_unchanged(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    archive = filled_store.path
    before = archive_state(archive)
    path = export(tmp_path)
    assert window.windowTitle() == "store.sqlite — auditviewer"
    assert not window.banner.isVisible()
    open_view(qtbot, window, path)
    assert window.browser is not None
    assert window.browser.total_count == 4
    assert window.banner.isVisible()
    assert window.banner.text == "Viewing export.json — not in your archive"
    assert window.windowTitle() == "export.json (view) — auditviewer"
    assert window.store is not None
    assert window.store.path.parent == tmp_path / "views"
    assert not window.sync_action.isEnabled()
    assert window.archive_path == archive
    window.close()
    assert archive_state(archive) == before


def test_reopening_the_same_file_reuses_its_view(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export(tmp_path)
    open_view(qtbot, window, path)
    assert window.store is not None
    first = window.store.path
    assert window.back_to_archive()
    assert window.viewed_files == ()
    assert window.windowTitle() == "store.sqlite — auditviewer"
    imported: list[object] = []
    monkeypatch.setattr(file_views, "import_file", lambda *args, **_: imported.append(args))
    open_view(qtbot, window, path)
    assert window.store.path == first
    assert imported == []
    assert window.browser is not None
    assert window.browser.total_count == 4
    assert "Viewing export.json" in window.statusBar().currentMessage()


def test_add_to_archive_imports_exactly_that_file_after_confirmation(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    archive = filled_store.path
    entries_before, sources_before = archive_state(archive)
    path = export(tmp_path, count=3)
    open_view(qtbot, window, path)
    window.banner.add_button.click()
    confirm = wait_for_box(qtbot, window, "archive_box")
    assert str(archive) in confirm.text()
    assert "for good" in confirm.text()
    button(confirm, "Add to Archive").click()
    offer = wait_for_box(qtbot, window, "switch_box")
    assert "3 entries of export.json added to the archive" in offer.text()
    entries, sources = archive_state(archive)
    assert len(entries) == len(entries_before) + 3  # type: ignore[arg-type]
    new_sources = [s for s in sources if s not in sources_before]  # type: ignore[attr-defined]
    assert [(kind, location) for _, kind, location, _ in new_sources] == [
        ("file", str(path.resolve()))
    ]
    assert window.viewed_files == (path,)  # the view stays until the user switches
    offer.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.viewed_files == (), timeout=10_000)
    assert window.windowTitle() == "store.sqlite — auditviewer"
    assert not window.banner.isVisible()
    assert window.browser is not None
    assert window.browser.total_count == 13


def test_cancelling_add_to_archive_changes_nothing(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    before = archive_state(filled_store.path)
    open_view(qtbot, window, export(tmp_path))
    window.add_to_archive()
    confirm = wait_for_box(qtbot, window, "archive_box")
    confirm.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(200)
    assert window.tasks.jobs == []
    assert window.archive_store is None
    assert window.viewed_files != ()
    window.close()
    assert archive_state(filled_store.path) == before


def test_new_and_open_store_switch_archives_and_the_title_follows(
    qtbot: Any,
    window: MainWindow,
    filled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new = tmp_path / "other" / "second.sqlite"
    new.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(new), ""))
    window.choose_new_store()
    assert window.store is not None
    assert window.store.path == new
    assert window.windowTitle() == "second.sqlite — auditviewer"
    assert window.archive_path == new
    assert window.settings.last_store == new.resolve()
    assert window.welcome is not None
    assert window.pages.currentWidget() is window.welcome
    original = filled_store.path
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(original), ""))
    window.choose_store()
    assert window.store.path == original
    assert window.windowTitle() == "store.sqlite — auditviewer"
    assert window.settings.last_store == original.resolve()
    assert window.browser is not None
    assert window.browser.total_count == 10


def test_new_store_refuses_an_existing_file_that_is_not_a_store(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes", encoding="utf-8")
    assert not window.switch_store(notes, create=True)
    assert notes.read_text(encoding="utf-8") == "my notes"
    assert "not an auditviewer store" in window.error_box.text()
    assert window.store is not None
    assert window.store.path == filled_store.path
    assert window.settings.last_store is None
    window.error_box.close()
    assert not window.switch_store(notes, create=False)
    assert notes.read_text(encoding="utf-8") == "my notes"
    window.error_box.close()


def test_a_hostile_file_name_is_plain_text_in_the_banner_and_title(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    name = "line\nbreak <b>bold<i> \u202eevil[*].json"
    path = export(tmp_path, name)
    open_view(qtbot, window, path)
    labels = (window.banner.viewing, window.banner.name_label, window.banner.note)
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    shown = window.banner.name_label.full_text
    assert "\\n" in shown
    assert "\\u202e" in shown
    assert "<b>bold<i>" in shown
    assert "\n" not in window.banner.text
    assert "\u202e" not in window.banner.text
    title = window.windowTitle()
    assert title.endswith("(view) — auditviewer")
    assert "\n" not in title
    assert "\u202e" not in title
    assert "<b>bold<i>" in title
    assert window.windowHandle().title().count("evil[*].json") == 1
    tooltip = window.banner.name_label.toolTip()
    assert "&lt;b&gt;" in tooltip
    assert "<b>" not in tooltip


def test_a_long_file_name_is_elided_in_the_middle_with_the_path_in_the_tooltip(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    name = "organization-audit-log-" + "x" * 150 + "-end.json"
    path = export(tmp_path, name)
    open_view(qtbot, window, path)
    window.resize(900, 700)
    qtbot.waitUntil(lambda: "…" in window.banner.name_label.text())
    shown = window.banner.name_label.text()
    assert shown.startswith("organization-audit")
    assert shown.endswith("-end.json")
    assert str(path) in window.banner.name_label.toolTip()
    banner = window.banner
    assert banner.add_button.geometry().right() <= banner.contentsRect().right()
    assert banner.note.isVisible()


def test_several_files_open_as_one_view(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    first = export(tmp_path, "first.json", 2)
    second = write_json(tmp_path / "second.json", [make_entry(n) for n in range(950, 953)])
    open_view(qtbot, window, first, second)
    assert window.browser is not None
    assert window.browser.total_count == 5
    assert window.windowTitle() == "first.json and 1 more file (view) — auditviewer"


def test_dropping_files_opens_them_as_a_view(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    before = archive_state(filled_store.path)
    path = export(tmp_path, "dropped.json", 1)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    message = window.statusBar().currentMessage()
    assert message == "Drop to view dropped.json — it is not added to your archive"
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.viewed_files == (path,), timeout=15_000)
    assert window.browser is not None
    assert window.browser.total_count == 1
    window.close()
    assert archive_state(filled_store.path) == before


def test_a_rejected_file_opens_no_view_and_says_nothing_was_added(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1,', encoding="utf-8")
    assert window.open_files([bad])
    qtbot.waitUntil(lambda: getattr(window, "error_box", None) is not None, timeout=15_000)
    assert "bad.json" in window.error_box.text()
    assert "Nothing was added to your archive" in window.error_box.text()
    assert window.viewed_files == ()
    assert window.store is not None
    assert window.store.path == filled_store.path
    assert list((tmp_path / "views").iterdir()) == []
    window.error_box.close()


def test_remove_cached_views_keeps_the_view_on_screen(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    open_view(qtbot, window, export(tmp_path, "one.json", 1))
    open_view(qtbot, window, export(tmp_path, "two.json", 2))
    assert window.store is not None
    shown = window.store.path
    assert len(list((tmp_path / "views").glob("*.sqlite"))) == 2
    window.remove_cached_views()
    box = wait_for_box(qtbot, window, "remove_box")
    assert "Remove 1 cached view " in box.text()
    assert str(tmp_path / "views") in box.text()
    button(box, "Remove").click()
    assert list((tmp_path / "views").glob("*.sqlite")) == [shown]
    assert window.browser is not None
    assert window.browser.total_count == 2


def test_import_into_archive_from_a_view_says_so_and_imports_into_the_archive(
    qtbot: Any,
    window: MainWindow,
    filled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_view(qtbot, window, export(tmp_path, "viewed.json", 1))
    chosen = export(tmp_path, "chosen.json", 2)
    captions: list[str] = []

    def choose(_parent: object, caption: str, *_: object) -> tuple[list[str], str]:
        captions.append(caption)
        return [str(chosen)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", choose)
    window.import_action.trigger()
    assert "kept in the archive for good" in captions[0]
    assert window.viewed_files == ()
    qtbot.waitUntil(lambda: window.report_dialog is not None, timeout=15_000)
    assert window.store is not None
    assert window.store.path == filled_store.path
    entries, _ = archive_state(filled_store.path)
    assert len(entries) == 12  # type: ignore[arg-type]


def test_open_recent_opens_the_file_as_a_view(
    qtbot: Any, window: MainWindow, filled_store: Store, tmp_path: Path
) -> None:
    before = archive_state(filled_store.path)
    path = export(tmp_path, "recent.json", 2)
    open_view(qtbot, window, path)
    assert window.back_to_archive()
    window.recent_menu.aboutToShow.emit()
    (action,) = [a for a in window.recent_menu.actions() if a.text().endswith("recent.json")]
    action.trigger()
    qtbot.waitUntil(lambda: window.viewed_files == (path.resolve(),), timeout=15_000)
    window.close()
    assert archive_state(filled_store.path) == before
