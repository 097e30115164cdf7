"""Fixtures for sync tests: the emulator on 127.0.0.1, fast settings and store helpers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from auditviewer.core.store.connection import Store
from auditviewer.core.sync import SyncConfig
from tests.support.emulator import DEFAULT_TOKEN, AuditLogEmulator

TOKEN = DEFAULT_TOKEN
ENTRIES = 120
PER_PAGE = 25  # 5 pages


@pytest.fixture
def emulator() -> Iterator[AuditLogEmulator]:
    """A running emulator with 120 entries (5 pages of 25)."""
    with AuditLogEmulator(entries=ENTRIES) as server:
        yield server


def fast_config(server: AuditLogEmulator, **changes: object) -> SyncConfig:
    """Settings with short timeouts and tiny backoffs, so fault tests take milliseconds."""
    config = SyncConfig(
        org="acme",
        base_url=server.base_url,
        per_page=PER_PAGE,
        overlap=10,
        connect_timeout=2.0,
        read_timeout=0.3,
        max_retries=3,
        backoff_base=0.001,
        backoff_cap=0.01,
        max_retry_after=0.05,
        max_rate_limited=3,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture
def config(emulator: AuditLogEmulator) -> SyncConfig:
    return fast_config(emulator)


class Sleeps(list[float]):
    """An injected sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def stored_identity(store: Store) -> list[tuple[str, str]]:
    """Sorted (entry_key, raw_sha256) of every stored entry."""
    with store.raw() as connection:
        rows = connection.execute("SELECT entry_key, raw_sha256 FROM entry_view").fetchall()
    return sorted((key, digest.hex()) for key, digest in rows)


def server_identity(server: AuditLogEmulator, project: str | None = None) -> list[tuple[str, str]]:
    """Sorted (id, sha256 of the exact text) of what the server holds."""
    return sorted(
        (str(json.loads(text)["id"]), hashlib.sha256(text.encode()).hexdigest())
        for text in server.entry_texts(project)
    )


def bookmark(store: Store, config: SyncConfig) -> dict[str, object] | None:
    with store.raw() as connection:
        row = connection.execute(
            "SELECT value FROM meta WHERE key = ?", (config.validated().state_key,)
        ).fetchone()
    return None if row is None else json.loads(row[0])


@pytest.fixture
def new_store(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Opens further stores in the test's folder; closes them at the end."""
    opened: list[Store] = []

    def make(name: str) -> Store:
        store = Store.open(tmp_path / f"{name}.sqlite")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
