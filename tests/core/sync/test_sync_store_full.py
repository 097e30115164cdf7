"""A sync run whose store fills up: the pages stored stay, the run says why it stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from auditviewer.core.store.connection import Store
from auditviewer.core.sync import SyncConfig, sync
from auditviewer.core.sync.errors import SyncStoreFailed
from tests.core.sync.conftest import TOKEN, server_identity, stored_identity
from tests.support.emulator import AuditLogEmulator


def _limit_growth(store: Store, extra_pages: int) -> None:
    with store.raw() as connection:
        pages = int(connection.execute("PRAGMA page_count").fetchone()[0])

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    event.listen(store.engine, "connect", limit)
    store.engine.dispose()


def test_a_full_store_stops_the_sync_with_a_sentence_and_a_resume_finishes_it(
    tmp_path: Path, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    path = tmp_path / "store.sqlite"
    store = Store.open(path)
    _limit_growth(store, 6)
    with pytest.raises(SyncStoreFailed) as caught:
        sync(store, config, TOKEN)
    message = str(caught.value)
    assert message.startswith(f"{path}: the disk holding the store is full")
    assert "this page was not stored" in message
    report = caught.value.report
    assert report is not None
    kept = stored_identity(store)
    assert len(kept) == report.parsed - report.duplicates < len(server_identity(emulator))
    store.close()
    with Store.open(path) as roomy:
        sync(roomy, config, TOKEN)
        assert stored_identity(roomy) == server_identity(emulator)
