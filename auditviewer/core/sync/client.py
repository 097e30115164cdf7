"""The HTTP side of sync: fetches one page at a time, with retries, waits and safe redirects.

The client is built so that the token cannot leak: it is held in a private attribute that no
``repr`` shows, sent only as an ``Authorization`` header built per request (never in a URL, never
on the client's default headers), and only to the configured origin: a redirect to another host
is refused, not followed. ``trust_env=False`` keeps ``.netrc`` and other ambient credentials
out; the proxy and the trusted certificate authorities are chosen explicitly (see
:mod:`auditviewer.core.sync.network`). Exceptions from httpx are translated and never chained,
so a traceback cannot show the request and its headers.
"""

from __future__ import annotations

import base64
import email.utils
import math
import random
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import httpx

from auditviewer import __version__
from auditviewer.core.records import CancelToken
from auditviewer.core.sync.config import SyncConfig, origin_of
from auditviewer.core.sync.errors import (
    SyncAuthError,
    SyncCancelled,
    SyncCertificateError,
    SyncConfigError,
    SyncMalformedPage,
    SyncNetworkError,
    SyncNotFound,
    SyncRateLimited,
    SyncRedirectRefused,
    SyncServerError,
    SyncUnexpectedResponse,
)
from auditviewer.core.sync.network import (
    ProxyChoice,
    presented_issuer,
    resolve_proxy,
    ssl_context,
)
from auditviewer.core.sync.page import Page, PageError, parse_page

Sleep = Callable[[float], None]
WaitCallback = Callable[[float, str], None]

USER_AGENT: Final = f"auditviewer/{__version__}"
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def basic_authorization(token: str) -> str:
    """The ``Authorization`` value for an Organization Auth Token: Basic, empty user."""
    return "Basic " + base64.b64encode(f":{token}".encode()).decode("ascii")


class AuditLogClient:
    """Fetches pages of one organization's audit log. Use as a context manager."""

    def __init__(
        self,
        config: SyncConfig,
        token: str,
        *,
        cancel: CancelToken | None = None,
        sleep: Sleep | None = None,
        rng: Callable[[], float] | None = None,
        on_wait: WaitCallback | None = None,
        proxy: ProxyChoice | None = None,
    ) -> None:
        if not token or any(c in token for c in "\r\n\x00"):
            raise SyncConfigError("the token is empty or contains control characters")
        self.config = config.validated()
        self._authorization = basic_authorization(token)
        self._origin = origin_of(self.config.endpoint)
        self._cancel = cancel or CancelToken()
        self._sleep = sleep
        self._rng = rng or random.random
        self._on_wait = on_wait
        self.retries = 0
        self.rate_limited = 0
        self.proxy = proxy if proxy is not None else resolve_proxy(self.config)
        self._http = httpx.Client(
            timeout=httpx.Timeout(
                connect=self.config.connect_timeout,
                read=self.config.read_timeout,
                write=self.config.read_timeout,
                pool=self.config.connect_timeout,
            ),
            verify=ssl_context(self.config.ca_file),
            proxy=_httpx_proxy(self.proxy),
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"AuditLogClient(endpoint={self.config.endpoint!r}, token=<hidden>)"

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    def __enter__(self) -> AuditLogClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public -------------------------------------------------------------------------------

    def fetch_page(self, page: int, per_page: int) -> Page:
        """One page, retried as the configuration allows; raises a :class:`SyncError`."""
        params: dict[str, str | int] = {"page": page, "per_page": per_page}
        if self.config.project is not None and "{project}" not in self.config.path_template:
            params["project"] = self.config.project
        url = httpx.URL(self.config.endpoint, params=params)
        failures = 0
        while True:
            self.check_cancel()
            try:
                status, headers, body = self._get(url)
            except httpx.TimeoutException:
                failures = self._retry_or_raise(
                    failures, page, f"the server {self._server} did not answer in time"
                )
                continue
            except httpx.ProxyError as exc:
                raise self._proxy_error(exc) from None
            except httpx.TransportError as exc:
                failure = _tls_failure(exc)
                if failure is not None:
                    raise self._certificate_error(failure) from None
                reason = _describe_transport(exc, self._server)
                if self.proxy.url is not None and isinstance(exc, httpx.ConnectError):
                    reason = f"cannot connect through the {self.proxy.describe()}"
                failures = self._retry_or_raise(failures, page, reason)
                continue
            if status == 200:
                try:
                    return parse_page(body)
                except PageError as exc:
                    raise SyncMalformedPage(page, str(exc)) from None
            if status == 429:
                self._rate_limited(page, headers.get("retry-after"))
                continue
            if status >= 500:
                failures = self._retry_or_raise(
                    failures, page, f"the server failed ({status})", status=status,
                    retry_after=headers.get("retry-after"),
                )  # fmt: skip
                continue
            raise self._status_error(status)

    @property
    def _server(self) -> str:
        """The host and port a sync talks to, as a message names them."""
        _, host, port = self._origin
        return f"{host}:{port}"

    def check_cancel(self) -> None:
        """Raises :class:`SyncCancelled` once cancellation was asked for."""
        if self._cancel.cancelled:
            raise SyncCancelled("sync cancelled")

    # --- internals ----------------------------------------------------------------------------

    def _get(self, url: httpx.URL) -> tuple[int, httpx.Headers, bytes]:
        for _ in range(self.config.max_redirects + 1):
            if origin_of(str(url)) != self._origin:
                target = "{}://{}:{}".format(*origin_of(str(url)))
                raise SyncRedirectRefused(
                    f"the server redirected to {target}, another host; the token is only sent to "
                    "{}://{}:{} (use the other host as the base URL if it is the right one)".format(
                        *self._origin
                    )
                )
            request = self._http.build_request(
                "GET", url, headers={"Authorization": self._authorization}
            )
            response = self._http.send(request, stream=True)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                body = self._read_body(response) if response.status_code == 200 else b""
                return response.status_code, response.headers, body
            finally:
                response.close()
        raise SyncUnexpectedResponse(
            f"the server redirected more than {self.config.max_redirects} times", 310
        )

    def _read_body(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            self.check_cancel()
            size += len(chunk)
            if size > self.config.max_page_bytes:
                raise SyncUnexpectedResponse(
                    f"a page is larger than {self.config.max_page_bytes:,} bytes", 200
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _retry_or_raise(
        self,
        failures: int,
        page: int,
        reason: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
    ) -> int:
        if failures >= self.config.max_retries:
            message = (
                f"page {page}: {reason}; gave up after {failures} "
                f"{'retry' if failures == 1 else 'retries'}"
            )
            if status is not None:
                raise SyncServerError(message, status)
            raise SyncNetworkError(message)
        delay = parse_retry_after(retry_after)
        if delay is None:
            delay = jittered_backoff(
                failures, self.config.backoff_base, self.config.backoff_cap, self._rng
            )
        delay = min(delay, self.config.max_retry_after)
        self.retries += 1
        self._wait(delay, f"page {page}: {reason}; retrying")
        return failures + 1

    def _rate_limited(self, page: int, retry_after: str | None) -> None:
        if self.rate_limited >= self.config.max_rate_limited:
            raise SyncRateLimited(
                f"page {page}: the server is rate limiting (429) and kept doing so after "
                f"{self.rate_limited} waits; try again later"
            )
        delay = parse_retry_after(retry_after)
        if delay is None:
            delay = jittered_backoff(
                self.rate_limited, self.config.backoff_base, self.config.backoff_cap, self._rng
            )
        delay = min(delay, self.config.max_retry_after)
        self.rate_limited += 1
        self.retries += 1
        self._wait(delay, f"page {page}: rate limited by the server; waiting")

    def _wait(self, seconds: float, reason: str) -> None:
        self.check_cancel()
        if self._on_wait is not None:
            self._on_wait(seconds, reason)
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            deadline = time.monotonic() + seconds
            while (remaining := deadline - time.monotonic()) > 0:
                self.check_cancel()
                time.sleep(min(remaining, 0.1))
        self.check_cancel()

    def _certificate_error(self, failure: str) -> SyncCertificateError:
        _, host, port = self._origin
        detail = failure.rstrip(".")
        if "mismatch" in detail.lower():
            return SyncCertificateError(
                f"{host}: the server's TLS certificate is for another host name ({detail}); "
                "the connection was refused for safety: check the base URL"
            )
        issuer = presented_issuer(host, port, self.proxy)
        issued = f"issued by {issuer}" if issuer else "its issuer could not be read"
        return SyncCertificateError(
            f"{host}: the server's TLS certificate is not trusted ({detail}; {issued}); the "
            "connection was refused for safety. If your company inspects TLS, add its "
            "certificate authority to the system's trust store or name its PEM file as the "
            "CA file (--ca-file FILE, or CA file in the sync dialog's advanced settings)"
        )

    def _proxy_error(self, exc: httpx.ProxyError) -> SyncNetworkError:
        where = self.proxy.describe()
        text = str(exc)
        status = text.split(" ", 1)[0]
        if status == "407":
            return SyncNetworkError(
                f"the {where} asks for a user name and password (407 Proxy Authentication "
                "Required): give them with the proxy URL (http://USER:PASSWORD@HOST:PORT) or in "
                "the sync dialog's advanced settings"
            )
        if status.isdigit():
            return SyncNetworkError(
                f"the {where} refused to connect to {self._origin[1]} ({text}): check the "
                "proxy setting, or ask whoever runs the proxy"
            )
        return SyncNetworkError(f"the {where} failed ({text or type(exc).__name__})")

    def _status_error(self, status: int) -> Exception:
        org = self.config.org
        if status == 401:
            return SyncAuthError(
                "the server refused the token (401 Unauthorized): check that the Organization "
                f"Auth Token for {org!r} is correct and has not been revoked",
                status,
            )
        if status == 403:
            return SyncAuthError(
                f"the token is not allowed to read the audit log of {org!r} (403 Forbidden): "
                "check the token's permissions",
                status,
            )
        if status == 404:
            return SyncNotFound(
                f"no audit log at {self.config.endpoint} (404 Not Found): check the organization "
                "slug / endpoint path (and the project, if one is set)"
            )
        if status in _REDIRECTS:
            return SyncUnexpectedResponse(
                f"the server answered with a redirect ({status}) that names no location", status
            )
        try:
            phrase = httpx.codes.get_reason_phrase(status)
        except ValueError:
            phrase = ""
        return SyncUnexpectedResponse(
            f"the server answered {status} {phrase}".rstrip() + f" for {self.config.endpoint}",
            status,
        )


def _tls_failure(exc: BaseException) -> str | None:
    """What failed in verifying the server's certificate, or None for another failure."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        message = getattr(seen, "verify_message", None)
        if isinstance(seen, ssl.SSLCertVerificationError) and message:
            return str(message)
        text = str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            reason = text.partition("certificate verify failed:")[2] or "not trusted"
            return reason.split(" (_ssl.c", 1)[0].strip()
        seen = seen.__cause__ or seen.__context__
    return None


def _httpx_proxy(proxy: ProxyChoice) -> httpx.Proxy | None:
    if proxy.url is None:
        return None
    auth = (proxy.username, proxy.password or "") if proxy.username else None
    return httpx.Proxy(proxy.url, auth=auth)


def _describe_transport(exc: httpx.TransportError, server: str) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to the server {server}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection broke in the middle of a response"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "the connection was reset"
    return f"network error ({type(exc).__name__})"


def jittered_backoff(failures: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Equal-jitter exponential backoff: half the ceiling plus a random half."""
    ceiling = min(cap, base * math.pow(2, failures))
    return ceiling / 2 + rng() * ceiling / 2
