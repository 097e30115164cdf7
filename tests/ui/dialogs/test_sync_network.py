"""The Sync dialog on a company network: a proxy with a password and a company CA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.store.connection import Store
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.support.connect_proxy import ConnectProxy
from tests.support.emulator import AuditLogEmulator
from tests.support.fake_keyring import MemoryKeyring
from tests.support.tls_ca import CA_NAME, make_pki
from tests.ui.dialogs.test_sync_dialog import (
    CANARY,
    WAIT,
    empty_window,  # noqa: F401 (fixture)
    fill,
    memory_keyring,  # noqa: F401 (fixture)
    open_dialog,
    run_sync,
    server_identity,
    shown_texts,
    stored_identity,
)

PASSWORD = "proxy-pass-51c2e9"


def test_proxy_and_ca_file_from_the_dialog(
    qtbot: Any,
    tmp_path: Path,
    empty_window: MainWindow,  # noqa: F811
    store: Store,
    ui_settings: UiSettings,
    memory_keyring: MemoryKeyring,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    pki = make_pki(tmp_path / "pki")
    with (
        AuditLogEmulator(entries=40, token=CANARY, tls=pki.server_context()) as server,
        ConnectProxy(credentials=f"alice:{PASSWORD}") as proxy,
    ):
        dialog = open_dialog(empty_window)
        fill(dialog, server)
        assert dialog.network_label.text().startswith("Connection: direct connection, no proxy")

        # Without the company CA: refused, naming the issuer and the setting.
        dialog.test_button.click()
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT)
        assert CA_NAME in dialog.result_label.text()
        assert "CA file" in dialog.result_label.text()

        # A password typed into the proxy URL moves to its own field, never into settings.
        dialog.proxy_edit.setText(proxy.url.replace("http://", f"http://alice:{PASSWORD}@"))
        dialog.proxy_edit.editingFinished.emit()
        assert dialog.proxy_edit.text() == proxy.url.replace("http://", "http://alice@")
        assert dialog.proxy_password_edit.text() == PASSWORD
        dialog.ca_edit.setText(str(pki.ca_file))
        dialog.ca_edit.editingFinished.emit()
        shown = dialog.network_label.text()
        assert f"{proxy.url} as alice (from the sync settings)" in shown
        assert "password given" in shown
        assert str(pki.ca_file) in shown

        run_sync(qtbot, empty_window, dialog)
        assert empty_window.sync_controller is not None
        assert empty_window.sync_controller.error_box is None
        assert stored_identity(store) == server_identity(server)
        assert proxy.connects

    settings_text = Path(ui_settings.qsettings.fileName()).read_text()
    assert PASSWORD not in settings_text
    assert "alice@" in settings_text
    assert PASSWORD in memory_keyring.secrets.values()
    assert all(PASSWORD not in text for text in shown_texts())
