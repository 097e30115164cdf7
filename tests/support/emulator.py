"""A small emulator of the vendor's audit-log endpoint, for tests and demos.

It is a real HTTP server (``ThreadingHTTPServer`` on 127.0.0.1, a free port by default) that
serves a generated audit log newest first with ``page``/``per_page`` paging and checks HTTP Basic
auth (empty user, the token as password). It can be told to reject the token, rate-limit with
``Retry-After``, fail with 5xx, stall past the client's timeout, drop the connection in the middle
of a body, return a malformed page, add entries between page requests and redirect to another
server. Run it by hand with ``python -m tests.support.emulator --port 8765`` from the
root of a source checkout (it is not part of the installed app).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from auditviewer.core.sync.config import DEFAULT_PATH_TEMPLATE

DEFAULT_TOKEN = "emulator-token"
DEFAULT_ORG = "acme"
MALFORMED_KINDS = ("truncated", "not-json", "no-data", "nan", "trailing-garbage", "bad-paging")

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_ACTIONS = (
    "organization_auth_token.update",
    "organization_auth_token.create",
    "project.update",
    "release.create",
    "cohort.update",
    "user.login",
    "release.update",
)
_PROJECTS: tuple[dict[str, str] | None, ...] = (
    {"slug": "smart-sensor", "name": "Smart Sensor"},
    {"slug": "gateway", "name": "Gateway"},
    None,
)


def generate_entry(number: int) -> str:
    """The JSON text of entry ``number`` (its id); formatting varies on purpose."""
    created = _EPOCH + timedelta(minutes=37 * number, microseconds=number)
    actor: dict[str, Any]
    if number % 4 == 3:
        actor = {"type": "organization_auth_token", "id": 40 + number % 3, "label": "CI uploader"}
    else:
        actor = {"type": "user", "id": 17, "email": "jane@example.com", "name": "Zoë Doe"}
    entry: dict[str, Any] = {
        "id": number,
        "created_date": created.isoformat(),
        "action": _ACTIONS[number % len(_ACTIONS)],
        "actor": actor,
        "organization": {"slug": DEFAULT_ORG},
        "project": _PROJECTS[number % len(_PROJECTS)],
        "entity": {"type": "organization_auth_token", "id": 42, "name": f"token {number}"},
        "ip_address": f"203.0.113.{number % 250}",
        "user_agent": "memfault-cli/1.4",
    }
    if number % 5 == 0:
        entry["changes"] = {"scopes": {"old": ["read"], "new": ["read", "write"]}}
    if number % 3 == 0:
        return json.dumps(entry, ensure_ascii=False)
    if number % 3 == 1:
        return json.dumps(entry, separators=(",", ":"))
    return json.dumps(entry, indent=2)


@dataclass
class Fault:
    """A misbehaviour for the next matching request(s).

    ``kind``: ``status`` (answer ``status`` with ``headers``), ``stall`` (say nothing for
    ``seconds``), ``drop`` (close the connection half-way through the body), ``malformed``
    (a 200 with a broken page, see :data:`MALFORMED_KINDS`), ``redirect`` (307 to ``location``
    + the same path). ``page`` limits it to requests for that page; ``times`` is how often.
    """

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    malformed: str = "truncated"
    location: str = ""
    page: int | None = None
    times: int = 1


@dataclass(frozen=True)
class RequestRecord:
    """What the emulator saw of one request (never the credentials themselves)."""

    path: str
    page: int | None
    per_page: int | None
    project: str | None
    had_authorization: bool
    authorized: bool
    host: str


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    emulator: AuditLogEmulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read :attr:`AuditLogEmulator.requests` instead."""

    def handle(self) -> None:
        try:
            super().handle()
        except ssl.SSLError:
            # A client that does not trust the certificate ends the handshake: not a fault.
            self.close_connection = True

    def do_GET(self) -> None:
        try:
            self.server.emulator.handle(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def send_body(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, *, cut: int = -1
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut >= 0:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


class AuditLogEmulator:
    """The emulated endpoint. Use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        org: str = DEFAULT_ORG,
        entries: int = 250,
        host: str = "127.0.0.1",
        port: int = 0,
        path_template: str = DEFAULT_PATH_TEMPLATE,
        max_per_page: int = 1000,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._token = token
        self.org = org
        self.path_template = path_template
        self.max_per_page = max_per_page
        self.reject_token = False
        self.forbid = False
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = []
        self._arrivals: dict[int, int] = {}
        self._texts: list[str] = []  # oldest first; served reversed
        self._next_id = 1
        self.add_entries(entries)
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self.tls = tls is not None
        if tls is not None:
            # The handshake happens in the request's thread, on its first read.
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"AuditLogEmulator({self.base_url!r}, entries={len(self._texts)})"

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> AuditLogEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> AuditLogEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the data -----------------------------------------------------------------------------

    def add_entries(self, count: int) -> list[str]:
        """Appends ``count`` new entries at the head (newest) and returns their texts."""
        with self._lock:
            added = [generate_entry(self._next_id + n) for n in range(count)]
            self._next_id += count
            self._texts.extend(added)
        return added

    def add_raw(self, *texts: str, below: int = 0) -> None:
        """Adds entries given as exact JSON texts (any content) at the head, or ``below`` the
        newest ``below`` entries (an entry committed late, older than the head)."""
        with self._lock:
            at = len(self._texts) - below
            self._texts[at:at] = texts

    def rewrite_entry(self, entry_id: int, text: str) -> None:
        """Replaces the text of the entry with ``entry_id`` in place (a changed entry)."""
        with self._lock:
            for index, existing in enumerate(self._texts):
                if json.loads(existing).get("id") == entry_id:
                    self._texts[index] = text
                    return
        raise KeyError(entry_id)

    def entry_texts(self, project: str | None = None) -> list[str]:
        """The texts the server holds now (for ``project`` only, if given), newest first."""
        with self._lock:
            texts = list(reversed(self._texts))
        if project is None:
            return texts
        return [t for t in texts if (json.loads(t).get("project") or {}).get("slug") == project]

    # --- control ------------------------------------------------------------------------------

    def schedule(self, fault: Fault) -> None:
        """Queues a fault; faults apply in the order they were queued."""
        with self._lock:
            self._faults.append(fault)

    def fail(self, status: int = 500, *, times: int = 1, page: int | None = None) -> None:
        self.schedule(Fault("status", status=status, times=times, page=page))

    def rate_limit(self, retry_after: str, *, times: int = 1, page: int | None = None) -> None:
        self.schedule(
            Fault(
                "status", status=429, headers={"Retry-After": retry_after}, times=times, page=page
            )
        )

    def stall(self, seconds: float, *, times: int = 1, page: int | None = None) -> None:
        self.schedule(Fault("stall", seconds=seconds, times=times, page=page))

    def drop(self, *, times: int = 1, page: int | None = None) -> None:
        self.schedule(Fault("drop", times=times, page=page))

    def malformed(
        self, kind: str = "truncated", *, times: int = 1, page: int | None = None
    ) -> None:
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; one of {MALFORMED_KINDS}")
        self.schedule(Fault("malformed", malformed=kind, times=times, page=page))

    def redirect(self, location: str, *, times: int = 1, page: int | None = None) -> None:
        self.schedule(Fault("redirect", location=location.rstrip("/"), times=times, page=page))

    def arrive_before_page(self, page: int, count: int) -> None:
        """Adds ``count`` entries when ``page`` is next requested (entries arriving mid-sync)."""
        with self._lock:
            self._arrivals[page] = self._arrivals.get(page, 0) + count

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._arrivals.clear()

    # --- serving ------------------------------------------------------------------------------

    def _take_fault(self, page: int) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.page is None or fault.page == page:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _check_auth(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return user == "" and password == self._token

    def handle(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        page = _query_int(query, "page", 1)
        per_page = min(max(_query_int(query, "per_page", 50), 1), self.max_per_page)
        project = query.get("project", [None])[0]
        authorization = handler.headers.get("Authorization")
        authorized = self._check_auth(authorization)
        with self._lock:
            self.requests.append(
                RequestRecord(
                    url.path, page, per_page, project, authorization is not None, authorized,
                    handler.headers.get("Host", ""),
                )
            )  # fmt: skip
        if url.path != self.path_template.format(org=self.org, project=project or ""):
            handler.send_body(404, b'{"error": {"message": "Not found"}}')
            return
        if not authorized or self.reject_token:
            handler.send_body(
                401,
                b'{"error": {"message": "Unauthorized"}}',
                {"WWW-Authenticate": 'Basic realm="api"'},
            )
            return
        if self.forbid:
            handler.send_body(403, b'{"error": {"message": "Forbidden"}}')
            return
        fault = self._take_fault(page)
        if fault is not None and fault.kind == "stall":
            self._stopping.wait(fault.seconds)
            fault = None
        if fault is not None and fault.kind == "status":
            handler.send_body(fault.status, b'{"error": {"message": "emulated"}}', fault.headers)
            return
        if fault is not None and fault.kind == "redirect":
            handler.send_response(307)
            handler.send_header("Location", fault.location + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        with self._lock:
            arriving = self._arrivals.pop(page, 0)
        if arriving:
            self.add_entries(arriving)
        body = self._page_body(page, per_page, project, fault)
        if fault is not None and fault.kind == "drop":
            handler.send_body(200, body, cut=len(body) // 2)
            return
        handler.send_body(200, body)

    def _page_body(
        self, page: int, per_page: int, project: str | None, fault: Fault | None
    ) -> bytes:
        texts = self.entry_texts(project)
        total = len(texts)
        chosen = texts[(page - 1) * per_page : page * per_page] if page >= 1 else []
        paging: dict[str, int] = {
            "page": page,
            "per_page": per_page,
            "item_count": len(chosen),
            "total_count": total,
            "page_count": math.ceil(total / per_page),
        }
        kind = fault.malformed if fault is not None and fault.kind == "malformed" else None
        if kind == "nan" and chosen:
            chosen = [chosen[0][:-1] + ', "score": NaN}', *chosen[1:]]
        if kind == "no-data":
            return json.dumps({"items": [], "paging": paging}).encode()
        if kind == "not-json":
            return b"<html><body>502 Bad Gateway</body></html>"
        if kind == "bad-paging":
            return b'{"data": [], "paging": "none"}'
        body = '{"data": [' + ", ".join(chosen) + '], "paging": ' + json.dumps(paging) + "}"
        encoded = body.encode("utf-8")
        if kind == "truncated":
            return encoded[: len(encoded) * 2 // 3]
        if kind == "trailing-garbage":
            return encoded + b" <!-- cached -->"
        return encoded


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query.get(name, [str(default)])[0])
    except ValueError:
        return default


def iter_requests(emulators: list[AuditLogEmulator]) -> Iterator[RequestRecord]:
    """Every request any of ``emulators`` saw."""
    for emulator in emulators:
        yield from list(emulator.requests)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.emulator``: serves until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.emulator",
        description="Serve an emulated Memfault audit-log endpoint on this machine.",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--org", default=DEFAULT_ORG)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the token the emulator accepts")
    parser.add_argument(
        "--arrive-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="add a new entry every SECONDS (entries arriving while you sync)",
    )
    args = parser.parse_args(argv)
    emulator = AuditLogEmulator(
        token=args.token, org=args.org, entries=args.entries, host=args.host, port=args.port
    )
    emulator.start()
    print(f"Emulated audit log of {args.org!r} with {args.entries} entries at {emulator.base_url}")
    print(
        f"Try: AV_TOKEN=<the --token value> auditviewer sync --org {args.org} "
        f"--base-url {emulator.base_url} --token-env AV_TOKEN"
    )
    try:
        while True:
            if args.arrive_every > 0:
                threading.Event().wait(args.arrive_every)
                emulator.add_entries(1)
            else:
                threading.Event().wait(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
