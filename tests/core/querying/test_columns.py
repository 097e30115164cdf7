"""The column cache: from blocks or rows alike, extended as the store grows, snapshots fixed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from auditviewer.core.querying.columns import ColumnCache, column_cache, columns
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import all_details, expected_order, fill, oracle


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    return fill(store, tmp_path)


def _without_blocks(store: Store) -> None:
    connection = sqlite3.connect(store.path)
    try:
        connection.execute("DROP TRIGGER column_blocks_refuse_delete")
        connection.execute("DELETE FROM column_blocks WHERE first_seq > 1")
        connection.commit()
    finally:
        connection.close()


def test_rows_without_blocks_load_the_same_columns(filled: Store) -> None:
    from_blocks = ColumnCache(filled).snapshot()
    _without_blocks(filled)
    from_rows = ColumnCache(filled).snapshot()
    assert from_rows.size == from_blocks.size == 33
    assert np.array_equal(from_rows.seq, from_blocks.seq)
    assert np.array_equal(from_rows.created, from_blocks.created)
    for name, values in from_blocks.terms.items():
        assert np.array_equal(from_rows.terms[name], values), name
    flt = Filter(not_actions=("organization_auth_token.update",))
    mask = from_rows.mask(flt)
    assert mask is not None
    kept = [e for e in all_details(filled) if oracle(flt, e)]
    sort = Sort("actor")
    ordered = from_rows.seq[from_rows.ordered(mask, sort)]
    assert [int(s) for s in ordered] == expected_order(kept, sort)


def test_a_snapshot_stays_as_it_was_while_the_store_grows(filled: Store, tmp_path: Path) -> None:
    before = columns(filled)
    import_file(filled, write_json(tmp_path / "more.json", [make_entry(n) for n in range(70, 80)]))
    after = columns(filled)
    assert (before.size, after.size) == (33, 43)
    assert before.last_seq == 33
    assert after.last_seq == 43
    assert after is columns(filled)  # nothing new: the same snapshot
    assert column_cache(filled) is column_cache(filled)


def test_conflicts_found_later_count_only_in_later_snapshots(filled: Store, tmp_path: Path) -> None:
    before = columns(filled)
    conflicting = [make_entry(12, action="cohort.delete")]
    import_file(filled, write_json(tmp_path / "c.json", conflicting))
    after = columns(filled)
    assert int(before.conflicts().sum()) == 2
    assert int(after.conflicts().sum()) == 4


def test_a_replaced_store_file_is_loaded_again(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        import_file(store, write_json(tmp_path / "a.json", [make_entry(n) for n in range(5)]))
        cache = column_cache(store)
        assert cache.snapshot().size == 5
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store.close()
        with Store.open(path) as fresh:
            import_file(fresh, write_json(tmp_path / "b.json", [make_entry(9)]))
        assert cache.snapshot().size == 1


def test_a_growing_dictionary_widens_its_column(store: Store, tmp_path: Path) -> None:
    def entry(n: int) -> dict[str, object]:
        return make_entry(n, entity={"type": "device", "id": f"SN{n:05d}", "name": "x"})

    import_file(store, write_json(tmp_path / "a.json", [entry(n) for n in range(10)]))
    small = columns(store)
    assert small.terms["entity_key"].dtype == np.uint8
    import_file(store, write_json(tmp_path / "b.json", [entry(n) for n in range(10, 700)]))
    grown = columns(store)
    assert grown.terms["entity_key"].dtype.itemsize >= 2
    assert small.terms["entity_key"].dtype == np.uint8  # an older snapshot is untouched
    mask = grown.mask(Filter(entity_ids=("sn00650",)))
    assert mask is not None
    with store.raw() as connection:
        expected = [
            seq
            for (seq,) in connection.execute(
                "SELECT seq FROM entry_view WHERE entity_id = 'SN00650'"
            )
        ]
    assert len(expected) == 1
    assert [int(s) for s in grown.seq[mask]] == expected
