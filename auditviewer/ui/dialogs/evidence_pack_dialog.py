"""File > Export Evidence Pack…: a signed folder of entries a third party can check offline.

The dialog asks what to put in (the selection or all matching the filter), where, whether to
zip it, redact it, the reviewer's name and the signed review it belongs to; writes the pack in
the background with progress and cancel; then says where it is, the signing key's fingerprint
and where the key is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.querying.language import format_moment
from auditviewer.core.wording import counted
from auditviewer.ui.dialogs.export_dialog import add_selection_choice
from auditviewer.ui.dialogs.signing_key_dialog import KeySource, copy_text, key_place
from auditviewer.ui.plain_text import plain_label, visible
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import (
    EvidenceRequest,
    PackOutcome,
    evidence_pack_job,
    key_place_job,
)
from auditviewer.ui.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from auditviewer.core.packs.pack import PackReport
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.store.connection import Store

REVIEWER_KEY = "evidence/reviewer"
DEFAULT_NAME = "audit-evidence-pack"
INTRO = (
    "Writes a new folder holding the entries' original texts, a signed manifest of every "
    "entry's SHA-256, and a README.txt telling a recipient how to check it with sha256sum "
    "and openssl alone."
)
REDACTION_NOTE = (
    "Replaces e-mail and IP addresses, actor names and token names by pseudonyms (the same "
    "value, the same pseudonym within this pack); the texts are then not the originals."
)
NOT_LOGGED = (
    "This pack was not recorded in the store's custody log: the store is read-only (or "
    "another program kept it busy)."
)
# (selected_only) -> (filter, seqs): what the table has selected or the filter it shows.
Selection = Callable[[bool], "tuple[Filter | None, list[int] | None]"]


def default_folder(parent: str) -> Path:
    """A new folder name in ``parent`` that says when the pack was made."""
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M%S")
    return Path(parent or Path.home()) / f"{DEFAULT_NAME}-{stamp}"


class EvidencePackDialog(QDialog):
    """The pack's choices, its progress with Cancel, then where it went and who signed it."""

    def __init__(
        self,
        store: Store,
        tasks: TaskRunner,
        settings: UiSettings,
        key_source: KeySource,
        selection: Selection,
        counts: tuple[int, int],
        parent: QWidget | None = None,
        *,
        active_review: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Evidence Pack")
        self.resize(720, 520)
        self._store = store
        self._tasks = tasks
        self._settings = settings
        self._key_source = key_source
        self._selection = selection
        self.worker: Job | None = None
        self.report: PackReport | None = None
        selected, matching = counts
        self._selected = selected

        layout = QVBoxLayout(self)
        intro = plain_label(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.selected_radio, self.matching_radio = add_selection_choice(
            self, layout, selected, matching
        )

        form = QFormLayout()
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(default_folder(settings.last_folder)))
        self.folder_edit.setAccessibleName("Pack folder")
        self.folder_edit.textChanged.connect(self._update_buttons)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        form.addRow(plain_label("New folder"), folder_row)
        self.reviewer_edit = QLineEdit(str(settings.qsettings.value(REVIEWER_KEY, "") or ""))
        self.reviewer_edit.setAccessibleName("Reviewer name")
        self.reviewer_edit.setPlaceholderText("Your name, as the manifest should state it")
        form.addRow(plain_label("Reviewer"), self.reviewer_edit)
        self.review_combo = QComboBox(self)
        self.review_combo.setAccessibleName("Signed review the pack belongs to")
        self._fill_reviews(active_review)
        form.addRow(plain_label("Belongs to review"), self.review_combo)
        layout.addLayout(form)
        self.zip_check = QCheckBox("Also write a .zip of the folder", self)
        layout.addWidget(self.zip_check)
        self.redact_check = QCheckBox("Redact personal values", self)
        layout.addWidget(self.redact_check)
        note = plain_label(REDACTION_NOTE)
        note.setWordWrap(True)
        note.setContentsMargins(24, 0, 0, 0)
        layout.addWidget(note)
        self.key_label = plain_label("")
        self.key_label.setWordWrap(True)
        layout.addWidget(self.key_label)

        self.status = plain_label("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Progress")
        self.bar.hide()
        layout.addWidget(self.bar)
        self.result_row = QWidget(self)
        result = QVBoxLayout(self.result_row)
        result.setContentsMargins(0, 0, 0, 0)
        self.fingerprint = QLineEdit(self.result_row)
        self.fingerprint.setReadOnly(True)
        self.fingerprint.setAccessibleName("Fingerprint")
        self.fingerprint.setFont(QFont("monospace"))
        sample = "0000 " * 16
        self.fingerprint.setMinimumWidth(self.fingerprint.fontMetrics().horizontalAdvance(sample))
        result.addWidget(self.fingerprint)
        result_buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy &Fingerprint", self.result_row)
        self.copy_button.clicked.connect(lambda: copy_text(self.fingerprint.text()))
        result_buttons.addWidget(self.copy_button)
        self.open_button = QPushButton("&Open Folder", self.result_row)
        self.open_button.clicked.connect(self.open_folder)
        result_buttons.addWidget(self.open_button)
        result_buttons.addStretch(1)
        result.addLayout(result_buttons)
        self.result_row.hide()
        layout.addWidget(self.result_row)
        layout.addStretch(1)

        self.buttons = QDialogButtonBox(self)
        self.write_button = QPushButton("&Write Pack", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        self.buttons.addButton(self.write_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.write_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        layout.addWidget(self.buttons)
        self._show_key_place()
        self._update_buttons()

    def _fill_reviews(self, active: int | None) -> None:
        """None, then every signed review (newest first), the active one chosen when signed."""
        from auditviewer.core.reviewing.reviews import list_reviews

        combo = self.review_combo
        combo.addItem("None", None)
        for review in reversed(list_reviews(self._store)):
            signature = review.signature
            if signature is None:
                continue
            signed = format_moment(signature.signed_utc)[:16].replace("T", " ") + " UTC"
            text = f"{review.id}: {review.name} — signed by {signature.signed_by}, {signed}"
            combo.addItem(visible(text, 120), review.id)
            combo.setItemData(combo.count() - 1, visible(text, None), Qt.ItemDataRole.ToolTipRole)
            if review.id == active:
                combo.setCurrentIndex(combo.count() - 1)
        combo.setEnabled(combo.count() > 1)
        if combo.count() == 1:
            combo.setToolTip("No review of this store is signed yet")

    @property
    def running(self) -> bool:
        """Whether the pack is being written."""
        return self.worker is not None

    def request(self) -> EvidenceRequest | None:
        """What the dialog asks for, or None without a folder."""
        text = self.folder_edit.text().strip()
        if not text:
            return None
        return EvidenceRequest(
            folder=Path(text).expanduser(),
            selected_only=self.selected_radio.isChecked(),
            make_zip=self.zip_check.isChecked(),
            redact=self.redact_check.isChecked(),
            reviewer=self.reviewer_edit.text().strip(),
            review_id=self.review_combo.currentData(),
        )

    def start(self) -> None:
        """Writes the pack in the background."""
        request = self.request()
        if request is None or self.worker is not None:
            return
        self._settings.qsettings.setValue(REVIEWER_KEY, request.reviewer)
        self._settings.last_folder = str(request.folder.parent)
        filter_, seqs = self._selection(request.selected_only)
        worker = evidence_pack_job(self._store, request, self._key_source.load, filter_, seqs)
        worker.progressed.connect(self._on_progress)
        worker.done.connect(self._on_finished)
        self.worker = worker
        self.report = None
        self.result_row.hide()
        self.bar.setRange(0, 0)
        self.bar.show()
        self.status.setText(worker.title)
        self._tasks.start(worker)
        self._update_buttons()

    def cancel(self) -> None:
        """Asks the running pack to stop; nothing is left under its folder's name."""
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")
        else:
            self.close()

    def open_folder(self) -> None:
        """Shows the pack's folder in the file manager."""
        if self.report is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.folder)))

    def _show_key_place(self) -> None:
        """Says, once looked up in the background, where the signing key is or will be kept."""
        looking = key_place_job(self._key_source.place)
        looking.done.connect(self._on_looked)
        self.key_label.setText("Looking for the signing key…")
        self._tasks.start(looking)

    def _on_looked(self, looking: Job) -> None:
        if self.report is not None or looking.result is None:
            return
        exists, sentence = looking.result
        made = "" if exists else "A signing key is made for this first pack. "
        self.key_label.setText(f"Signed with your key. {made}{sentence}")

    def _on_progress(self, text: str, done: int, total: int) -> None:
        if not self.cancel_button.isEnabled():
            return
        self.status.setText(visible(text, 300))
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, done * 1000 // total))

    def _on_finished(self, worker: Job) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        self.bar.hide()
        outcome: PackOutcome | None = worker.result
        if worker.error is not None:
            self.status.setText(visible(f"The pack was not written. {worker.error}", 1000))
        elif worker.cancelled or outcome is None:
            self.status.setText("Cancelled; no pack was written.")
        else:
            report = outcome.report
            self.report = report
            self.status.setText(self._outcome(report))
            self.fingerprint.setText(report.fingerprint)
            self.result_row.show()
            made = "A new signing key was made. " if report.key_created else ""
            self.key_label.setText(made + key_place(outcome.key))
        self._update_buttons()

    @staticmethod
    def _outcome(report: PackReport) -> str:
        redacted = ", redacted," if report.redacted else ""
        text = f"Wrote {counted(report.entries, 'entry')}{redacted} to {report.folder}"
        if report.zip_path is not None:
            text += f" and {report.zip_path}"
        text += ". Signing key fingerprint (give it to the recipients another way):"
        if not report.logged:
            text = f"{NOT_LOGGED} {text}"
        return visible(text, 2000)

    def _update_buttons(self) -> None:
        running = self.worker is not None
        self.write_button.setEnabled(not running and bool(self.folder_edit.text().strip()))
        self.write_button.setVisible(self.report is None)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.close_button.setVisible(not running)
        for widget in (
            self.selected_radio,
            self.matching_radio,
            self.folder_edit,
            self.browse_button,
            self.reviewer_edit,
            self.zip_check,
            self.redact_check,
        ):
            widget.setEnabled(not running and self.report is None)
        self.selected_radio.setEnabled(self.selected_radio.isEnabled() and self._selected > 0)

    def _browse(self) -> None:
        parent = QFileDialog.getExistingDirectory(
            self, "Where to write the pack", str(Path(self.folder_edit.text()).parent)
        )
        if parent:
            self.folder_edit.setText(str(Path(parent) / Path(self.folder_edit.text()).name))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:
            self.cancel()
            event.ignore()
            self.worker.done.connect(self.close)
            return
        super().closeEvent(event)
