"""Opens the Sync dialog and hands the sync it asks for to the runner; says how it went."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from auditviewer.core.sync.token_store import TokenSaved, TokenStore
from auditviewer.ui.plain_text import plain_message_box, visible
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.runner import TaskRunner
from auditviewer.ui.tasks.sync_jobs import SyncOutcome, SyncRequest, sync_job, sync_summary

if TYPE_CHECKING:
    from auditviewer.core.sync import SyncReport
    from auditviewer.ui.dialogs.sync_dialog import SyncDialog
    from auditviewer.ui.settings import UiSettings


class SyncController(QObject):
    """The Sync dialog's life and the end of the sync it starts, over the window's runner."""

    status_message = Signal(str)  # a line for the status bar

    def __init__(
        self,
        tasks: TaskRunner,
        settings: UiSettings,
        parent: QWidget,
        tokens: TokenStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.settings = settings
        self.parent_widget = parent
        self.tokens = tokens if tokens is not None else TokenStore()
        self.dialog: SyncDialog | None = None
        self.error_box: QMessageBox | None = None
        self.last_report: SyncReport | None = None

    @property
    def running(self) -> bool:
        """Whether a sync is running."""
        return self.tasks.running("sync") is not None

    # --- the dialog ----------------------------------------------------------------------------

    def open_dialog(self) -> SyncDialog | None:
        """Shows the Sync dialog (window-modal); the sync starts when it is accepted."""
        if self.running or self.tasks.store is None:
            return None
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        from auditviewer.ui.dialogs.sync_dialog import SyncDialog

        dialog = SyncDialog(
            self.settings, self.tokens, self.tasks.store, self.tasks, self.parent_widget
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sync_requested.connect(self.start)
        dialog.finished.connect(self._forget_dialog)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self) -> None:
        self.dialog = None

    def shutdown(self) -> None:
        """Closes the dialog (the window closes; the runner stops the jobs)."""
        if self.dialog is not None:
            self.dialog.reject()

    # --- the sync ------------------------------------------------------------------------------

    def start(self, request: SyncRequest) -> bool:
        """Starts syncing in the background; False when the store is busy or missing."""
        store = self.tasks.store
        if store is None:
            return False
        job = sync_job(store.path, request)
        if not self.tasks.start(job):
            return False
        job.done.connect(lambda job: self._on_finished(job, request))
        return True

    def _on_finished(self, job: Job, request: SyncRequest) -> None:
        outcome: SyncOutcome = job.result if job.result is not None else SyncOutcome()
        if outcome.error is None and job.error is not None:
            outcome.error_title, outcome.error = "The sync failed unexpectedly", job.error
        self.last_report = outcome.report
        saved: TokenSaved | None = None
        if request.save_token and outcome.accepted and not outcome.auth_failed:
            saved = self.tokens.save(request.account, request.token)
        report = outcome.report
        kept = report is not None and (report.imported + report.conflicts + report.quarantined) > 0
        if outcome.error is not None:
            message = outcome.error
            if kept and report is not None:
                message += (
                    f"\n\nWhat was fetched before it stopped is kept ({sync_summary(report)}). "
                    "Sync again to resume."
                )
            self._show_error(outcome.error_title or "The sync stopped", message)
        elif outcome.cancelled:
            note = f" ({sync_summary(report)} kept)" if report is not None and report.pages else ""
            self.status_message.emit(
                f"Sync cancelled{note}; sync again to resume where it stopped."
            )
        elif report is not None:
            text = f"Synced {visible(request.config.org, 60)}: {sync_summary(report)}"
            if saved is not None and not saved.secure:
                text += f" · token: {saved.message}"
            self.status_message.emit(text)

    def _show_error(self, title: str, message: str) -> None:
        box = plain_message_box(
            self.parent_widget, QMessageBox.Icon.Warning, title, visible(message, 4000)
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._forget_error_box)
        self.error_box = box
        box.open()

    def _forget_error_box(self) -> None:
        self.error_box = None
