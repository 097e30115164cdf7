"""A sync run is recorded once in the custody log, with its counts and the entry head after it."""

from __future__ import annotations

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.custody_log import SYNC, entry_head
from auditviewer.core.sync import SyncConfig, sync
from tests.core.sync.conftest import ENTRIES, TOKEN


def test_each_sync_run_is_recorded_once(store: Store, config: SyncConfig) -> None:
    sync(store, config, TOKEN)
    sync(store, config, TOKEN)
    runs = [record for record in read_custody(store) if record.what == SYNC]
    assert len(runs) == 2
    first, second = runs
    assert first.detail["imported"] == ENTRIES
    assert first.detail["complete"] is True
    assert first.detail["location"] == config.location
    assert second.detail["imported"] == 0
    with store.raw() as connection:
        head = entry_head(connection)
    assert (first.entries_seq, first.entries_head) == (head.seq, head.sha256)
    assert check_store(store).ok
