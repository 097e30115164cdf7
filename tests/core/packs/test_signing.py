"""The signing key: made once, kept in a real keyring or else in an owner-only file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from auditviewer.core.packs.signing import (
    IN_FILE,
    IN_KEYRING,
    KeyPlace,
    SigningKeyError,
    fingerprint,
    key_place,
    normalize_fingerprint,
    signing_key,
)
from tests.support.fake_keyring import LosingKeyring, MemoryKeyring, PlaintextKeyring


def test_a_file_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "key.pem"
    first = signing_key(path, use_keyring=False)
    assert first.created
    assert first.kept_in == IN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in first.where
    assert "no secure system keyring" in first.where
    again = signing_key(path, use_keyring=False)
    assert not again.created
    assert again.fingerprint == first.fingerprint


def test_a_secure_keyring_keeps_the_key_and_no_file_is_written(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    path = tmp_path / "key.pem"
    first = signing_key(path, backend=backend)
    assert first.kept_in == IN_KEYRING
    assert first.created
    assert not path.exists()
    assert "system keyring" in first.where
    again = signing_key(path, backend=backend)
    assert again.fingerprint == first.fingerprint
    assert not again.created


@pytest.mark.parametrize("backend", [LosingKeyring(), PlaintextKeyring()], ids=["losing", "plain"])
def test_a_keyring_that_cannot_be_trusted_leaves_the_key_in_the_file(
    tmp_path: Path, backend: MemoryKeyring
) -> None:
    made = signing_key(tmp_path / "key.pem", backend=backend)
    assert made.kept_in == IN_FILE
    assert (tmp_path / "key.pem").exists()


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match=str(path)):
        signing_key(path, use_keyring=False)


def test_the_fingerprint_is_the_sha256_of_the_raw_key_in_groups(tmp_path: Path) -> None:
    import hashlib

    from cryptography.hazmat.primitives import serialization

    key = signing_key(tmp_path / "key.pem", use_keyring=False)
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.fingerprint.replace(" ", "") == hashlib.sha256(raw).hexdigest()
    assert fingerprint(key.public_key) == key.fingerprint
    assert normalize_fingerprint(key.fingerprint.replace(" ", ":").upper()) == key.fingerprint


def test_where_the_key_is_kept_is_told_without_making_it(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    backend = MemoryKeyring()
    place = key_place(path, backend=backend)
    assert (place.exists, place.kind, place.keyring_available) == (False, IN_KEYRING, True)
    assert "MemoryKeyring" in place.where
    assert key_place(path, use_keyring=False) == KeyPlace(False, IN_FILE, str(path), False)
    assert not path.exists()
    assert backend.secrets == {}
    signing_key(path, use_keyring=False)
    assert key_place(path, backend=backend) == KeyPlace(True, IN_FILE, str(path), True)
    signing_key(tmp_path / "other.pem", backend=backend)
    assert key_place(tmp_path / "other.pem", backend=backend).exists
