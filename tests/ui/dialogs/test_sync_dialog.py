"""The Sync dialog and the background sync, against the real emulator on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.sync import SyncConfig, sync_status
from auditviewer.core.sync import client as client_module
from auditviewer.core.sync.token_store import SERVICE_NAME, account_name
from auditviewer.ui.dialogs.sync_dialog import (
    NO_KEYRING_NOTE,
    SESSION_PLACEHOLDER,
    STORED_PLACEHOLDER,
    SyncDialog,
)
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import write_json
from tests.support.emulator import AuditLogEmulator
from tests.support.fake_keyring import MemoryKeyring
from tests.ui.conftest import HOSTILE, varied_entries

CANARY = "canary-7f3a9c1e-SECRET-token"
ENTRIES = 120
PER_PAGE = 25  # 5 pages
WAIT = 20_000


@pytest.fixture
def emulator() -> Iterator[AuditLogEmulator]:
    with AuditLogEmulator(entries=ENTRIES, token=CANARY) as server:
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def empty_window(
    qtbot: Any, store: Store, ui_settings: UiSettings, memory_keyring: MemoryKeyring
) -> Iterator[MainWindow]:
    """The main window over an empty store (its own connection), keyring in memory."""
    main = MainWindow(ui_settings)
    qtbot.addWidget(main)
    main.show()
    assert main.open_store(store.path)
    yield main
    main.close()


def open_dialog(window: MainWindow) -> SyncDialog:
    window.show_sync_dialog()
    assert window.sync_controller is not None
    dialog = window.sync_controller.dialog
    assert dialog is not None
    assert dialog.isVisible()
    return dialog


def fill(
    dialog: SyncDialog,
    server: AuditLogEmulator,
    token: str = CANARY,
    *,
    org: str = "acme",
    project: str = "",
    path: str | None = None,
    remember: bool = True,
) -> None:
    dialog.base_edit.setText(server.base_url)
    dialog.org_edit.setText(org)
    dialog.project_edit.setText(project)
    dialog.advanced_button.setChecked(True)
    dialog.per_page_spin.setValue(PER_PAGE)
    if path is not None:
        dialog.path_edit.setText(path)
    dialog.token_edit.setText(token)
    dialog.remember_check.setChecked(remember)
    dialog.org_edit.editingFinished.emit()


def run_sync(qtbot: Any, window: MainWindow, dialog: SyncDialog) -> None:
    dialog.sync_button.click()
    assert window.syncing
    qtbot.waitUntil(lambda: not window.syncing, timeout=WAIT)


def stored_count(store: Store) -> int:
    with store.raw() as connection:
        return int(connection.execute("SELECT count(*) FROM entry_view").fetchone()[0])


def stored_identity(store: Store) -> list[tuple[str, str]]:
    with store.raw() as connection:
        rows = connection.execute("SELECT entry_key, raw_sha256 FROM entry_view").fetchall()
    return sorted((key, digest.hex()) for key, digest in rows)


def server_identity(server: AuditLogEmulator) -> list[tuple[str, str]]:
    return sorted(
        (str(json.loads(text)["id"]), hashlib.sha256(text.encode()).hexdigest())
        for text in server.entry_texts()
    )


def config_of(server: AuditLogEmulator) -> SyncConfig:
    return SyncConfig(org="acme", base_url=server.base_url, per_page=PER_PAGE)


def shown_texts(widget: QWidget | None = None) -> list[str]:
    """Every text a user could see or a screen reader read, in every widget that exists."""
    widgets = (
        QApplication.allWidgets() if widget is None else [widget, *widget.findChildren(QWidget)]
    )
    texts: list[str] = []
    for item in widgets:
        texts += [item.windowTitle(), item.toolTip(), item.statusTip(), item.whatsThis()]
        texts += [item.accessibleName(), item.accessibleDescription()]
        if isinstance(item, QLabel):
            texts.append(item.text())
        if isinstance(item, QAbstractButton):
            texts.append(item.text())
        if isinstance(item, QLineEdit):
            texts += [item.displayText(), item.placeholderText()]
        if isinstance(item, QMessageBox):
            texts += [item.text(), item.informativeText(), item.detailedText()]
        if isinstance(item, QMainWindow):
            texts.append(item.statusBar().currentMessage())
    return texts


def test_sync_from_the_welcome_view_fills_the_store_and_the_table_as_pages_land(
    qtbot: Any,
    empty_window: MainWindow,
    store: Store,
    emulator: AuditLogEmulator,
    memory_keyring: MemoryKeyring,
) -> None:
    window = empty_window
    assert window.welcome is not None
    assert window.pages.currentWidget() is window.welcome
    assert window.welcome.sync_button.isEnabled()
    assert window.sync_action.isEnabled()
    window.welcome.sync_button.click()
    assert window.sync_controller is not None
    dialog = window.sync_controller.dialog
    assert dialog is not None
    fill(dialog, emulator)
    assert "has not been synced" in dialog.status_label.text()
    emulator.stall(3.0, page=3)  # hold the sync after two pages

    dialog.sync_button.click()
    assert window.syncing
    assert not window.sync_action.isEnabled()
    assert window.task_progress.isVisible()
    browser = window.browser
    assert browser is not None
    # The table shows the first pages while the sync is still running.
    qtbot.waitUntil(lambda: browser.total_count == 2 * PER_PAGE, timeout=WAIT)
    assert window.syncing
    assert window.pages.currentWidget() is browser
    assert browser.model.rowCount() == 2 * PER_PAGE
    assert "page" in window.task_progress.label.text()

    qtbot.waitUntil(lambda: not window.syncing, timeout=WAIT)
    assert stored_count(store) == ENTRIES
    assert stored_identity(store) == server_identity(emulator)
    assert browser.total_count == ENTRIES
    assert browser.model.rowCount() == ENTRIES
    assert not window.task_progress.isVisible()
    assert window.sync_action.isEnabled()
    assert f"{ENTRIES:,} new" in window.statusBar().currentMessage()
    assert window.sync_controller.error_box is None
    # The server accepted the token, and Remember was on: it is in the keyring.
    account = account_name(emulator.base_url, "acme")
    assert memory_keyring.secrets == {(SERVICE_NAME, account): CANARY}

    # The dialog remembers the fields and the last sync, and uses the stored token.
    dialog = open_dialog(window)
    assert dialog.base_edit.text() == emulator.base_url
    assert dialog.org_edit.text() == "acme"
    assert dialog.per_page_spin.value() == PER_PAGE
    assert dialog.token_edit.text() == ""
    assert dialog.token_edit.placeholderText() == STORED_PLACEHOLDER
    assert "Last successful sync of acme:" in dialog.status_label.text()
    assert not dialog.forget_button.isHidden()
    emulator.add_entries(7)
    run_sync(qtbot, window, dialog)
    assert window.sync_controller.error_box is None
    assert stored_count(store) == ENTRIES + 7
    assert browser.total_count == ENTRIES + 7
    assert "7 new" in window.statusBar().currentMessage()


def test_a_selected_entry_stays_selected_on_every_page_a_sync_adds(
    qtbot: Any,
    store: Store,
    ui_settings: UiSettings,
    emulator: AuditLogEmulator,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    import_file(store, write_json(tmp_path / "local.json", varied_entries()))
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    browser = window.browser
    assert browser is not None
    browser.table.selectRow(4)
    chosen = browser.selected_seqs()
    kept: list[list[int]] = []
    # Connected after the browser's own handler: sees the rows as the user does.
    browser.model.modelReset.connect(lambda: kept.append(browser.selected_seqs()))
    dialog = open_dialog(window)
    fill(dialog, emulator)
    run_sync(qtbot, window, dialog)
    assert window.sync_controller is not None
    assert window.sync_controller.error_box is None
    assert browser.total_count == ENTRIES + len(varied_entries())
    assert len(kept) >= 2  # while pages land, and once the sync ends
    assert all(seqs == chosen for seqs in kept)
    assert browser.selected_seqs() == chosen
    window.close()


def test_file_menu_has_sync(empty_window: MainWindow) -> None:
    file_menu = empty_window.menuBar().actions()[0].menu()
    assert empty_window.sync_action in file_menu.actions()
    assert empty_window.sync_action.text() == "S&ync…"


def test_wrong_token_shows_the_auth_message_and_stores_nothing(
    qtbot: Any,
    empty_window: MainWindow,
    store: Store,
    emulator: AuditLogEmulator,
    memory_keyring: MemoryKeyring,
) -> None:
    window = empty_window
    dialog = open_dialog(window)
    fill(dialog, emulator, "not-the-right-token")
    run_sync(qtbot, window, dialog)
    assert window.sync_controller is not None
    box = window.sync_controller.error_box
    assert box is not None
    assert box.isVisible()
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert box.windowTitle() == "The server refused the token"
    assert "refused the token (401 Unauthorized)" in box.text()
    assert "Traceback" not in box.text()
    assert "not-the-right-token" not in box.text()
    assert stored_count(store) == 0
    assert memory_keyring.secrets == {}  # a refused token is never kept
    assert window.pages.currentWidget() is window.welcome
    assert window.sync_action.isEnabled()
    box.close()


def test_a_server_that_cannot_be_reached_is_named_in_the_error(
    qtbot: Any,
    empty_window: MainWindow,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "jittered_backoff", lambda *_: 0.0)
    server = AuditLogEmulator(entries=1, token=CANARY)
    server.stop()  # nothing listens on its port any more
    dialog = open_dialog(empty_window)
    fill(dialog, server)
    run_sync(qtbot, empty_window, dialog)
    assert empty_window.sync_controller is not None
    box = empty_window.sync_controller.error_box
    assert box is not None
    assert f"cannot connect to the server 127.0.0.1:{server.port}" in box.text()
    assert "Traceback" not in box.text()
    assert stored_count(store) == 0
    box.close()


def test_cancel_mid_sync_leaves_a_resumable_store(
    qtbot: Any, empty_window: MainWindow, store: Store, emulator: AuditLogEmulator
) -> None:
    window = empty_window
    dialog = open_dialog(window)
    fill(dialog, emulator)
    emulator.stall(3.0, page=3)
    dialog.sync_button.click()
    browser = window.browser
    assert browser is not None
    qtbot.waitUntil(lambda: browser.total_count == 2 * PER_PAGE, timeout=WAIT)
    window.task_progress.cancel_button.click()
    assert window.task_progress.label.text() == "Cancelling…"
    qtbot.waitUntil(lambda: not window.syncing, timeout=WAIT)
    assert window.sync_controller is not None
    assert window.sync_controller.error_box is None
    assert "Sync cancelled" in window.statusBar().currentMessage()
    assert stored_count(store) == 2 * PER_PAGE
    status = sync_status(store, config_of(emulator))
    assert status.in_progress
    assert status.resume_offset == 2 * PER_PAGE
    assert status.last_success_utc is None

    dialog = open_dialog(window)
    assert "will resume where it stopped" in dialog.status_label.text()
    run_sync(qtbot, window, dialog)
    assert window.sync_controller.error_box is None
    report = window.sync_controller.last_report
    assert report is not None
    assert report.resumed
    assert report.complete
    assert stored_identity(store) == server_identity(emulator)
    assert browser.total_count == ENTRIES
    assert not sync_status(store, config_of(emulator)).in_progress


def test_test_connection_reports_the_count_and_keeps_only_an_accepted_token(
    qtbot: Any,
    empty_window: MainWindow,
    store: Store,
    emulator: AuditLogEmulator,
    memory_keyring: MemoryKeyring,
) -> None:
    dialog = open_dialog(empty_window)
    fill(dialog, emulator, "wrong-token")
    dialog.test_button.click()
    assert not dialog.test_button.isEnabled()
    assert not dialog.sync_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
    assert "refused the token" in dialog.result_label.text()
    assert memory_keyring.secrets == {}

    dialog.token_edit.setText(CANARY)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
    text = dialog.result_label.text()
    assert f"Connected: the audit log of 'acme' holds {ENTRIES:,} entries." in text
    assert "stored in the system keyring" in text
    assert list(memory_keyring.secrets.values()) == [CANARY]
    assert dialog.token_edit.placeholderText() == STORED_PLACEHOLDER
    assert stored_count(store) == 0  # a test fetches, it never stores

    # With Remember off, a new token is tested but not kept.
    dialog.forget_button.click()
    assert memory_keyring.secrets == {}
    dialog.remember_check.setChecked(False)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
    assert "holds 120 entries" in dialog.result_label.text()
    assert memory_keyring.secrets == {}
    dialog.reject()


def test_the_token_is_never_in_settings_logs_or_any_widget_text(
    qtbot: Any,
    empty_window: MainWindow,
    emulator: AuditLogEmulator,
    ui_settings: UiSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    window = empty_window
    dialog = open_dialog(window)
    fill(dialog, emulator)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
    texts = shown_texts()
    assert dialog.token_edit.displayText() != CANARY
    emulator.stall(1.0, page=2)
    dialog.sync_button.click()
    qtbot.waitUntil(lambda: window.task_progress.bar.maximum() > 0, timeout=WAIT)
    texts += shown_texts()
    qtbot.waitUntil(lambda: not window.syncing, timeout=WAIT)
    texts += shown_texts()
    # A failing sync too: its message box.
    emulator.reject_token = True
    run_sync(qtbot, window, open_dialog(window))
    assert window.sync_controller is not None
    assert window.sync_controller.error_box is not None
    texts += shown_texts()

    ui_settings.sync()
    encoded = base64.b64encode(f":{CANARY}".encode()).decode()
    for secret in (CANARY, encoded):
        assert all(secret not in text for text in texts)
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.suffix != ".sqlite":
                assert secret.encode() not in path.read_bytes(), path
        assert secret not in caplog.text
    settings_text = Path(ui_settings.qsettings.fileName()).read_text()
    assert "org=acme" in settings_text
    assert "token" not in settings_text.lower()
    window.sync_controller.error_box.close()


def test_without_a_secure_keyring_the_dialog_says_so_and_keeps_the_token_in_memory(
    qtbot: Any,
    store: Store,
    ui_settings: UiSettings,
    emulator: AuditLogEmulator,
    no_keyring: None,
) -> None:
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    dialog = open_dialog(window)
    assert dialog.keyring_note.isVisibleTo(dialog)
    assert dialog.keyring_note.text() == NO_KEYRING_NOTE
    assert dialog.keyring_note.textFormat() == Qt.TextFormat.PlainText
    assert dialog.remember_check.text() == "Remember for this session"
    fill(dialog, emulator)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
    assert "kept for this session only" in dialog.result_label.text()
    assert dialog.token_edit.placeholderText() == SESSION_PLACEHOLDER
    dialog.token_edit.clear()
    run_sync(qtbot, window, dialog)  # with the session's token
    assert stored_count(store) == ENTRIES
    ui_settings.sync()
    assert CANARY not in Path(ui_settings.qsettings.fileName()).read_text()
    window.close()


def test_hostile_organization_project_and_path_render_literally(
    qtbot: Any, empty_window: MainWindow, store: Store, emulator: AuditLogEmulator
) -> None:
    window = empty_window
    dialog = open_dialog(window)
    fill(dialog, emulator, org=HOSTILE, project=HOSTILE)
    for label in dialog.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    dialog.test_button.click()  # refused before any request: the slug is not valid
    assert HOSTILE in dialog.result_label.text()
    assert "is not valid" in dialog.result_label.text()
    dialog.sync_button.click()
    assert dialog.isVisible()
    assert not window.syncing
    assert HOSTILE in dialog.result_label.text()

    # A hostile endpoint path is a valid template: the server's 404 names it, literally.
    hostile_path = f"/api/{HOSTILE}/{{org}}/audit-log"
    fill(dialog, emulator, path=hostile_path)
    run_sync(qtbot, window, dialog)
    assert window.sync_controller is not None
    box = window.sync_controller.error_box
    assert box is not None
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE in box.text()
    assert "404" in box.text()
    assert stored_count(store) == 0
    box.close()

    dialog = open_dialog(window)
    assert dialog.path_edit.text() == hostile_path
    for label in dialog.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    dialog.reject()
