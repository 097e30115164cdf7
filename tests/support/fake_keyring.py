"""The one allowed stand-in: an in-memory keyring backend (no OS keyring can run here)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Behaves like a real secret store, in this process's memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class LosingKeyring(MemoryKeyring):
    """Accepts the token and then returns nothing, like a misconfigured backend."""

    def get_password(self, service: str, username: str) -> str | None:
        return None


class LockedKeyring(MemoryKeyring):
    """A keychain the user did not unlock."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's plain-file backend."""


PlaintextKeyring.__module__ = "keyrings.alt.file"
