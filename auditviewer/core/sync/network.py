"""The network a sync runs on: which proxy, which certificate authorities.

On a company laptop the traffic goes through a proxy named in the environment (``HTTPS_PROXY``,
``NO_PROXY``) and TLS is often inspected by a proxy whose certificate authority the company put
into the operating system's trust store. Sync reads those settings explicitly (the HTTP client
itself ignores the environment, so ``.netrc`` and other ambient credentials stay out) and trusts
the system's store in addition to the bundled list, plus a CA file the user names. Verification
is never turned off.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final
from urllib.parse import quote, unquote, urlsplit

import certifi
import truststore

from auditviewer.core.sync.config import SyncConfig, origin_of
from auditviewer.core.sync.errors import SyncConfigError

# The environment variables read, in order of preference for each scheme of the endpoint.
PROXY_VARIABLES: Final = {
    "https": ("HTTPS_PROXY", "ALL_PROXY"),
    "http": ("HTTP_PROXY", "ALL_PROXY"),
}
_PROXY_SCHEMES: Final = frozenset({"http", "https"})
_PROBE_TIMEOUT: Final = 5.0


@dataclass(frozen=True, slots=True, repr=False)
class ProxyChoice:
    """The proxy a sync uses (``url`` None: a direct connection) and where that came from.

    ``url`` never carries credentials; ``username``/``password`` are kept apart so that the URL
    can be shown and saved while the password is treated like the token.
    """

    url: str | None
    source: str
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        hidden = "<hidden>" if self.password else None
        return (
            f"ProxyChoice(url={self.url!r}, source={self.source!r}, "
            f"username={self.username!r}, password={hidden})"
        )

    def basic_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value for the credentials, if any."""
        if not self.username:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def setting_url(self) -> str | None:
        """The URL to keep in settings: with the user name, never the password."""
        if self.url is None or not self.username:
            return self.url
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{quote(self.username, safe='')}@{rest}"

    def describe(self) -> str:
        """For people: "proxy http://proxy:3128 (from HTTPS_PROXY)" or "no proxy (...)"."""
        if self.url is None:
            return f"direct connection, no proxy ({self.source})"
        user = f" as {self.username}" if self.username else ""
        return f"proxy {self.url}{user} (from {self.source})"


def parse_proxy_url(text: str, source: str) -> ProxyChoice:
    """A proxy URL (``http://[user:password@]host:port``) split into URL and credentials."""
    value = text.strip()
    if "://" not in value:
        value = f"http://{value}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise SyncConfigError(
            f"the proxy {text!r} from {source} is not a valid URL ({exc})"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _PROXY_SCHEMES:
        raise SyncConfigError(
            f"the proxy from {source} must look like http://proxy.example.com:3128 "
            f"(http or https; {scheme or 'no'} scheme given)"
        )
    if not parts.hostname:
        raise SyncConfigError(
            f"the proxy from {source} names no host; it must look like "
            "http://proxy.example.com:3128"
        )
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return ProxyChoice(f"{scheme}://{netloc}", source, username, password)


def choose_proxy(
    endpoint: str,
    explicit: str | None = None,
    *,
    explicit_source: str = "--proxy",
    environ: Mapping[str, str] | None = None,
) -> ProxyChoice:
    """The proxy for ``endpoint``: an explicit one beats the environment.

    From the environment, ``HTTPS_PROXY`` (``HTTP_PROXY`` for an http endpoint) then
    ``ALL_PROXY`` are read, lower-case spellings first as curl does; ``NO_PROXY`` (host names,
    domain suffixes, ``*``) sends the endpoint direct.
    """
    if explicit is not None and explicit.strip():
        return parse_proxy_url(explicit, explicit_source)
    env = os.environ if environ is None else environ
    scheme, host, port = origin_of(endpoint)
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY")
    for name in PROXY_VARIABLES.get(scheme, ()):
        for spelling in (name.lower(), name):
            value = env.get(spelling)
            if not value:
                continue
            if no_proxy and _bypassed(host, port, no_proxy):
                source = "no_proxy" if env.get("no_proxy") else "NO_PROXY"
                return ProxyChoice(None, f"{host} is listed in {source}")
            return parse_proxy_url(value, spelling)
    return ProxyChoice(None, "no proxy is set")


def resolve_proxy(
    config: SyncConfig,
    *,
    password: str | None = None,
    setting_source: str = "--proxy",
    environ: Mapping[str, str] | None = None,
) -> ProxyChoice:
    """The proxy of ``config``'s setting (with ``password``), else the environment's."""
    choice = choose_proxy(
        config.endpoint, config.proxy, explicit_source=setting_source, environ=environ
    )
    if password and choice.url is not None and choice.source == setting_source:
        return replace(choice, password=password)
    return choice


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    if no_proxy.strip() == "*":
        return True
    # urllib's matcher (names, domain suffixes, host:port), given the variable explicitly.
    return bool(urllib.request.proxy_bypass_environment(f"{host}:{port}", {"no": no_proxy}))  # type: ignore[attr-defined]


def ssl_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Verification against the system's trust store, the bundled list and ``ca_file``."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=certifi.where())
    if ca_file is not None and str(ca_file).strip():
        path = Path(ca_file).expanduser()
        try:
            context.load_verify_locations(cafile=str(path))
        except FileNotFoundError:
            raise SyncConfigError(f"{path}: the CA file does not exist") from None
        except ssl.SSLError:
            raise SyncConfigError(
                f"{path}: the CA file holds no certificate in PEM form (text between "
                "-----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----)"
            ) from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SyncConfigError(f"{path}: the CA file cannot be read ({reason})") from None
    return context


def presented_issuer(host: str, port: int, proxy: ProxyChoice | None) -> str | None:
    """Who issued the certificate ``host`` presents, or None when it cannot be seen.

    Only the handshake is made, with verification off, to read the certificate for the error
    message; nothing is sent over that connection. Through a proxy the tunnel is opened with
    ``CONNECT`` as the client does.
    """
    from cryptography import x509

    try:
        raw = _peer_certificate(host, port, proxy)
        if raw is None:
            return None
        issuer = x509.load_der_x509_certificate(raw).issuer
        return issuer.rfc4514_string() or None
    except (OSError, ValueError):
        return None


def _peer_certificate(host: str, port: int, proxy: ProxyChoice | None) -> bytes | None:
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    if proxy is not None and proxy.url is not None:
        _, proxy_host, proxy_port = origin_of(proxy.url)
        sock = socket.create_connection((proxy_host, proxy_port), timeout=_PROBE_TIMEOUT)
        try:
            authorization = proxy.basic_authorization()
            header = f"Proxy-Authorization: {authorization}\r\n" if authorization else ""
            request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{header}\r\n"
            sock.sendall(request.encode())
            answer = sock.recv(4096)
            if answer.split(b"\r\n", 1)[0].split(b" ")[1:2] != [b"200"]:
                sock.close()
                return None
        except (OSError, IndexError):
            sock.close()
            raise
    else:
        sock = socket.create_connection((host, port), timeout=_PROBE_TIMEOUT)
    with probe.wrap_socket(sock, server_hostname=host) as tls:
        return tls.getpeercert(binary_form=True)
