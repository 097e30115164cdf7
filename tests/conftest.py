"""Shared fixtures: real stores in temporary folders, and small export files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from auditviewer.core.store.connection import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A new, empty store file in a temporary folder."""
    opened = Store.open(tmp_path / "store.sqlite")
    yield opened
    opened.close()


def make_entry(number: int, **overrides: Any) -> dict[str, Any]:
    """A realistic entry in the vendor's canonical shape."""
    entry: dict[str, Any] = {
        "id": number,
        "created_date": f"2024-09-{1 + number % 28:02d}T{number % 24:02d}:07:55.120331+00:00",
        "action": "organization_auth_token.update",
        "actor": {"type": "user", "id": 17, "email": "jane@example.com", "name": "Jane Doe"},
        "organization": {"slug": "acme"},
        "project": {"slug": "smart-sensor", "name": "Smart Sensor"},
        "entity": {"type": "organization_auth_token", "id": 42, "name": "CI uploader"},
        "changes": {"scopes": {"old": ["read"], "new": ["read", "write"]}},
        "ip_address": "203.0.113.5",
        "user_agent": "memfault-cli/1.4",
    }
    entry.update(overrides)
    return entry


def write_json(path: Path, value: Any, **dump_options: Any) -> Path:
    """Writes ``value`` as JSON and returns the path."""
    path.write_text(json.dumps(value, **dump_options), encoding="utf-8")
    return path


@pytest.fixture
def entries() -> list[dict[str, Any]]:
    """Twenty distinct entries, newest first like the vendor's export."""
    return [make_entry(n) for n in range(20, 0, -1)]
