"""File > Verify Store…: the check in the background, its result as plain text, the repair."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.dialogs.verify_dialog import (
    INDEX_ONLY,
    INDEX_ONLY_EXPLAINED,
    INTACT,
    NOT_REPAIRABLE,
    NOT_REPAIRABLE_EXPLAINED,
    REBUILT,
    VerifyDialog,
)
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json
from tests.core.evidence.test_store_check import flip_index_byte
from tests.ui.conftest import HOSTILE

ENTRIES = 2000


@pytest.fixture
def big_store_path(tmp_path: Path) -> Path:
    """A closed store whose key index spans many pages."""
    path = tmp_path / "big.sqlite"
    with Store.open(path) as store:
        import_file(
            store, write_json(tmp_path / "big.json", [make_entry(n) for n in range(ENTRIES)])
        )
    return path


def _open(qtbot: Any, path: Path, settings: UiSettings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(path)
    qtbot.waitUntil(lambda: window.tasks.running("index") is None, timeout=20_000)
    return window


@pytest.fixture
def big_window(qtbot: Any, big_store_path: Path, ui_settings: UiSettings) -> Iterator[MainWindow]:
    window = _open(qtbot, big_store_path, ui_settings)
    yield window
    window.close()


def _verify(qtbot: Any, window: MainWindow) -> VerifyDialog:
    window.verify_action.trigger()
    dialog = window.verify_dialog
    assert dialog is not None
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    return dialog


def test_verify_is_in_the_file_menu(window: MainWindow) -> None:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert window.verify_action in menus["&File"].actions()
    assert window.verify_action.text() == "&Verify Store…"
    assert window.verify_action.isEnabled()


def test_intact_store_is_reported_intact(qtbot: Any, window: MainWindow) -> None:
    dialog = _verify(qtbot, window)
    assert dialog.status.text() == INTACT
    assert dialog.result_text.toPlainText().startswith("OK: 10 entries")
    assert not dialog.rebuild_button.isVisible()


def test_imports_wait_while_the_store_is_checked(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    export = write_json(tmp_path / "later.json", [make_entry(n) for n in range(50, 53)])
    window.verify_action.trigger()
    dialog = window.verify_dialog
    assert dialog is not None
    assert window.verifying
    assert not window.sync_action.isEnabled()
    window.import_files([export], remember=False)
    assert window.tasks.running("import") is None
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert window.browser is not None
    qtbot.waitUntil(lambda: window.browser.total_count == 13, timeout=30_000)


def test_damaged_index_is_offered_a_rebuild_that_repairs_it(
    qtbot: Any, big_store_path: Path, ui_settings: UiSettings, tmp_path: Path
) -> None:
    flip_index_byte(big_store_path, "entry_texts_key")
    window = _open(qtbot, big_store_path, ui_settings)
    try:
        dialog = _verify(qtbot, window)
        assert dialog.status.text() == INDEX_ONLY
        assert dialog.result_text.toPlainText().startswith(INDEX_ONLY_EXPLAINED)
        assert "index entry_texts_key" in dialog.result_text.toPlainText()
        assert dialog.rebuild_button.isVisible()
        assert dialog.rebuild_button.isEnabled()
        assert dialog.grab().save(str(tmp_path / "verify.png"))

        # While the rebuild writes, an import waits for it, then runs.
        export = write_json(
            tmp_path / "more.json", [make_entry(n) for n in range(ENTRIES, ENTRIES + 5)]
        )
        dialog.rebuild_button.click()
        assert window.verifying
        assert not window.sync_action.isEnabled()
        window.import_files([export], remember=False)
        assert window.tasks.running("import") is None
        qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
        assert dialog.status.text() == REBUILT
        assert not dialog.rebuild_button.isVisible()
        qtbot.waitUntil(
            lambda: window.tasks.running("import") is None and not window.tasks.queued_files,
            timeout=30_000,
        )
        assert window.browser is not None
        qtbot.waitUntil(lambda: window.browser.total_count == ENTRIES + 5, timeout=10_000)
    finally:
        window.close()


def test_damage_to_the_entries_is_not_offered_a_rebuild(
    qtbot: Any, filled_store: Store, ui_settings: UiSettings
) -> None:
    with filled_store.raw() as connection:
        connection.execute("DROP TRIGGER entry_texts_refuse_update")
        connection.execute(
            "UPDATE entry_texts SET entry_key = ?, raw = raw || ' ' WHERE seq = 4", (HOSTILE,)
        )
    window = _open(qtbot, filled_store.path, ui_settings)
    try:
        dialog = _verify(qtbot, window)
        assert dialog.status.text() == NOT_REPAIRABLE
        text = dialog.result_text.toPlainText()
        assert text.startswith(NOT_REPAIRABLE_EXPLAINED)
        assert f"entry seq 4 (id {HOSTILE})" in text  # shown literally, never as rich text
        assert not dialog.rebuild_button.isVisible()
    finally:
        window.close()


def test_check_can_be_cancelled(qtbot: Any, big_window: MainWindow) -> None:
    dialog = _verify(qtbot, big_window)
    dialog.full_check.setChecked(True)
    dialog.start_check()
    assert dialog.running
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.status.text() == "Check cancelled."
    assert dialog.verify_button.isEnabled()
