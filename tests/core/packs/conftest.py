"""A store holding the bundled sample export, and a signing key in a file of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditviewer.core.packs.signing import SigningKey, signing_key
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "sample-export.json"


@pytest.fixture
def sample_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "store.sqlite")
    import_file(store, SAMPLE)
    yield store
    store.close()


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return signing_key(tmp_path / "keys" / "signing-key.pem", use_keyring=False)
