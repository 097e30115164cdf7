"""Sync on a company network: proxies from the environment or the settings, company CAs.

Real servers only: the emulator over HTTPS with a certificate authority made in the test, and a
CONNECT proxy on 127.0.0.1 that records what passes through it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from auditviewer.cli import main
from auditviewer.core.store.connection import Store
from auditviewer.core.sync import SyncConfig, SyncConfigError, SyncNetworkError, sync
from auditviewer.core.sync.errors import SyncCertificateError
from auditviewer.core.sync.network import (
    ProxyChoice,
    choose_proxy,
    parse_proxy_url,
    resolve_proxy,
    ssl_context,
)
from tests.core.sync.conftest import TOKEN, fast_config, server_identity, stored_identity
from tests.support.connect_proxy import ConnectProxy
from tests.support.emulator import AuditLogEmulator
from tests.support.tls_ca import CA_NAME, LocalPki, make_pki

ENDPOINT = "https://api.memfault.com/api/v0/organizations/acme/audit-log"


# --- which proxy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "url", "source"),
    [
        ({}, None, "no proxy is set"),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128", "HTTPS_PROXY"),
        ({"https_proxy": "proxy.corp:8080"}, "http://proxy.corp:8080", "https_proxy"),
        (
            {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"},
            "http://low:1",
            "https_proxy",
        ),
        ({"ALL_PROXY": "http://all.corp:3128"}, "http://all.corp:3128", "ALL_PROXY"),
        (
            {"HTTPS_PROXY": "http://p:1", "ALL_PROXY": "http://all:2"},
            "http://p:1",
            "HTTPS_PROXY",
        ),
        # HTTP_PROXY is for http:// endpoints only.
        ({"HTTP_PROXY": "http://plain:3128"}, None, "no proxy is set"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "memfault.com"}, None, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".memfault.com"}, None, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None, None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": "other.com"}, "http://p:1", "HTTPS_PROXY"),
    ],
)
def test_the_environment_names_the_proxy(
    environ: dict[str, str], url: str | None, source: str | None
) -> None:
    choice = choose_proxy(ENDPOINT, environ=environ)
    assert choice.url == url
    if source is not None:
        assert choice.source == source
    else:
        assert "NO_PROXY" in choice.source.upper()
        assert "api.memfault.com" in choice.describe()


def test_an_explicit_proxy_beats_the_environment() -> None:
    choice = choose_proxy(
        ENDPOINT, "http://explicit:3128", environ={"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    )
    assert choice == ProxyChoice("http://explicit:3128", "--proxy")


def test_proxy_credentials_are_kept_apart_and_never_shown() -> None:
    choice = parse_proxy_url("http://alice:s%3Acret@proxy.corp:3128", "HTTPS_PROXY")
    assert choice.url == "http://proxy.corp:3128"
    assert (choice.username, choice.password) == ("alice", "s:cret")
    for text in (repr(choice), choice.describe(), str(choice)):
        assert "s:cret" not in text
        assert "s%3Acret" not in text
    assert "alice" in choice.describe()


@pytest.mark.parametrize(
    "bad", ["socks5://proxy:1080", "http://", "http://u:pw@", "ftp://proxy:21"]
)
def test_an_unusable_proxy_is_refused_with_its_source(bad: str) -> None:
    with pytest.raises(SyncConfigError, match="--proxy"):
        choose_proxy(ENDPOINT, bad)


def test_the_proxy_setting_never_holds_a_password() -> None:
    with pytest.raises(SyncConfigError, match="must not hold a password"):
        SyncConfig(org="acme", proxy="http://alice:secret@proxy:3128").validated()
    config = SyncConfig(org="acme", proxy="http://alice@proxy:3128").validated()
    choice = resolve_proxy(config, password="secret", setting_source="the sync settings")
    assert (choice.url, choice.username, choice.password) == (
        "http://proxy:3128",
        "alice",
        "secret",
    )
    assert choice.source == "the sync settings"


# --- certificate authorities -----------------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> LocalPki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_emulator(pki: LocalPki) -> Iterator[AuditLogEmulator]:
    with AuditLogEmulator(entries=60, tls=pki.server_context()) as server:
        yield server


def test_an_unknown_ca_is_refused_naming_host_issuer_and_the_fix(
    store: Store, tls_emulator: AuditLogEmulator
) -> None:
    config = fast_config(tls_emulator)
    assert config.base_url.startswith("https://127.0.0.1:")
    with pytest.raises(SyncCertificateError) as caught:
        sync(store, config, TOKEN)
    message = str(caught.value)
    assert message.startswith("127.0.0.1: the server's TLS certificate is not trusted")
    assert CA_NAME in message
    assert "--ca-file" in message
    assert stored_identity(store) == []
    assert tls_emulator.requests == []  # the token was never sent


def test_the_company_ca_file_is_trusted_besides_the_system_store(
    store: Store, tls_emulator: AuditLogEmulator, pki: LocalPki
) -> None:
    config = replace(fast_config(tls_emulator), ca_file=str(pki.ca_file))
    sync(store, config, TOKEN)
    assert stored_identity(store) == server_identity(tls_emulator)


def test_a_certificate_for_another_host_is_refused(
    store: Store, tmp_path: Path, pki: LocalPki
) -> None:
    other = make_pki(tmp_path / "other", hosts=("intranet.example",))
    with AuditLogEmulator(entries=5, tls=other.server_context()) as server:
        config = replace(fast_config(server), ca_file=str(other.ca_file))
        with pytest.raises(SyncCertificateError, match="for another host name"):
            sync(store, config, TOKEN)


@pytest.mark.parametrize("content", [None, b"", b"not a certificate\n"])
def test_an_unusable_ca_file_is_named(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "company-ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SyncConfigError, match=str(path)):
        ssl_context(path)


# --- through a proxy -------------------------------------------------------------------------


def _through(proxy: ConnectProxy, **changes: str) -> ProxyChoice:
    url = proxy.url
    if changes.get("credentials"):
        url = url.replace("http://", f"http://{changes['credentials']}@")
    return choose_proxy("https://127.0.0.1", url)


def test_sync_reaches_the_server_through_a_connect_proxy_and_the_token_stays_in_the_tunnel(
    store: Store, tls_emulator: AuditLogEmulator, pki: LocalPki
) -> None:
    config = replace(fast_config(tls_emulator), ca_file=str(pki.ca_file))
    with ConnectProxy() as proxy:
        sync(store, config, TOKEN, proxy=_through(proxy))
    assert stored_identity(store) == server_identity(tls_emulator)
    assert proxy.connects
    assert all(
        line.startswith(f"CONNECT 127.0.0.1:{tls_emulator.port} ") for line in proxy.connects
    )
    seen = proxy.seen
    assert TOKEN.encode() not in seen
    assert base64.b64encode(f":{TOKEN}".encode()) not in seen
    assert b"audit-log" not in seen  # the request line itself is inside the tunnel


def test_the_environment_proxy_is_used_and_no_proxy_bypasses_it(
    store: Store, tls_emulator: AuditLogEmulator, pki: LocalPki
) -> None:
    config = replace(fast_config(tls_emulator), ca_file=str(pki.ca_file))
    with ConnectProxy() as proxy:
        via_env = resolve_proxy(config, environ={"HTTPS_PROXY": proxy.url})
        assert via_env.source == "HTTPS_PROXY"
        sync(store, config, TOKEN, proxy=via_env)
        used = len(proxy.connects)
        assert used > 0
        bypass = resolve_proxy(
            config, environ={"HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost,127.0.0.1"}
        )
        assert bypass.url is None
        tls_emulator.add_entries(5)
        sync(store, config, TOKEN, proxy=bypass)
        assert len(proxy.connects) == used
    assert stored_identity(store) == server_identity(tls_emulator)


def test_proxy_credentials_reach_the_proxy(
    store: Store, tls_emulator: AuditLogEmulator, pki: LocalPki
) -> None:
    config = replace(fast_config(tls_emulator), ca_file=str(pki.ca_file))
    with ConnectProxy(credentials="alice:s3cret") as proxy:
        sync(store, config, TOKEN, proxy=_through(proxy, credentials="alice:s3cret"))
    assert stored_identity(store) == server_identity(tls_emulator)


@pytest.mark.parametrize(
    ("refusal", "credentials", "expected"),
    [
        (407, None, "asks for a user name and password (407"),
        (None, "alice:wrong", "asks for a user name and password (407"),
        (502, None, "refused to connect to 127.0.0.1 (502"),
    ],
)
def test_a_refusing_proxy_gives_a_clear_message(
    store: Store,
    tls_emulator: AuditLogEmulator,
    pki: LocalPki,
    refusal: int | None,
    credentials: str | None,
    expected: str,
) -> None:
    config = replace(fast_config(tls_emulator), ca_file=str(pki.ca_file))
    required = "alice:s3cret" if credentials else None
    with ConnectProxy(refuse_with=refusal, credentials=required) as proxy:
        choice = _through(proxy, credentials=credentials or "")
        with pytest.raises(SyncNetworkError) as caught:
            sync(store, config, TOKEN, proxy=choice)
    message = str(caught.value)
    assert expected in message
    assert proxy.url in message
    assert "wrong" not in message
    assert TOKEN not in message


def test_an_untrusted_certificate_behind_a_proxy_names_its_issuer(
    store: Store, tls_emulator: AuditLogEmulator
) -> None:
    with ConnectProxy() as proxy, pytest.raises(SyncCertificateError) as caught:
        sync(store, fast_config(tls_emulator), TOKEN, proxy=_through(proxy))
    assert CA_NAME in str(caught.value)


def test_an_unreachable_proxy_says_so(store: Store, tls_emulator: AuditLogEmulator) -> None:
    with ConnectProxy() as proxy:
        url = proxy.url
    config = replace(fast_config(tls_emulator), max_retries=0)
    with pytest.raises(SyncNetworkError, match="cannot connect through the proxy"):
        sync(store, config, TOKEN, proxy=choose_proxy("https://x", url))


# --- the command line ------------------------------------------------------------------------


def test_cli_uses_proxy_and_ca_file_and_says_which_proxy(
    tmp_path: Path,
    tls_emulator: AuditLogEmulator,
    pki: LocalPki,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AV_TOKEN", TOKEN)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # explicit beats the environment
    store_path = tmp_path / "store.sqlite"
    with ConnectProxy(credentials="alice:s3cret") as proxy:
        proxied = proxy.url.replace("http://", "http://alice:s3cret@")
        argv = [
            "--store", str(store_path), "sync", "--org", "acme",
            "--base-url", tls_emulator.base_url, "--token-env", "AV_TOKEN",
            "--proxy", proxied, "--ca-file", str(pki.ca_file),
        ]  # fmt: skip
        assert main(argv) == 0
    out, err = capsys.readouterr()
    assert f"connecting through the proxy {proxy.url} as alice (from --proxy)" in err
    assert "s3cret" not in out + err
    assert "60 new" in out
    with Store.open(store_path) as store:
        assert stored_identity(store) == server_identity(tls_emulator)


def test_cli_certificate_failure_is_one_line(
    tmp_path: Path,
    tls_emulator: AuditLogEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AV_TOKEN", TOKEN)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    argv = [
        "--store", str(tmp_path / "s.sqlite"), "sync", "--org", "acme",
        "--base-url", tls_emulator.base_url, "--token-env", "AV_TOKEN",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert CA_NAME in err
    assert "--ca-file" in err
