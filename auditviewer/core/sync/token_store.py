"""Keeps the Organization Auth Token in the operating system's keyring, and nowhere else.

Only real secret stores are accepted (macOS Keychain, Windows Credential Locker, the Secret
Service / KWallet on Linux, or a chain containing one). ``keyring``'s ``fail`` and ``null``
backends, a chain without a real backend and the plain-file backends of ``keyrings.alt`` are
refused: on such machines (a headless Linux box raises ``NoKeyringError``; the ``null`` backend
"stores" and then returns nothing) the token is kept in this process's memory for the session
only, and the caller is told so. After storing, the token is read back and compared.

The token never appears in a message, a ``repr`` or a log line of this module.
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from typing import Final

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from auditviewer.core.sync.config import normalize_base_url

SERVICE_NAME: Final = "auditviewer"
NO_SECURE_STORAGE: Final = "no secure storage; the token is kept for this session only"


@dataclass(frozen=True, slots=True)
class TokenSaved:
    """How a token was kept: ``secure`` in the OS keyring, or only in memory (``message``)."""

    secure: bool
    message: str


def account_name(base_url: str, org: str) -> str:
    """The keyring account of a token: the organization at the API's base URL."""
    return f"{org}@{normalize_base_url(base_url)}"


def is_secure_backend(backend: KeyringBackend) -> bool:
    """Whether ``backend`` is a real OS secret store (see the module docstring)."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        try:
            chained = list(backend.backends)
        except Exception:  # a failing discovery means no usable backend
            return False
        return any(is_secure_backend(item) for item in chained)
    module = type(backend).__module__
    if module.startswith("keyrings.alt") or "plaintext" in type(backend).__name__.lower():
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # priority raises when the backend is not viable here
        return False


def _describe(backend: KeyringBackend | None) -> str:
    if backend is None:
        return "none"
    return f"{type(backend).__module__}.{type(backend).__name__}"


class TokenStore:
    """Saves, loads and forgets tokens under the service name ``auditviewer``."""

    def __init__(self, service: str = SERVICE_NAME, backend: KeyringBackend | None = None) -> None:
        self.service = service
        self._explicit = backend
        self._session: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"TokenStore(service={self.service!r}, backend={_describe(self._backend())}, "
            f"session_only={sorted(self._session)!r})"
        )

    def _backend(self) -> KeyringBackend | None:
        try:
            backend = self._explicit or keyring.get_keyring()
        except Exception:  # keyring's discovery can fail in many ways
            return None
        return backend if is_secure_backend(backend) else None

    @property
    def secure(self) -> bool:
        """Whether a real OS keyring is available."""
        return self._backend() is not None

    @property
    def backend_name(self) -> str:
        """The keyring backend in use, for an About box or a diagnostic ('none' if refused)."""
        return _describe(self._backend())

    def save(self, account: str, token: str) -> TokenSaved:
        """Keeps ``token`` for ``account``: in the keyring if it can be trusted, else in memory."""
        backend = self._backend()
        if backend is None:
            self._session[account] = token
            return TokenSaved(False, NO_SECURE_STORAGE)
        try:
            backend.set_password(self.service, account, token)
            read_back = backend.get_password(self.service, account)
        except keyring.errors.NoKeyringError:
            self._session[account] = token
            return TokenSaved(False, NO_SECURE_STORAGE)
        except Exception as exc:  # keyring errors, D-Bus errors, a locked keychain, ...
            self._session[account] = token
            return TokenSaved(
                False,
                f"the system keyring refused the token ({type(exc).__name__}); {NO_SECURE_STORAGE}",
            )
        if read_back is None or not hmac.compare_digest(read_back.encode(), token.encode()):
            with contextlib.suppress(Exception):
                backend.delete_password(self.service, account)
            self._session[account] = token
            return TokenSaved(
                False, f"the system keyring did not keep the token; {NO_SECURE_STORAGE}"
            )
        self._session.pop(account, None)
        return TokenSaved(True, f"the token is stored in the system keyring ({_describe(backend)})")

    def load(self, account: str) -> str | None:
        """The token of ``account``, from this session's memory or the keyring; None if none."""
        if account in self._session:
            return self._session[account]
        backend = self._backend()
        if backend is None:
            return None
        try:
            return backend.get_password(self.service, account)
        except Exception:  # a locked or broken keyring holds no token we can use
            return None

    def forget(self, account: str) -> None:
        """Removes the token of ``account`` from memory and from the keyring."""
        self._session.pop(account, None)
        backend = self._backend()
        if backend is not None:
            with contextlib.suppress(Exception):
                backend.delete_password(self.service, account)
