"""The window's evidence parts: packs, the signing key, the Activity view, coverage, and what
export and verify say about the custody log. Real stores and keys in tmp_path; the keyring is
the in-memory stand-in or none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from auditviewer.core.packs.pack_check import check_pack
from auditviewer.core.querying.coverage import coverage
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.dialogs.activity_view import HASHES, HEAD, SUBJECT, ActivityView, elided_hash
from auditviewer.ui.dialogs.coverage_dialog import CoverageDialog
from auditviewer.ui.dialogs.evidence_pack_dialog import REVIEWER_KEY, EvidencePackDialog
from auditviewer.ui.dialogs.export_dialog import ExportDialog
from auditviewer.ui.dialogs.signing_key_dialog import KeySource, SigningKeyDialog
from auditviewer.ui.dialogs.verify_dialog import CUSTODY_EXPLAINED, CUSTODY_FINDINGS, VerifyDialog
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.tasks.jobs import ExportRequest
from tests.conftest import make_entry, write_json
from tests.support.fake_keyring import MemoryKeyring

DAY = 86_400 * 1_000_000
HOSTILE_NAME = "<img src=x onerror=alert(1)><b>bold &amp; &lt;i&gt;"


def micros(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


@pytest.fixture
def file_key(tmp_path: Path) -> KeySource:
    """A key kept in a file in tmp_path: no keyring at all."""
    return KeySource(tmp_path / "keys" / "signing-key.pem", use_keyring=False)


@pytest.fixture
def key_window(window: MainWindow, file_key: KeySource) -> MainWindow:
    window.key_source = file_key
    return window


def open_pack_dialog(qtbot: Any, window: MainWindow, folder: Path) -> EvidencePackDialog:
    window.evidence_action.trigger()
    dialog = window.evidence_dialog
    assert dialog is not None
    dialog.folder_edit.setText(str(folder))
    qtbot.waitUntil(lambda: "Signed with your key" in dialog.key_label.text(), timeout=10_000)
    return dialog


def wait_idle(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.jobs, timeout=30_000)


def grab(widget: Any, path: Path) -> None:
    """Saves the widget as shown at 1280x800 or its own size, to look at."""
    widget.resize(min(widget.width(), 1280), min(widget.height(), 800))
    assert widget.grab().save(str(path))


# --- evidence packs ----------------------------------------------------------------------------


def test_a_pack_written_from_the_dialog_verifies_and_says_where_the_key_is(
    qtbot: Any, key_window: MainWindow, file_key: KeySource, tmp_path: Path
) -> None:
    folder = tmp_path / "packs" / "september"
    folder.parent.mkdir()
    dialog = open_pack_dialog(qtbot, key_window, folder)
    # Before the first pack: the key does not exist, and the dialog says where it will be kept.
    assert not file_key.key_file.exists()
    stated = dialog.key_label.text()
    assert "owner-only file" in stated
    assert str(file_key.key_file) in stated
    assert "this system has no secure keyring" in stated
    dialog.matching_radio.setChecked(True)
    dialog.reviewer_edit.setText("Ada Auditor")
    dialog.zip_check.setChecked(True)
    grab(dialog, tmp_path / "evidence-before.png")
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)

    report = dialog.report
    assert report is not None, dialog.status.text()
    assert report.entries == 10
    checked = check_pack(folder, expected_fingerprint=report.fingerprint)
    assert checked.ok, checked.problems
    assert (tmp_path / "packs" / "september.zip").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["exporter"]["reviewer"] == "Ada Auditor"
    assert str(folder) in dialog.status.text()
    assert dialog.fingerprint.text() == report.fingerprint
    assert "owner-only file" in dialog.key_label.text()
    assert "A new signing key was made" in dialog.key_label.text()
    assert file_key.key_file.exists()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report.fingerprint
    assert dialog.open_button.isVisible()
    # The reviewer's name is remembered for the next pack.
    assert key_window.settings.qsettings.value(REVIEWER_KEY) == "Ada Auditor"
    grab(dialog, tmp_path / "evidence-done.png")


def test_a_pack_of_the_selection_holds_only_the_selected_entries(
    qtbot: Any, key_window: MainWindow, tmp_path: Path
) -> None:
    browser = key_window.browser
    assert browser is not None
    browser.table.selectRow(0)
    browser.table.selectionModel().select(
        browser.model.index(2, 0),
        browser.table.selectionModel().SelectionFlag.Select
        | browser.table.selectionModel().SelectionFlag.Rows,
    )
    folder = tmp_path / "selected"
    dialog = open_pack_dialog(qtbot, key_window, folder)
    assert dialog.selected_radio.isChecked()
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.report is not None
    assert dialog.report.entries == 2
    assert check_pack(folder).ok


def test_cancelling_a_pack_leaves_no_folder(
    qtbot: Any, key_window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "out" / "cancelled"
    folder.parent.mkdir()
    dialog = open_pack_dialog(qtbot, key_window, folder)
    dialog.start()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.report is None
    assert "no pack was written" in dialog.status.text()
    assert list(folder.parent.iterdir()) == []


def test_a_keyring_key_is_said_to_be_in_the_keyring(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    keyring = MemoryKeyring()
    window.key_source = KeySource(tmp_path / "unused.pem", backend=keyring)
    dialog = open_pack_dialog(qtbot, window, tmp_path / "pack")
    assert "will be kept in the system keyring" in dialog.key_label.text()
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.report is not None
    assert "kept in the system keyring" in dialog.key_label.text()
    assert keyring.secrets
    assert not (tmp_path / "unused.pem").exists()


def test_the_signing_key_is_made_only_when_asked_and_shown_with_its_public_key(
    qtbot: Any, key_window: MainWindow, file_key: KeySource, tmp_path: Path
) -> None:
    key_window.signing_key_action.trigger()
    dialog = key_window.signing_key_dialog
    assert isinstance(dialog, SigningKeyDialog)
    qtbot.waitUntil(lambda: "No signing key has been made yet" in dialog.place.text())
    assert not file_key.key_file.exists()
    assert "this system has no secure keyring" in dialog.place.text()
    assert dialog.fingerprint.text() == ""
    grab(dialog, tmp_path / "signing-key-none.png")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.key is not None, timeout=10_000)
    key = file_key.load()
    assert dialog.fingerprint.text() == key.fingerprint
    assert dialog.pem.toPlainText() == key.public_pem.decode("ascii")
    assert "A new key was made" in dialog.place.text()
    assert str(file_key.key_file) in dialog.place.text()
    dialog.copy_pem_button.click()
    assert "BEGIN PUBLIC KEY" in QGuiApplication.clipboard().text()
    grab(dialog, tmp_path / "signing-key.png")
    # Opened again: the kept key is read, not made anew.
    dialog.close()
    key_window.signing_key_action.trigger()
    assert dialog.fingerprint.text() == key.fingerprint
    other = SigningKeyDialog(file_key, key_window.tasks)
    qtbot.addWidget(other)
    qtbot.waitUntil(lambda: other.key is not None, timeout=10_000)
    assert other.fingerprint.text() == key.fingerprint
    assert "A new key was made" not in other.place.text()


# --- the custody log ---------------------------------------------------------------------------


def records_shown(view: ActivityView) -> list[str]:
    return [view.table.item(row, 2).text() for row in range(view.table.rowCount())]


def test_activity_lists_each_operation_once_newest_first_and_refreshes(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    window.activity_action.trigger()
    view = window.activity_view
    assert view is not None
    qtbot.waitUntil(lambda: not view.reading and view.table.rowCount() > 0, timeout=10_000)
    assert records_shown(view).count("import") == 1
    assert "export" not in records_shown(view)

    target = tmp_path / "out.json"
    window.start_export(ExportRequest(target, "json", selected_only=False))
    qtbot.waitUntil(lambda: "export" in records_shown(view), timeout=20_000)
    shown = records_shown(view)
    assert shown[0] == "export"  # newest first
    assert shown.count("export") == 1
    assert shown.count("import") == 1
    assert window.store is not None
    assert len(shown) == len(read_custody(window.store))

    # The export's file hash: elided in the cell, whole in the tooltip and when copied.
    export = read_custody(window.store)[-1]
    sha = export.detail["sha256"]
    cell = view.table.item(0, HASHES)
    assert cell.text() == elided_hash(sha)
    assert sha not in cell.text()
    assert sha in cell.toolTip()
    view.table.setCurrentItem(cell)
    view.copy_button.click()
    assert sha in QGuiApplication.clipboard().text()
    head = view.table.item(0, HEAD)
    assert export.entries_head is not None
    assert export.entries_head in head.toolTip()
    assert str(target) in view.table.item(0, SUBJECT).text()
    view.resize(1280, 800)
    grab(view, tmp_path / "activity.png")


def test_export_dialog_offers_redaction_and_the_file_keeps_no_address(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    dialog = ExportDialog(1, 10, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.redact_check.setChecked(True)
    dialog.path_edit.setText(str(tmp_path / "redacted.json"))
    request = dialog.request()
    assert request is not None
    assert request.redact
    grab(dialog, tmp_path / "export-dialog.png")
    window.start_export(request)
    wait_idle(qtbot, window)
    text = (tmp_path / "redacted.json").read_text(encoding="utf-8")
    assert "jane@example.com" not in text
    assert "203.0.113." not in text
    assert "redacted" in window.statusBar().currentMessage()


# --- read-only stores: nothing recorded, and said so -------------------------------------------


@pytest.fixture
def read_only_window(
    qtbot: Any, filled_store: Store, ui_settings: UiSettings, file_key: KeySource
) -> Iterator[MainWindow]:
    path = filled_store.path
    filled_store.close()
    path.chmod(0o444)
    window = MainWindow(ui_settings)
    qtbot.addWidget(window)
    window.show()
    window.key_source = file_key
    assert window.open_store(path)
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.total_count == 10)
    yield window
    window.close()
    path.chmod(0o644)


def test_on_a_read_only_store_export_pack_and_verify_say_they_were_not_logged(
    qtbot: Any, read_only_window: MainWindow, tmp_path: Path
) -> None:
    window = read_only_window
    window.start_export(ExportRequest(tmp_path / "ro.json", "json", selected_only=False))
    wait_idle(qtbot, window)
    assert "Not recorded in the store's custody log" in window.statusBar().currentMessage()

    dialog = open_pack_dialog(qtbot, window, tmp_path / "ro-pack")
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.report is not None
    assert not dialog.report.logged
    assert "not recorded in the store's custody log" in dialog.status.text()

    window.verify_action.trigger()
    verify = window.verify_dialog
    assert isinstance(verify, VerifyDialog)
    qtbot.waitUntil(lambda: verify.report is not None, timeout=30_000)
    assert "This check was not recorded" in verify.result_text.toPlainText()


def test_verify_dialog_checks_an_expected_head_and_shows_custody_findings(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    window.verify_action.trigger()
    verify = window.verify_dialog
    assert isinstance(verify, VerifyDialog)
    qtbot.waitUntil(lambda: verify.report is not None, timeout=30_000)
    assert verify.report is not None
    assert verify.report.ok
    verify.expect_head.setText("ab" * 32)
    verify.verify_button.click()
    qtbot.waitUntil(lambda: not verify.running, timeout=30_000)
    assert verify.report is not None
    assert not verify.report.ok
    assert "expected chain head" in verify.result_text.toPlainText()
    verify.resize(1280, 800)
    grab(verify, tmp_path / "verify-expected-head.png")
    checked = verify.report
    verify.expect_head.setText("not a head")
    verify.verify_button.click()
    assert not verify.running
    assert verify.report is checked
    assert "is not a SHA-256: give its 64 hex digits" in verify.status.text()


def test_verify_dialog_names_entries_cut_off_the_end(
    qtbot: Any, filled_store: Store, ui_settings: UiSettings, tmp_path: Path
) -> None:
    import_file(
        filled_store, write_json(tmp_path / "more.json", [make_entry(n) for n in range(20, 25)])
    )
    with filled_store.raw() as connection:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'"
        ).fetchall():
            connection.execute(f"DROP TRIGGER {name}")
        # The whole second import, and its column block: what is left agrees with itself.
        for table in ("entry_texts", "entries"):
            connection.execute(f"DELETE FROM {table} WHERE seq > 10")
        connection.execute("DELETE FROM column_blocks WHERE first_seq > 10")
    filled_store.close()
    window = MainWindow(ui_settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(filled_store.path)
    window.verify_action.trigger()
    verify = window.verify_dialog
    assert isinstance(verify, VerifyDialog)
    qtbot.waitUntil(lambda: verify.report is not None, timeout=30_000)
    assert verify.status.text() == CUSTODY_FINDINGS
    text = verify.result_text.toPlainText()
    assert CUSTODY_EXPLAINED in text
    assert "removed from the end" in text
    assert "5 entries are missing" in text
    assert not verify.rebuild_button.isVisible()
    verify.resize(1280, 800)
    grab(verify, tmp_path / "verify-custody.png")
    window.close()


# --- coverage ----------------------------------------------------------------------------------


def gapped_entries() -> list[dict[str, Any]]:
    """Entries every day of 1-10 March and 25-31 March 2026: a gap from 10 to 25 March."""
    days = [*range(1, 11), *range(25, 32)]
    return [
        make_entry(day, created_date=f"2026-03-{day:02d}T12:00:00.000000+00:00") for day in days
    ]


def test_coverage_shows_a_planted_gap_and_the_retention_warning_for_a_fixed_now(
    qtbot: Any, store: Store, ui_settings: UiSettings, tmp_path: Path
) -> None:
    source = write_json(tmp_path / f"{HOSTILE_NAME}.json", gapped_entries())
    import_file(store, source)
    now = micros("2027-03-20T00:00:00")
    expected = coverage(store, gap=DAY, now=now)
    assert expected.retention is not None
    window = MainWindow(ui_settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    window.show()
    window.coverage_now = lambda: now
    assert window.open_store(store.path)
    window.coverage_action.trigger()
    dialog = window.coverage_dialog
    assert isinstance(dialog, CoverageDialog)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)

    warning = dialog.warning.text()
    assert warning.startswith("Sync or download before 2027-03-31 or lose")
    assert str(expected.retention) in warning.lower()
    assert dialog.warning.textFormat() == Qt.TextFormat.PlainText
    details = dialog.details.toPlainText()
    assert "15.0 days with no entries: from 2026-03-10" in details
    assert "to 2026-03-25" in details
    # One bar for the archive (two stretches around the gap), one for the source.
    bars = dialog.bars.bars
    assert len(bars) == 2
    assert len(bars[0].spans) == 2
    assert bars[0].spans[0][1] < bars[0].spans[1][0]
    # The source's tooltip names its location literally, escaped for Qt.
    rect = dialog.bars.bar_rect(1)
    tip = dialog.bars.tooltip_at(QPoint(int(rect.center().x()), int(rect.center().y())))
    assert tip is not None
    assert HOSTILE_NAME in tip
    assert "17 entries stored" in tip
    dialog.resize(1280, 800)
    grab(dialog, tmp_path / "coverage.png")
    window.close()


def test_hostile_source_names_render_as_plain_text(
    qtbot: Any, store: Store, ui_settings: UiSettings, tmp_path: Path
) -> None:
    source = write_json(tmp_path / f"{HOSTILE_NAME}.json", [make_entry(n) for n in range(5)])
    import_file(store, source)
    window = MainWindow(ui_settings, view_folder=tmp_path / "views")
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(store.path)
    window.activity_action.trigger()
    view = window.activity_view
    assert view is not None
    qtbot.waitUntil(lambda: view.table.rowCount() > 0 and not view.reading, timeout=10_000)
    subjects = [view.table.item(row, SUBJECT).text() for row in range(view.table.rowCount())]
    assert any(HOSTILE_NAME in subject for subject in subjects)
    tip = next(
        view.table.item(row, SUBJECT).toolTip()
        for row in range(view.table.rowCount())
        if HOSTILE_NAME in view.table.item(row, SUBJECT).text()
    )
    assert "&lt;img" in tip
    assert "<img" not in tip
    for label in view.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    window.coverage_action.trigger()
    dialog = window.coverage_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
    assert HOSTILE_NAME in dialog.bars.bars[1].label
    for label in dialog.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText
    window.close()


def test_the_pack_dialog_offers_only_signed_reviews_and_records_the_one_chosen(
    qtbot: Any, key_window: MainWindow, tmp_path: Path
) -> None:
    from auditviewer.core.reviewing.marks import mark
    from auditviewer.core.reviewing.reviews import sign_review, start_review

    store = key_window.store
    assert store is not None
    open_review = start_review(store, "Still open", reviewer="Ann")
    signed = start_review(store, HOSTILE_NAME, reviewer="Ann")
    mark(store, signed.id, [2], "flagged")
    sign_review(store, signed.id, by="Ann Lee", statement="Reviewed.")
    key_window.review.open_review(signed.id)
    qtbot.waitUntil(lambda: key_window.review.review is not None, timeout=10_000)
    wait_idle(qtbot, key_window)

    dialog = open_pack_dialog(qtbot, key_window, tmp_path / "pack")
    combo = dialog.review_combo
    items = [combo.itemText(n) for n in range(combo.count())]
    assert items[0] == "None"
    assert len(items) == 2  # the open review is not offered
    assert items[1].startswith(f"{signed.id}: {HOSTILE_NAME} — signed by Ann Lee, ")
    assert all(not item.startswith(f"{open_review.id}:") for item in items)
    # The active review is signed: chosen already.
    assert combo.currentData() == signed.id
    grab(dialog, tmp_path / "evidence-review.png")
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.report is not None, dialog.status.text()
    recorded = json.loads((tmp_path / "pack" / "manifest.json").read_text())["review"]
    assert (recorded["id"], recorded["name"], recorded["signed_by"]) == (
        signed.id, HOSTILE_NAME, "Ann Lee",
    )  # fmt: skip
    assert recorded["counts"]["flagged"] == 1

    # None chosen: the manifest names no review.
    dialog.close()
    dialog = open_pack_dialog(qtbot, key_window, tmp_path / "pack-2")
    dialog.review_combo.setCurrentIndex(0)
    dialog.write_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert json.loads((tmp_path / "pack-2" / "manifest.json").read_text())["review"] is None
