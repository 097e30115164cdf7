"""What to sync from where: the endpoint, the scope and the client's limits (never the token)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

from auditviewer.core.sync.errors import SyncConfigError

DEFAULT_BASE_URL = "https://api.memfault.com"
DEFAULT_PATH_TEMPLATE = "/api/v0/organizations/{org}/audit-log"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8 or ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(base_url: str) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash; refuses unsafe URLs."""
    text = base_url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise SyncConfigError(f"the base URL is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in {"https", "http"} or not host:
        raise SyncConfigError(
            "the base URL must look like https://api.memfault.com (scheme and host)"
        )
    if parts.username is not None or parts.password is not None:
        raise SyncConfigError(
            "the base URL must not carry credentials; the token is given separately"
        )
    if parts.query or parts.fragment:
        raise SyncConfigError("the base URL must not have a query string or a fragment")
    if scheme == "http" and not is_loopback_host(host):
        raise SyncConfigError(
            f"plain http:// is only allowed for this machine (localhost), not {host}; use https://"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _has_password(url: str) -> bool:
    text = url if "://" in url else f"http://{url}"
    try:
        return urlsplit(text).password is not None
    except ValueError:
        return False


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the unit the token is bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Where and how to sync. Safe to keep in settings and to show: it never holds the token.

    ``overlap`` is how many entries the client keeps reading past the first entry that an
    earlier completed sync already covered, to catch entries that arrived late or out of order.
    Timeouts are in seconds; the ``max_*`` fields bound retries and waits.
    """

    org: str
    project: str | None = None
    base_url: str = DEFAULT_BASE_URL
    path_template: str = DEFAULT_PATH_TEMPLATE
    per_page: int = DEFAULT_PER_PAGE
    overlap: int = DEFAULT_PER_PAGE
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    max_rate_limited: int = 10
    max_passes: int = 3
    max_redirects: int = 5
    max_page_bytes: int = 64 << 20
    # The proxy to use instead of the environment's (a URL, with a user name at most: the
    # password is a secret kept like the token), and a PEM file of certificate authorities to
    # trust besides the system's and the bundled ones.
    proxy: str | None = None
    ca_file: str | None = None

    def validated(self) -> SyncConfig:
        """A copy with the base URL normalised; raises :class:`SyncConfigError` when unusable."""
        if not _SLUG.fullmatch(self.org or ""):
            raise SyncConfigError(
                f"the organization slug {self.org!r} is not valid (letters, digits, '-', '_', '.')"
            )
        if self.project is not None and not _SLUG.fullmatch(self.project):
            raise SyncConfigError(f"the project slug {self.project!r} is not valid")
        if "{org}" not in self.path_template or not self.path_template.startswith("/"):
            raise SyncConfigError(
                "the endpoint path must start with '/' and contain {org}, "
                f"e.g. {DEFAULT_PATH_TEMPLATE}"
            )
        try:
            self.path_template.format(org="x", project="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise SyncConfigError(
                f"the endpoint path may only use {{org}} and {{project}} ({exc})"
            ) from None
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SyncConfigError(f"the page size must be between 1 and {MAX_PER_PAGE}")
        if self.overlap < 0 or self.max_retries < 0 or self.max_rate_limited < 0:
            raise SyncConfigError("overlap and retry limits cannot be negative")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise SyncConfigError("timeouts must be positive")
        if self.max_passes < 1:
            raise SyncConfigError("at least one pass is needed")
        if self.proxy is not None and _has_password(self.proxy):
            raise SyncConfigError(
                "the proxy setting must not hold a password; it is asked for and kept like the "
                "token"
            )
        base = normalize_base_url(self.base_url)
        if base == self.base_url:
            return self
        return replace(self, base_url=base)

    @property
    def path(self) -> str:
        """The endpoint path with the organization (and project) filled in, URL-quoted."""
        return self.path_template.format(
            org=quote(self.org, safe=""), project=quote(self.project or "", safe="")
        )

    @property
    def endpoint(self) -> str:
        """The full endpoint URL, without any credentials or paging parameters."""
        return normalize_base_url(self.base_url) + self.path

    @property
    def location(self) -> str:
        """Provenance of a sync run: the endpoint and the project filter, never credentials."""
        if self.project is not None and "{project}" not in self.path_template:
            return f"{self.endpoint}?project={quote(self.project, safe='')}"
        return self.endpoint

    @property
    def state_key(self) -> str:
        """The ``meta`` key of this scope's bookmark: ``sync:<base>:<org>:<project>``."""
        return f"sync:{normalize_base_url(self.base_url)}:{self.org}:{self.project or ''}"
