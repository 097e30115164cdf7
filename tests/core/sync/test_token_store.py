"""The token store: only real OS keyrings, read back after saving, memory fallback."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.backend
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from auditviewer.core.sync.token_store import (
    NO_SECURE_STORAGE,
    SERVICE_NAME,
    TokenStore,
    account_name,
    is_secure_backend,
)
from tests.support.fake_keyring import (
    LockedKeyring,
    LosingKeyring,
    MemoryKeyring,
    PlaintextKeyring,
)

SECRET = "tok-5ecret-value-0123456789"
ACCOUNT = account_name("https://api.memfault.com/", "acme")


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_account_names_the_org_and_the_api() -> None:
    assert ACCOUNT == "acme@https://api.memfault.com"


def test_real_backend_stores_and_reads_back() -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    tokens = TokenStore()
    saved = tokens.save(ACCOUNT, SECRET)
    assert saved.secure
    assert SECRET not in saved.message
    assert backend.secrets == {(SERVICE_NAME, ACCOUNT): SECRET}
    assert TokenStore().load(ACCOUNT) == SECRET  # a new session finds it
    tokens.forget(ACCOUNT)
    assert TokenStore().load(ACCOUNT) is None


@pytest.mark.parametrize("backend", [null.Keyring(), fail.Keyring(), PlaintextKeyring()])
def test_unsafe_or_missing_backends_keep_the_token_for_the_session_only(
    backend: KeyringBackend,
) -> None:
    keyring.set_keyring(backend)
    tokens = TokenStore()
    assert not tokens.secure
    saved = tokens.save(ACCOUNT, SECRET)
    assert not saved.secure
    assert saved.message == NO_SECURE_STORAGE
    assert tokens.load(ACCOUNT) == SECRET
    assert TokenStore().load(ACCOUNT) is None
    if isinstance(backend, PlaintextKeyring):
        assert backend.secrets == {}  # never handed to a plain-file store


def test_backend_that_loses_the_token_is_caught_by_reading_back() -> None:
    keyring.set_keyring(LosingKeyring())
    tokens = TokenStore()
    saved = tokens.save(ACCOUNT, SECRET)
    assert not saved.secure
    assert "did not keep the token" in saved.message
    assert tokens.load(ACCOUNT) == SECRET


def test_locked_keyring_falls_back_to_memory_with_a_reason() -> None:
    keyring.set_keyring(LockedKeyring())
    saved = TokenStore().save(ACCOUNT, SECRET)
    assert not saved.secure
    assert "KeyringLocked" in saved.message
    assert SECRET not in saved.message


def test_no_keyring_error_is_handled() -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(keyring.errors.NoKeyringError):
        keyring.get_password(SERVICE_NAME, ACCOUNT)
    assert TokenStore().load(ACCOUNT) is None


def test_chainer_counts_only_if_it_chains_a_real_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [null.Keyring()])
    assert not is_secure_backend(chainer.ChainerBackend())
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [MemoryKeyring()])
    assert is_secure_backend(chainer.ChainerBackend())


def test_repr_never_shows_the_token() -> None:
    keyring.set_keyring(null.Keyring())
    tokens = TokenStore()
    tokens.save(ACCOUNT, SECRET)
    assert SECRET not in repr(tokens)
