"""The Ed25519 key that signs evidence packs: made on first use, kept as safely as the system
allows.

The private key lives in the operating system's keyring when a real one is available (the same
test as for the sync token: :func:`~auditviewer.core.sync.token_store.is_secure_backend`);
elsewhere in a file readable by its owner only (mode 0600) in the user data folder, and the
caller is told which (:attr:`SigningKey.kept_in`). The key's fingerprint is the SHA-256 of the
raw 32-byte public key, shown in groups of four hex digits.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import keyring
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from keyring.backend import KeyringBackend

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.sync.token_store import SERVICE_NAME, is_secure_backend

KEYRING_ACCOUNT: Final = "evidence-signing-key"
IN_KEYRING: Final = "keyring"
IN_FILE: Final = "file"


class SigningKeyError(AuditViewerError):
    """The signing key cannot be read or kept."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The signing key, where it is kept, and whether it was made just now."""

    private_key: Ed25519PrivateKey
    kept_in: str
    location: str
    created: bool

    def __repr__(self) -> str:
        return f"SigningKey(fingerprint={self.fingerprint!r}, kept_in={self.kept_in!r})"

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, which goes into every pack."""
        return self.private_key.public_key()

    @property
    def public_pem(self) -> bytes:
        """The public key as PEM (SubjectPublicKeyInfo), as OpenSSL reads it."""
        return public_pem(self.public_key)

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the public key (:func:`fingerprint`)."""
        return fingerprint(self.public_key)

    @property
    def where(self) -> str:
        """Where the private key is kept, as a sentence for the user."""
        if self.kept_in == IN_KEYRING:
            return f"the private key is kept in the system keyring ({self.location})"
        return (
            f"no secure system keyring is available: the private key is kept in the file "
            f"{self.location}, readable by you only"
        )

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature of ``data`` (64 bytes)."""
        return self.private_key.sign(data)


def public_pem(key: Ed25519PublicKey) -> bytes:
    """``key`` as PEM (SubjectPublicKeyInfo)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex, in groups of four digits."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def normalize_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, spaces or colons) in the form :func:`fingerprint` gives."""
    digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def load_public_key(pem: bytes, origin: str) -> Ed25519PublicKey:
    """Reads an Ed25519 public key from PEM; raises :class:`SigningKeyError` naming ``origin``."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise SigningKeyError(f"{origin}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{origin}: not an Ed25519 public key")
    return key


def signature_holds(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``key``'s Ed25519 signature of ``data``."""
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def signing_key(
    key_file: Path, *, backend: KeyringBackend | None = None, use_keyring: bool = True
) -> SigningKey:
    """The signing key: the one kept already, else a new one, kept in the keyring or in
    ``key_file``.

    ``backend`` replaces the system's keyring (tests); without ``use_keyring`` only the file is
    used. A key already in the file is used even when a keyring has become available, so packs
    keep one signer. Raises :class:`SigningKeyError` when a kept key cannot be read or a new
    one cannot be kept.
    """
    secure = _secure_backend(backend) if use_keyring else None
    if secure is not None:
        stored = _from_keyring(secure)
        if stored is not None:
            return SigningKey(stored, IN_KEYRING, _describe(secure), created=False)
    if key_file.exists():
        return SigningKey(_from_file(key_file), IN_FILE, str(key_file), created=False)
    key = Ed25519PrivateKey.generate()
    if secure is not None and _to_keyring(secure, key):
        return SigningKey(key, IN_KEYRING, _describe(secure), created=True)
    _to_file(key_file, key)
    return SigningKey(key, IN_FILE, str(key_file), created=True)


@dataclass(frozen=True, slots=True)
class KeyPlace:
    """Where the signing key is kept, or would be kept, without making it.

    ``kind`` is :data:`IN_KEYRING` or :data:`IN_FILE`; ``where`` the keyring's name or the
    file's path; ``keyring_available`` whether a secure keyring exists (a key kept in a file
    beside an available keyring was made before the keyring was).
    """

    exists: bool
    kind: str
    where: str
    keyring_available: bool


def key_place(
    key_file: Path, *, backend: KeyringBackend | None = None, use_keyring: bool = True
) -> KeyPlace:
    """Where :func:`signing_key` finds the key, or would keep a new one; makes nothing."""
    secure = _secure_backend(backend) if use_keyring else None
    available = secure is not None
    if secure is not None:
        try:
            kept = secure.get_password(SERVICE_NAME, KEYRING_ACCOUNT)
        except Exception:  # a locked or failing keyring: the file decides
            kept = None
        if kept:
            return KeyPlace(True, IN_KEYRING, _describe(secure), available)
    if key_file.exists():
        return KeyPlace(True, IN_FILE, str(key_file), available)
    if secure is not None:
        return KeyPlace(False, IN_KEYRING, _describe(secure), available)
    return KeyPlace(False, IN_FILE, str(key_file), available)


def _secure_backend(backend: KeyringBackend | None) -> KeyringBackend | None:
    try:
        found = backend or keyring.get_keyring()
    except Exception:  # keyring's discovery can fail in many ways
        return None
    return found if is_secure_backend(found) else None


def _describe(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(pem: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{origin}: the signing key cannot be read") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{origin}: the signing key is not an Ed25519 key")
    return key


def _from_keyring(backend: KeyringBackend) -> Ed25519PrivateKey | None:
    try:
        text = backend.get_password(SERVICE_NAME, KEYRING_ACCOUNT)
    except Exception:  # a locked or broken keyring holds no key we can use
        return None
    if text is None:
        return None
    return _load_private(text.encode("ascii"), "the system keyring")


def _to_keyring(backend: KeyringBackend, key: Ed25519PrivateKey) -> bool:
    """Stores the key and reads it back; False when the keyring did not keep it."""
    pem = _private_pem(key).decode("ascii")
    try:
        backend.set_password(SERVICE_NAME, KEYRING_ACCOUNT, pem)
        kept = backend.get_password(SERVICE_NAME, KEYRING_ACCOUNT) == pem
    except Exception:  # keyring errors, D-Bus errors, a locked keychain, ...
        kept = False
    if not kept:
        with contextlib.suppress(Exception):
            backend.delete_password(SERVICE_NAME, KEYRING_ACCOUNT)
    return kept


def _from_file(path: Path) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            f"{path}: the signing key cannot be read ({exc.strerror or exc})"
        ) from None
    return _load_private(pem, str(path))


def _to_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Writes the key to a new file that only its owner can read (never over another file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_private_pem(key))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise SigningKeyError(
            f"{path}: the signing key cannot be kept there ({exc.strerror or exc}); no pack "
            "was signed"
        ) from None
