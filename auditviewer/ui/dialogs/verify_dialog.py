"""File > Verify Store…: checks the store in the background and offers to rebuild indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.evidence.sqlite_check import REBUILD_ADVICE
from auditviewer.ui.plain_text import plain_label, visible, visible_multiline
from auditviewer.ui.tasks.job import Job, Kind
from auditviewer.ui.tasks.jobs import verify_job
from auditviewer.ui.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from auditviewer.core.evidence.store_check import StoreCheckReport
    from auditviewer.core.store.connection import Store

INTRO = (
    "Checks the store file with SQLite's own check, every entry's SHA-256 and the hash chain, "
    "that the entries, their texts and the column blocks agree, and the full-text index."
)
EXPECT_HEAD_HINT = (
    "Optional: a chain head noted outside the store (64 hex digits, e.g. from an evidence "
    "pack's manifest); the check says whether the store still holds it."
)
NOT_LOGGED = (
    "This check was not recorded in the store's custody log: the store is read-only (or "
    "another program kept it busy)."
)
FULL_OPTION = "Also compare every index with its table, row by row (slower)"
INTACT = "The store is intact."
REBUILT = "Indexes rebuilt. The store is intact."
INDEX_ONLY = "Only indexes are damaged; Rebuild Indexes repairs them."
NOT_REPAIRABLE = "The store is damaged; the viewer cannot repair it."
INDEX_ONLY_EXPLAINED = (
    "The entries, their hashes and the hash chain are intact. Indexes are derived data: "
    "Rebuild Indexes builds them again from the entries and changes no entry."
)
NOT_REPAIRABLE_EXPLAINED = (
    "The entries' hashes decide which entries are intact. Restore the store from a backup "
    "copy, or import the original export files into a new store."
)
CUSTODY_FINDINGS = (
    "The custody log shows that the store was changed outside the viewer (the entries it "
    "still holds are intact)."
)
CUSTODY_EXPLAINED = (
    "The custody log records what was done to the store and the entry chain head after each "
    "step; a rewritten record, entries cut off the end or an expected head the chain does not "
    "hold are listed below. Keep this report, and restore the store from a backup copy or "
    "import the original export files into a new store."
)
WAIT_FOR_WRITER = (
    "An import or a sync is writing to the store; rebuild the indexes when it has finished."
)


class VerifyDialog(QDialog):
    """The check's progress, then its result as plain text; Rebuild Indexes when it helps.

    The runner keeps every other writer off while a check or a rebuild runs: a rebuild
    writes, and the full-text index's check holds the write lock for a moment.
    """

    def __init__(
        self,
        store: Store,
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verify Store")
        self.resize(720, 420)
        self._store = store
        self._tasks = tasks
        self.worker: Job | None = None
        self.report: StoreCheckReport | None = None

        layout = QVBoxLayout(self)
        intro = plain_label(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.full_check = QCheckBox(FULL_OPTION, self)
        layout.addWidget(self.full_check)
        form = QFormLayout()
        self.expect_head = QLineEdit(self)
        self.expect_head.setAccessibleName("Expected head")
        self.expect_head.setPlaceholderText("64 hex digits, from an evidence pack's manifest")
        self.expect_head.setToolTip(EXPECT_HEAD_HINT)
        form.addRow(plain_label("Expected head (optional)"), self.expect_head)
        layout.addLayout(form)
        self.status = plain_label("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Progress")
        layout.addWidget(self.bar)
        self.result_text = QPlainTextEdit(self)
        self.result_text.setReadOnly(True)
        # Read with the arrows and copied in part from the keyboard too.
        self.result_text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.result_text.setAccessibleName("Result of the check")
        self.result_text.setFont(QFont("monospace"))
        self.result_text.setMinimumHeight(160)
        layout.addWidget(self.result_text, 1)

        self.buttons = QDialogButtonBox(self)
        self.verify_button = QPushButton("&Verify", self)
        self.rebuild_button = QPushButton("&Rebuild Indexes", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        for button, role in (
            (self.verify_button, QDialogButtonBox.ButtonRole.ActionRole),
            (self.rebuild_button, QDialogButtonBox.ButtonRole.ActionRole),
            (self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole),
            (self.close_button, QDialogButtonBox.ButtonRole.AcceptRole),
        ):
            self.buttons.addButton(button, role)
        self.verify_button.clicked.connect(self.start_check)
        self.rebuild_button.clicked.connect(self.start_rebuild)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        layout.addWidget(self.buttons)
        self._update_buttons()

    @property
    def running(self) -> bool:
        """Whether a check or a rebuild runs."""
        return self.worker is not None

    def start_check(self) -> None:
        """Checks the store in the background."""
        self._start(rebuild=False)

    def start_rebuild(self) -> None:
        """Rebuilds the indexes, then checks again; not while an import or a sync writes."""
        self._start(rebuild=True)

    def cancel(self) -> None:
        """Asks the running check or rebuild to stop."""
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def _start(self, *, rebuild: bool) -> None:
        if self.worker is not None:
            return
        expected = self.expect_head.text().strip() or None
        if expected is not None:
            from auditviewer.core.evidence.custody_check import head_text

            try:
                expected = head_text(expected)
            except ValueError as exc:
                self.status.setText(visible(f"Not checked: {exc}.", 300))
                self.expect_head.setFocus()
                return
        worker = verify_job(
            self._store, full=self.full_check.isChecked(), rebuild=rebuild, expect_head=expected
        )
        worker.progressed.connect(self._on_progress)
        worker.done.connect(self._on_finished)
        if not self._tasks.start(worker):
            self.status.setText(WAIT_FOR_WRITER)
            return
        self.worker = worker
        self.result_text.clear()
        self.bar.setRange(0, 0)
        self.status.setText(worker.title)
        self._update_buttons()

    def _on_progress(self, text: str, done: int, total: int) -> None:
        self.status.setText(visible(text, 300))
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, done * 1000 // total))
        else:
            self.bar.setRange(0, 0)

    def _on_finished(self, worker: Job) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        rebuild = worker.kind is Kind.WRITE
        report: StoreCheckReport | None = worker.result
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if report is not None else 0)
        if report is not None:
            self.report = report
            self.status.setText(self._verdict(report, rebuilt=rebuild))
            self.result_text.setPlainText(visible_multiline(self._details(report)))
        elif worker.error is not None:
            self.report = None
            self.status.setText(
                "The indexes could not be rebuilt." if rebuild else "The check could not run."
            )
            self.result_text.setPlainText(visible_multiline(worker.error))
        else:
            self.status.setText(
                "Rebuild cancelled; the indexes rebuilt so far are kept."
                if rebuild
                else "Check cancelled."
            )
        self._update_buttons()

    @staticmethod
    def _verdict(report: StoreCheckReport, *, rebuilt: bool) -> str:
        if report.ok:
            return REBUILT if rebuilt else INTACT
        if report.only_custody_findings:
            return CUSTODY_FINDINGS
        if report.only_indexes_damaged:
            return INDEX_ONLY
        return NOT_REPAIRABLE

    @staticmethod
    def _details(report: StoreCheckReport) -> str:
        lines = []
        if report.only_custody_findings:
            lines.append(CUSTODY_EXPLAINED)
        elif not report.ok:
            lines.append(
                INDEX_ONLY_EXPLAINED if report.only_indexes_damaged else NOT_REPAIRABLE_EXPLAINED
            )
        lines.append(report.summary())
        # The verdict above offers the repair: the command-line advice would only repeat it.
        advice = f" — {REBUILD_ADVICE}"
        lines.extend(f"• {problem.replace(advice, '')}" for problem in report.problems())
        if report.text_index_skipped is not None:
            lines.append(f"Note: {report.text_index_skipped}")
        if report.logged is False:
            lines.append(f"Note: {NOT_LOGGED}")
        return "\n\n".join(lines)

    def _update_buttons(self) -> None:
        running = self.worker is not None
        self.verify_button.setEnabled(not running)
        self.full_check.setEnabled(not running)
        self.expect_head.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.rebuild_button.setVisible(self.report is not None and self.report.only_indexes_damaged)
        self.rebuild_button.setEnabled(not running)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:
            # Closing while work runs: stop it first; the dialog closes when it has stopped.
            self.cancel()
            event.ignore()
            self.worker.done.connect(self.close)
            return
        super().closeEvent(event)
