"""Syncing from the vendor's API and checking the connection, as jobs for the runner.

The token is handed to a job's function in memory and dropped once the function returns. It
never goes into a widget's text, a signal meant for display, a log line or a message: every
message shown or logged passes through :func:`scrub` first, in case a library ever quoted it.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from auditviewer.core.errors import AuditViewerError
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
from auditviewer.core.sync.token_store import account_name
from auditviewer.ui.plain_text import visible
from auditviewer.ui.tasks.job import Job, JobContext, Kind

log = logging.getLogger(__name__)

# The connection check is one request: it should not keep the dialog waiting for long.
CHECK_READ_TIMEOUT = 15.0
HIDDEN = "•••"
PROXY_SETTING_SOURCE = "the sync settings"

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


# --- sync --------------------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    """What a sync did. ``accepted``: the server answered a page with the token."""

    report: SyncReport | None = None
    cancelled: bool = False
    accepted: bool = False
    auth_failed: bool = False
    error_title: str | None = None
    error: str | None = None


def sync_progress_text(org: str, progress: SyncProgress) -> str:
    """``Syncing acme: page 3 of 9 · 300 received, 12 new``."""
    org = visible(org, 60)
    of = f" of {progress.page_count:,}" if progress.page_count else ""
    counts = f"{progress.parsed:,} received, {progress.imported:,} new"
    if progress.phase == "waiting":
        return f"Syncing {org}: {visible(progress.message, 120)} · {counts}"
    return f"Syncing {org}: page {progress.page:,}{of} · {counts}"


def sync_job(store_path: Path, request: SyncRequest) -> Job:
    """Runs one :func:`sync` over its own connection to the store (opened by path).

    Cancelling stops after the current page; the pages stored so far are kept and the next
    sync resumes. The result is a :class:`SyncOutcome`.
    """
    config = request.config
    secrets = [request.token, request.proxy_password]

    def work(context: JobContext) -> SyncOutcome:
        token, proxy_password = secrets
        secrets.clear()
        outcome = SyncOutcome()
        try:
            _sync(store_path, config, token, proxy_password, outcome, context)
        except (AuditViewerError, OSError) as exc:
            outcome.error_title, outcome.error = describe_error(exc, token)
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            _log_unexpected("sync", exc, token)
            outcome.error_title, outcome.error = describe_error(exc, token)
        return outcome

    title = f"Syncing {visible(config.org, 60)}…"
    return Job("sync", Kind.WRITE, title, work, subject=str(store_path))


def _sync(
    store_path: Path,
    config: SyncConfig,
    token: str,
    proxy_password: str,
    outcome: SyncOutcome,
    context: JobContext,
) -> None:
    from auditviewer.core.store.connection import Store

    def on_progress(progress: SyncProgress) -> None:
        if progress.phase == "fetched":
            outcome.accepted = True
        total = progress.page_count or 0
        context.progress(
            sync_progress_text(config.org, progress), min(progress.pages, total), total
        )
        if progress.phase == "stored":
            context.stored()

    try:
        proxy = settings_proxy(config, proxy_password)
        with Store.open(store_path, create=False) as store:
            outcome.report = sync(
                store, config, token, progress=on_progress, cancel=context.cancel_token, proxy=proxy
            )
    except SyncCancelled as exc:
        outcome.cancelled = True
        outcome.report = exc.report
    except SyncError as exc:
        outcome.report = exc.report
        outcome.auth_failed = isinstance(exc, SyncAuthError)
        outcome.error_title, outcome.error = describe_error(exc, token)


def sync_summary(report: SyncReport) -> str:
    """``12 new, 300 already stored; 3 pages``."""
    pages = f"{report.pages:,} {'page' if report.pages == 1 else 'pages'}"
    text = f"{report.imported:,} new, {report.duplicates:,} already stored"
    if report.conflicts:
        text += f", {report.conflicts:,} conflicting"
    if report.quarantined:
        text += f", {report.quarantined:,} quarantined"
    return f"{text}; {pages}"


# --- the connection check ----------------------------------------------------------------------


@dataclass
class CheckOutcome:
    """What the connection check found: ``total`` entries (None = not said) when ``ok``."""

    config: SyncConfig
    ok: bool = False
    total: int | None = None
    error: str | None = None
    auth_failed: bool = False
    cancelled: bool = False


def connection_check_job(config: SyncConfig, token: str, *, proxy_password: str = "") -> Job:
    """Runs :func:`check_connection` (one request, with a short read timeout)."""
    config = replace(config, read_timeout=min(config.read_timeout, CHECK_READ_TIMEOUT))
    secrets = [token, proxy_password]

    def work(context: JobContext) -> CheckOutcome:
        token, proxy_password = secrets
        secrets.clear()
        outcome = CheckOutcome(config)
        try:
            proxy = settings_proxy(config, proxy_password)
            outcome.total = check_connection(
                config, token, cancel=context.cancel_token, proxy=proxy
            )
            outcome.ok = True
        except SyncCancelled:
            outcome.cancelled = True
        except SyncError as exc:
            outcome.auth_failed = isinstance(exc, SyncAuthError)
            outcome.error = describe_error(exc, token)[1]
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            _log_unexpected("connection check", exc, token)
            outcome.error = describe_error(exc, token)[1]
        return outcome

    return Job("connection check", Kind.READ, "Testing the connection…", work)
