"""Sync from the vendor's REST API into the store: incremental, resumable, fault-tolerant.

No Qt here. :func:`sync` is the entry point; :class:`SyncConfig` says what to sync (and never
holds the token); :mod:`.token_store` keeps the token in the OS keyring. The local server emulating
the endpoint for tests and demos is ``tests.support.emulator``, outside the package.
"""

from auditviewer.core.sync.client import AuditLogClient, parse_retry_after
from auditviewer.core.sync.config import (
    DEFAULT_BASE_URL,
    DEFAULT_PATH_TEMPLATE,
    DEFAULT_PER_PAGE,
    SyncConfig,
    is_loopback_host,
    normalize_base_url,
)
from auditviewer.core.sync.engine import check_connection, sync, sync_status
from auditviewer.core.sync.errors import (
    SyncAuthError,
    SyncCancelled,
    SyncConfigError,
    SyncError,
    SyncMalformedPage,
    SyncNetworkError,
    SyncNotFound,
    SyncRateLimited,
    SyncRedirectRefused,
    SyncServerError,
    SyncStateConflict,
    SyncUnexpectedResponse,
)
from auditviewer.core.sync.records import SyncProgress, SyncReport, SyncStatus

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PATH_TEMPLATE",
    "DEFAULT_PER_PAGE",
    "AuditLogClient",
    "SyncAuthError",
    "SyncCancelled",
    "SyncConfig",
    "SyncConfigError",
    "SyncError",
    "SyncMalformedPage",
    "SyncNetworkError",
    "SyncNotFound",
    "SyncProgress",
    "SyncRateLimited",
    "SyncRedirectRefused",
    "SyncReport",
    "SyncServerError",
    "SyncStateConflict",
    "SyncStatus",
    "SyncUnexpectedResponse",
    "check_connection",
    "is_loopback_host",
    "normalize_base_url",
    "parse_retry_after",
    "sync",
    "sync_status",
]
