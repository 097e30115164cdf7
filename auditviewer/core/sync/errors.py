"""Errors of a sync run, named after the condition that stopped it.

Every error carries the :class:`~auditviewer.core.sync.records.SyncReport` of what the run had
stored before it stopped (``report``; None when it stopped before starting). Messages never
contain the token: they are built from the configuration and the server's status only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditviewer.core.errors import AuditViewerError

if TYPE_CHECKING:
    from auditviewer.core.sync.records import SyncReport


class SyncError(AuditViewerError):
    """A sync run stopped; what it stored before stopping is kept and ``report`` says what."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report: SyncReport | None = None


class SyncConfigError(SyncError):
    """The sync settings are unusable (bad base URL, plain http to a remote host, ...)."""


class SyncAuthError(SyncError):
    """The server refused the token (401) or the token lacks the permission (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class SyncNotFound(SyncError):
    """The endpoint answered 404: wrong organization slug, project or endpoint path."""


class SyncRateLimited(SyncError):
    """The server kept answering 429 beyond the configured number of waits."""


class SyncServerError(SyncError):
    """The server kept failing (5xx) beyond the configured number of retries."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class SyncNetworkError(SyncError):
    """Timeouts or broken connections beyond the configured number of retries."""


class SyncCertificateError(SyncNetworkError):
    """The server's TLS certificate could not be verified; the connection was refused."""


class SyncMalformedPage(SyncError):
    """A page was not a valid audit-log page; nothing of it was stored."""

    def __init__(self, page: int, reason: str) -> None:
        super().__init__(f"page {page} of the audit log is malformed: {reason}")
        self.page = page
        self.reason = reason


class SyncRedirectRefused(SyncError):
    """The server redirected to another host; the token is never sent to another host."""


class SyncUnexpectedResponse(SyncError):
    """The server answered with a status the client does not know how to handle."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class SyncCancelled(SyncError):
    """The user cancelled; every page committed before is kept and the sync can resume."""


class SyncStateConflict(SyncError):
    """The sync bookmark changed underneath this run: another sync of the same scope runs."""


class SyncStoreFailed(SyncError):
    """The store could not take a page (disk full, read-only, damaged); earlier pages stay."""
