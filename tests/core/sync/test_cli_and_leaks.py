"""The ``sync`` command, and a canary-token scan of everything the app wrote and printed."""

from __future__ import annotations

import base64
import logging
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import null

from auditviewer.core.records import CancelToken
from auditviewer.core.store.connection import Store
from auditviewer.core.sync import (
    SyncCancelled,
    SyncError,
    SyncProgress,
    check_connection,
    sync,
    sync_status,
)
from auditviewer.core.sync import client as client_module
from auditviewer.core.sync.client import AuditLogClient
from auditviewer.core.sync.token_store import SERVICE_NAME, TokenStore, account_name
from tests.core.sync.cli_parsing import parse
from tests.core.sync.conftest import Sleeps, fast_config, server_identity, stored_identity
from tests.support.emulator import AuditLogEmulator
from tests.support.fake_keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any file the app might write outside the store lands in the test's folder."""
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        (tmp_path / name.lower()).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def cli_args(store: Path, server: AuditLogEmulator, *extra: str) -> list[str]:
    return ["--org", "acme", "--base-url", server.base_url, "--per-page", "25", *extra]


def run_cli(store: Path, server: AuditLogEmulator, *extra: str) -> int:
    args = parse(store, *cli_args(store, server, *extra))
    return int(args.handler(args))


def test_cli_syncs_with_a_token_from_the_environment(
    tmp_path: Path,
    emulator: AuditLogEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AV_TOKEN", "emulator-token")
    path = tmp_path / "store.sqlite"
    assert run_cli(path, emulator, "--token-env", "AV_TOKEN") == 0
    out, err = capsys.readouterr()
    assert "120 new, 0 duplicates, 0 conflicts, 0 quarantined; 5 pages, 0 retries" in out
    assert "Traceback" not in err
    with Store.open(path) as store:
        assert stored_identity(store) == server_identity(emulator)


def test_cli_error_is_one_line_without_traceback(
    tmp_path: Path,
    emulator: AuditLogEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AV_TOKEN", "wrong")
    assert run_cli(tmp_path / "s.sqlite", emulator, "--token-env", "AV_TOKEN") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("auditviewer: the server refused the token (401 Unauthorized)")
    assert err.count("\n") == 1


def test_cli_names_the_host_it_could_not_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(client_module, "jittered_backoff", lambda *_: 0.0)
    server = AuditLogEmulator(entries=1)
    server.stop()  # nothing listens on its port any more
    monkeypatch.setenv("AV_TOKEN", "emulator-token")
    assert run_cli(tmp_path / "s.sqlite", server, "--token-env", "AV_TOKEN") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # Each retry is said as it happens; the last line is the error.
    final = err.splitlines()[-1]
    assert final.startswith("auditviewer: page 1: cannot connect to the server 127.0.0.1:")
    assert f"127.0.0.1:{server.port}; gave up after 5 retries" in final


def test_cli_reports_a_missing_variable_and_a_bad_url(
    tmp_path: Path, emulator: AuditLogEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path / "s.sqlite", emulator, "--token-env", "NOT_SET_ANYWHERE") == 1
    assert "NOT_SET_ANYWHERE is not set" in capsys.readouterr().err
    args = parse(tmp_path / "s.sqlite", "--org", "acme", "--base-url", "http://example.com")
    assert args.handler(args) == 1
    assert "only allowed for this machine" in capsys.readouterr().err


def test_cli_without_a_token_and_without_a_terminal_explains(
    tmp_path: Path, emulator: AuditLogEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(MemoryKeyring())
    assert run_cli(tmp_path / "s.sqlite", emulator) == 1
    assert "no token: pass --token-env" in capsys.readouterr().err


def test_cli_reads_the_keyring(
    tmp_path: Path, emulator: AuditLogEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    TokenStore().save(account_name(emulator.base_url, "acme"), "emulator-token")
    assert run_cli(tmp_path / "s.sqlite", emulator) == 0
    assert "120 new" in capsys.readouterr().out


def test_cli_resumes_after_a_failure_and_says_so(
    tmp_path: Path,
    emulator: AuditLogEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AV_TOKEN", "emulator-token")
    emulator.malformed("truncated", page=3)
    path = tmp_path / "s.sqlite"
    assert run_cli(path, emulator, "--token-env", "AV_TOKEN") == 1
    err = capsys.readouterr().err
    assert "page 3 of the audit log is malformed" in err
    assert "run the same command again to resume" in err
    assert run_cli(path, emulator, "--token-env", "AV_TOKEN") == 0
    with Store.open(path) as store:
        assert stored_identity(store) == server_identity(emulator)


# --- the canary ---------------------------------------------------------------------------------


def _forms(token: str) -> list[bytes]:
    """The token as it could leak: itself, and the Basic credentials it becomes."""
    return [
        token.encode(),
        base64.b64encode(f":{token}".encode()),
        base64.b64encode(token.encode()),
        token.encode("utf-16-le"),
    ]


class _Tty:
    def __init__(self, stream: object) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def test_canary_token_never_leaks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = "cnry-" + secrets.token_hex(20)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "keyring", "urllib3", "auditviewer"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    texts: list[str] = []
    path = tmp_path / "store.sqlite"
    command = sys.modules[parse(path, "--org", "x").handler.__module__]

    with AuditLogEmulator(token=canary, entries=120) as server:
        config = fast_config(server)
        # 1. A full sync through the core, with faults along the way.
        server.fail(503, page=2)
        server.drop(page=3)
        server.rate_limit("1", page=4)
        server.arrive_before_page(2, 5)
        with Store.open(path) as store:
            progress: list[SyncProgress] = []
            report = sync(store, config, canary, progress=progress.append, sleep=Sleeps())
            texts += [repr(report), repr(config), *map(repr, progress)]
            texts.append(repr(sync_status(store, config)))
            texts.append(str(check_connection(config, canary)))
            # 2. Runs that fail, and one that is cancelled.
            for arrange in (
                lambda: server.malformed("nan", page=1),
                lambda: server.fail(500, times=10),
                lambda: server.redirect("http://localhost:9", page=1),
                lambda: setattr(server, "forbid", True),
            ):
                arrange()
                with pytest.raises(SyncError) as caught:
                    sync(store, config, canary, sleep=Sleeps())
                texts += [str(caught.value), repr(caught.value), repr(caught.value.report)]
                server.clear_faults()
                server.forbid = False
            cancel = CancelToken()
            cancel.cancel()
            with pytest.raises(SyncCancelled) as cancelled:
                sync(store, config, canary, cancel=cancel)
            texts.append(repr(cancelled.value))
            with AuditLogClient(config, canary) as client:
                texts.append(repr(client))
            # The store is open: the WAL is on disk now.
            leaked = _scan_files(tmp_path, canary)
            assert leaked == [], f"the token is in {leaked}"
        # 3. The CLI: token from the environment, then typed at the (hidden) prompt.
        server.add_entries(3)
        monkeypatch.setenv("AV_CANARY", canary)
        args = parse(path, *cli_args(path, server, "--token-env", "AV_CANARY", "--timeout", "2"))
        assert args.handler(args) == 0
        backend = MemoryKeyring()
        keyring.set_keyring(backend)
        monkeypatch.setattr(sys, "stdin", _Tty(sys.stdin))
        monkeypatch.setattr(command.getpass, "getpass", lambda prompt: canary)
        server.add_entries(3)
        args = parse(path, *cli_args(path, server))
        assert args.handler(args) == 0
        assert backend.secrets[(SERVICE_NAME, account_name(server.base_url, "acme"))] == canary
        server.reject_token = True
        args = parse(path, *cli_args(path, server))
        assert args.handler(args) == 1
        keyring.set_keyring(null.Keyring())
        args = parse(path, *cli_args(path, server, "--token-env", "AV_CANARY"))
        assert args.handler(args) == 1
        texts.append(repr(TokenStore()))

    out, err = capsys.readouterr()
    texts += [out, err, caplog.text, *(repr(r.__dict__) for r in caplog.records)]
    assert "Traceback" not in err
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # logs were captured
    for form in _forms(canary):
        for text in texts:
            assert form not in text.encode("utf-8", "surrogatepass")
    assert _scan_files(tmp_path, canary) == []
    with Store.open(path) as store:
        assert len(stored_identity(store)) == 120 + 5 + 6


def _scan_files(root: Path, token: str) -> list[str]:
    hits = []
    for file in root.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            if any(form in data for form in _forms(token)):
                hits.append(str(file.relative_to(root)))
    return hits
