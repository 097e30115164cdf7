"""Syncs from the vendor's API off the GUI thread: the worker, the connection check, and the
controller that ties them to the main window (progress, Cancel, refreshing as pages land).

The token is handed to a worker in memory and dropped once the worker is done. It never goes
into a widget's text, a signal meant for display, a log line or a message: every message shown
or logged passes through :func:`scrub` first, in case a library ever quoted it.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.records import CancelToken
from auditviewer.core.sync import (
    SyncAuthError,
    SyncCancelled,
    SyncConfig,
    SyncConfigError,
    SyncError,
    SyncMalformedPage,
    SyncNetworkError,
    SyncNotFound,
    SyncProgress,
    SyncRateLimited,
    SyncRedirectRefused,
    SyncReport,
    SyncServerError,
    SyncStateConflict,
    check_connection,
    sync,
)
from auditviewer.core.sync.errors import SyncCertificateError
from auditviewer.core.sync.network import ProxyChoice, resolve_proxy
from auditviewer.core.sync.token_store import TokenSaved, TokenStore, account_name
from auditviewer.ui.plain_text import plain_message_box, visible

if TYPE_CHECKING:
    from auditviewer.ui.main_window import MainWindow
    from auditviewer.ui.sync_dialog import SyncDialog

log = logging.getLogger(__name__)

# The connection check is one request: it should not keep the dialog waiting for long.
CHECK_READ_TIMEOUT = 15.0
# Refresh the table at most this often while pages land (the first page shows at once).
REFRESH_INTERVAL_MS = 400
HIDDEN = "•••"

_TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (SyncAuthError, "The server refused the token"),
    (SyncNotFound, "The audit log was not found"),
    (SyncConfigError, "The sync settings cannot be used"),
    (SyncCertificateError, "The server's certificate is not trusted"),
    (SyncNetworkError, "The server could not be reached"),
    (SyncServerError, "The server kept failing"),
    (SyncRateLimited, "The server is rate limiting"),
    (SyncMalformedPage, "The server sent a malformed page"),
    (SyncRedirectRefused, "The server redirected to another host"),
    (SyncStateConflict, "Another sync of this organization is running"),
    (SyncError, "The sync stopped"),
    (AuditViewerError, "The store could not be used"),
    (OSError, "The store could not be used"),
)


def scrub(text: str, token: str) -> str:
    """``text`` with every occurrence of ``token`` replaced by a placeholder."""
    if token and len(token) >= 4:
        return text.replace(token, HIDDEN)
    return text


def describe_error(exc: BaseException, token: str) -> tuple[str, str]:
    """A title naming the cause and a one-paragraph message, both without the token."""
    title = "The sync failed unexpectedly"
    message = f"unexpected error ({type(exc).__name__}: {exc})"
    for kind, kind_title in _TITLES:
        if isinstance(exc, kind):
            title, message = kind_title, str(exc) or type(exc).__name__
            break
    message = message[:1].upper() + message[1:]
    return title, scrub(message, token)


def _log_unexpected(what: str, exc: BaseException, token: str) -> None:
    """Logs a bug's traceback with the token taken out of it."""
    trace = "".join(traceback.format_exception(exc))
    log.error("%s failed unexpectedly:\n%s", what, scrub(trace, token))


PROXY_SETTING_SOURCE = "the sync settings"


def settings_proxy(config: SyncConfig, password: str = "") -> ProxyChoice:
    """The proxy of the dialog's setting (with its password), else the environment's."""
    return resolve_proxy(config, password=password or None, setting_source=PROXY_SETTING_SOURCE)


def proxy_account(proxy_url: str) -> str:
    """The keyring account of a proxy password: the proxy URL with its user name."""
    return f"proxy {proxy_url}"


@dataclass(frozen=True)
class SyncRequest:
    """What the Sync dialog asks for. ``save_token``: keep the token once the server took it."""

    config: SyncConfig
    token: str = field(repr=False)
    save_token: bool = False
    proxy_password: str = field(default="", repr=False)

    @property
    def account(self) -> str:
        """The keyring account of the token."""
        return account_name(self.config.base_url, self.config.org)


class SyncWorker(QThread):
    """Runs one :func:`sync` over its own connection to the store (opened by path)."""

    progressed = Signal(object)  # SyncProgress, every phase
    page_stored = Signal(object)  # SyncProgress, after each committed page

    def __init__(
        self,
        store_path: Path,
        config: SyncConfig,
        token: str,
        parent: QObject | None = None,
        *,
        proxy_password: str = "",
    ) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self.config = config
        self._token = token
        self._proxy_password = proxy_password
        self._cancel = CancelToken()
        self.report: SyncReport | None = None
        self.cancelled = False
        # Whether the server answered a page with the token: only then may it be kept.
        self.accepted = False
        self.error_title: str | None = None
        self.error: str | None = None
        self.auth_failed = False

    def cancel(self) -> None:
        """Asks the sync to stop; the pages stored so far are kept and the next sync resumes."""
        self._cancel.cancel()

    def _on_progress(self, progress: SyncProgress) -> None:
        if progress.phase == "fetched":
            self.accepted = True
        self.progressed.emit(progress)
        if progress.phase == "stored":
            self.page_stored.emit(progress)

    def run(self) -> None:
        """Runs in the worker thread."""
        from auditviewer.core.store.connection import Store

        token = self._token
        try:
            proxy = settings_proxy(self.config, self._proxy_password)
            with Store.open(self.store_path, create=False) as store:
                self.report = sync(
                    store,
                    self.config,
                    token,
                    progress=self._on_progress,
                    cancel=self._cancel,
                    proxy=proxy,
                )
        except SyncCancelled as exc:
            self.cancelled = True
            self.report = exc.report
        except SyncError as exc:
            self.report = exc.report
            self.auth_failed = isinstance(exc, SyncAuthError)
            self.error_title, self.error = describe_error(exc, token)
        except (AuditViewerError, OSError) as exc:
            self.error_title, self.error = describe_error(exc, token)
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            _log_unexpected("sync", exc, token)
            self.error_title, self.error = describe_error(exc, token)
        finally:
            self._token = ""
            self._proxy_password = ""


class ConnectionCheck(QThread):
    """Runs :func:`check_connection` off the GUI thread; read the outcome on ``finished``."""

    def __init__(
        self,
        config: SyncConfig,
        token: str,
        parent: QObject | None = None,
        *,
        proxy_password: str = "",
    ) -> None:
        super().__init__(parent)
        self.config = replace(config, read_timeout=min(config.read_timeout, CHECK_READ_TIMEOUT))
        self._token = token
        self._proxy_password = proxy_password
        self._cancel = CancelToken()
        self.ok = False
        self.total: int | None = None
        self.error: str | None = None
        self.auth_failed = False
        self.cancelled = False

    def cancel(self) -> None:
        """Asks the check to stop (it stops when its request returns or times out)."""
        self._cancel.cancel()

    def run(self) -> None:
        """Runs in the worker thread."""
        token = self._token
        try:
            proxy = settings_proxy(self.config, self._proxy_password)
            self.total = check_connection(self.config, token, cancel=self._cancel, proxy=proxy)
            self.ok = True
        except SyncCancelled:
            self.cancelled = True
        except SyncError as exc:
            self.auth_failed = isinstance(exc, SyncAuthError)
            self.error = describe_error(exc, token)[1]
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            _log_unexpected("connection check", exc, token)
            self.error = describe_error(exc, token)[1]
        finally:
            self._token = ""
            self._proxy_password = ""


class SyncController(QObject):
    """Opens the Sync dialog for the main window and runs the sync it asks for."""

    running_changed = Signal(bool)

    def __init__(self, window: MainWindow, tokens: TokenStore | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.tokens = tokens if tokens is not None else TokenStore()
        self.dialog: SyncDialog | None = None
        self.worker: SyncWorker | None = None
        self.error_box: QMessageBox | None = None
        self.last_report: SyncReport | None = None
        self._request: SyncRequest | None = None
        self._refresh_pending = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self._refresh_if_pending)

    @property
    def running(self) -> bool:
        """Whether a sync is running."""
        return self.worker is not None

    # --- the dialog ----------------------------------------------------------------------------

    def open_dialog(self) -> SyncDialog | None:
        """Shows the Sync dialog (window-modal); the sync starts when it is accepted."""
        if self.running or self.window.store is None:
            return None
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        from auditviewer.ui.sync_dialog import SyncDialog

        dialog = SyncDialog(self.window.settings, self.tokens, self.window.store, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sync_requested.connect(self.start)
        dialog.finished.connect(self._forget_dialog)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self) -> None:
        self.dialog = None

    # --- the sync ------------------------------------------------------------------------------

    def start(self, request: SyncRequest) -> bool:
        """Starts syncing in the background; False when the store is busy or missing."""
        window = self.window
        store = window.store
        if self.running or store is None or window.import_worker is not None:
            return False
        # One writer at a time: indexing waits for its chunk, and resumes after the sync.
        window.stop_indexing(wait=True)
        worker = SyncWorker(
            store.path,
            request.config,
            request.token,
            self,
            proxy_password=request.proxy_password,
        )
        worker.progressed.connect(self._on_progress)
        worker.page_stored.connect(self._on_page_stored)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._request = request
        window.task_progress.start(f"Syncing {visible(request.config.org, 60)}…")
        self.running_changed.emit(True)
        worker.start()
        return True

    def cancel(self) -> None:
        """Asks the running sync to stop after its current page."""
        if self.worker is not None:
            self.worker.cancel()

    def _on_progress(self, progress: SyncProgress) -> None:
        if self.worker is None or not self.window.task_progress.cancel_button.isEnabled():
            return  # cancelling: keep saying so
        org = visible(self.worker.config.org, 60)
        of = f" of {progress.page_count:,}" if progress.page_count else ""
        counts = f"{progress.received:,} received, {progress.new:,} new"
        if progress.phase == "waiting":
            text = f"Syncing {org}: {visible(progress.message, 120)} · {counts}"
        else:
            text = f"Syncing {org}: page {progress.page:,}{of} · {counts}"
        total = progress.page_count or 0
        self.window.task_progress.update_progress(text, min(progress.pages, total), total)

    def _on_page_stored(self, _progress: SyncProgress) -> None:
        if self._refresh_timer.isActive():
            self._refresh_pending = True
            return
        self._refresh_pending = False
        self.window.refresh_entries()
        self._refresh_timer.start()

    def _refresh_if_pending(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.window.refresh_entries()
            self._refresh_timer.start()

    def _on_finished(self) -> None:
        worker, request = self.worker, self._request
        self.worker, self._request = None, None
        self._refresh_timer.stop()
        self._refresh_pending = False
        window = self.window
        window.task_progress.finish()
        if worker is None or request is None:
            return
        worker.deleteLater()
        self.last_report = worker.report
        saved: TokenSaved | None = None
        if request.save_token and worker.accepted and not worker.auth_failed:
            saved = self.tokens.save(request.account, request.token)
        self.running_changed.emit(False)
        window.sync_finished()
        report = worker.report
        kept = report is not None and (report.new + report.conflicts + report.quarantined) > 0
        if worker.error is not None:
            message = worker.error
            if kept and report is not None:
                message += (
                    f"\n\nWhat was fetched before it stopped is kept ({_summary(report)}). "
                    "Sync again to resume."
                )
            self._show_error(worker.error_title or "The sync stopped", message)
        elif worker.cancelled:
            note = f" ({_summary(report)} kept)" if report is not None and report.pages else ""
            window.statusBar().showMessage(
                f"Sync cancelled{note}; sync again to resume where it stopped.", 10000
            )
        elif report is not None:
            text = f"Synced {visible(request.config.org, 60)}: {_summary(report)}"
            if saved is not None and not saved.secure:
                text += f" · token: {saved.message}"
            window.statusBar().showMessage(text, 10000)

    def _show_error(self, title: str, message: str) -> None:
        box = plain_message_box(
            self.window, QMessageBox.Icon.Warning, title, visible(message, 4000)
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._forget_error_box)
        self.error_box = box
        box.open()

    def _forget_error_box(self) -> None:
        self.error_box = None

    def shutdown(self) -> None:
        """Stops the sync and any connection check, and waits for them (the window closes)."""
        if self.dialog is not None:
            self.dialog.reject()
        for check in self.window.findChildren(ConnectionCheck):
            check.cancel()
            check.wait()
        worker = self.worker
        if worker is not None:
            worker.finished.disconnect(self._on_finished)
            worker.cancel()
            worker.wait()
            self.worker, self._request = None, None
            self._refresh_timer.stop()


def _summary(report: SyncReport) -> str:
    pages = f"{report.pages:,} {'page' if report.pages == 1 else 'pages'}"
    text = f"{report.new:,} new, {report.duplicates:,} already stored"
    if report.conflicts:
        text += f", {report.conflicts:,} conflicting"
    if report.quarantined:
        text += f", {report.quarantined:,} quarantined"
    return f"{text}; {pages}"
