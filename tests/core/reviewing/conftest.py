"""A store of forty entries for the review tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json

ENTRIES = 40


def fill(store: Store, folder: Path, count: int = ENTRIES, first: int = 1) -> None:
    """Imports ``count`` entries, every third a release, every fourth by a token."""
    entries = []
    for number in range(first, first + count):
        overrides: dict[str, object] = {}
        if number % 3 == 0:
            overrides["action"] = "release.update"
        if number % 4 == 0:
            overrides["actor"] = {"type": "token", "id": 9, "name": "CI token"}
        entries.append(make_entry(number, **overrides))
    import_file(store, write_json(folder / f"e{first}.json", entries))


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "reviews.sqlite")
    fill(opened, tmp_path)
    yield opened
    opened.close()
