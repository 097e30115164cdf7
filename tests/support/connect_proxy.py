"""A small HTTP CONNECT proxy on 127.0.0.1 that records every byte that passes through it."""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
from typing import Any


class _Handler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        proxy = self.server.proxy
        client: socket.socket = self.request
        client.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        proxy.record(head)
        request_line, _, header_text = head.partition(b"\r\n")
        parts = request_line.split(b" ")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in header_text.split(b"\r\n"))
            if name
        }
        proxy.connects.append(request_line.decode("latin-1"))
        if proxy.refuse_with is not None:
            status = proxy.refuse_with
            extra = b'Proxy-Authenticate: Basic realm="corp"\r\n' if status == 407 else b""
            client.sendall(b"HTTP/1.1 %d Refused\r\n%sContent-Length: 0\r\n\r\n" % (status, extra))
            return
        if proxy.credentials is not None:
            expected = b"Basic " + base64.b64encode(proxy.credentials.encode())
            if headers.get(b"proxy-authorization") != expected:
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n'
                )
                return
        if len(parts) < 2 or parts[0] != b"CONNECT":
            client.sendall(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].decode().rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        self._pipe(client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    self.server.proxy.record(data)
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: ConnectProxy


class ConnectProxy:
    """Use as a context manager; ``seen`` is every byte in both directions."""

    def __init__(self, *, refuse_with: int | None = None, credentials: str | None = None) -> None:
        self.refuse_with = refuse_with
        self.credentials = credentials
        self.connects: list[str] = []
        self._seen = bytearray()
        self._lock = threading.Lock()
        self._server = _ProxyServer(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def seen(self) -> bytes:
        with self._lock:
            return bytes(self._seen)

    def record(self, data: bytes) -> None:
        with self._lock:
            self._seen += data

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
