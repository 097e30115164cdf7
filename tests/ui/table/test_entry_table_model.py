"""The table model reads windows through EntryQuery, sorts in SQLite and passes Qt's checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.table import entry_table_model
from auditviewer.ui.table.entry_table_model import COLUMNS, EntryTableModel
from auditviewer.ui.table.flags_delegate import FLAG_KEYS_ROLE
from tests.conftest import make_entry, write_json


@pytest.fixture
def model(qapp: Any, filled_store: Store, reference: ActionReference) -> Any:
    table = EntryTableModel(filled_store, reference)
    yield table
    table.close()


def test_model_passes_qt_model_tester(qtmodeltester: Any, model: EntryTableModel) -> None:
    qtmodeltester.check(model, force_py=True)


def test_row_count_is_the_query_count(model: EntryTableModel, filled_store: Store) -> None:
    with EntryQuery(filled_store, Filter()) as query:
        assert model.rowCount() == query.count() == 10
    assert model.rowCount(model.index(0, 0)) == 0


def test_rows_are_newest_first_by_default(model: EntryTableModel) -> None:
    times = [model.row_at(r).created_utc for r in range(model.rowCount())]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("column", [c for c, info in enumerate(COLUMNS) if info.sort])
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_sorting_by_a_column_follows_the_core_order(
    model: EntryTableModel, filled_store: Store, column: int, order: Qt.SortOrder
) -> None:
    model.sort(column, order)
    shown = [model.row_at(r).seq for r in range(model.rowCount())]
    sort = Sort(COLUMNS[column].sort, descending=order == Qt.SortOrder.DescendingOrder)
    with EntryQuery(filled_store, Filter(), sort) as query:
        assert shown == list(query.iter_seqs())


def test_data_serves_only_its_roles(model: EntryTableModel) -> None:
    index = model.index(0, 1)
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "release.create"
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(index, Qt.ItemDataRole.EditRole) is None
    assert model.data(QModelIndex()) is None


def test_actor_column_marks_users_and_tokens(model: EntryTableModel) -> None:
    kinds = {model.row_at(r).actor_type for r in range(model.rowCount())}
    assert kinds == {"user", "token"}
    icon = model.data(model.index(0, entry_table_model.ACTOR), Qt.ItemDataRole.DecorationRole)
    assert icon is not None
    assert not icon.isNull()
    tooltip = model.data(model.index(0, entry_table_model.ACTOR), Qt.ItemDataRole.ToolTipRole)
    assert "User" in tooltip or "Organization Auth Token" in tooltip


def test_flags_column_names_unknown_and_early_actions(
    store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    entries = [
        make_entry(1, action="legacy.gone"),
        make_entry(2, action="cohort.update", created_date="2023-01-05T10:00:00+00:00"),
    ]
    import_file(store, write_json(tmp_path / "e.json", entries))
    model = EntryTableModel(store, reference)
    try:
        flags = {
            model.row_at(r).action: model.data(
                model.index(r, entry_table_model.FLAGS), Qt.ItemDataRole.AccessibleTextRole
            )
            for r in range(2)
        }
        markers = {
            model.row_at(r).action: model.data(
                model.index(r, entry_table_model.FLAGS), FLAG_KEYS_ROLE
            )
            for r in range(2)
        }
        shown = model.data(model.index(0, entry_table_model.FLAGS))
    finally:
        model.close()
    assert shown is None  # drawn as markers, not as text
    assert markers == {
        "legacy.gone": ("unknown-action", "past-retention"),
        "cohort.update": ("anomaly", "past-retention"),
    }
    assert "unknown action" in flags["legacy.gone"]
    assert "before reference" in flags["cohort.update"]
    assert "past retention" in flags["cohort.update"]


def test_time_column_switches_between_utc_and_local(model: EntryTableModel) -> None:
    model.set_utc(True)
    assert model.data(model.index(0, 0)).endswith(" Z")
    assert "UTC" in model.headerData(0, Qt.Orientation.Horizontal)
    model.set_utc(False)
    assert not model.data(model.index(0, 0)).endswith(" Z")


def test_the_page_cache_stays_small_at_any_depth(
    store: Store, tmp_path: Path, reference: ActionReference, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry_table_model, "PAGE_SIZE", 10)
    monkeypatch.setattr(entry_table_model, "CACHE_PAGES", 3)
    import_file(store, write_json(tmp_path / "many.json", [make_entry(n) for n in range(1, 301)]))
    model = EntryTableModel(store, reference)
    try:
        seen = [model.row_at(r).seq for r in range(0, 300, 7)]
        assert len(model._pages) <= 3
        assert len(set(seen)) == len(seen)
        assert model.row_at(299) is not None
        assert model.row_at(300) is None
    finally:
        model.close()


def test_selected_rows_map_to_seqs_in_table_order(model: EntryTableModel) -> None:
    seqs = model.seqs_of_rows([(0, 1), (5, 6)])
    assert seqs == [model.row_at(r).seq for r in (0, 1, 5, 6)]


def test_a_new_filter_shows_its_first_page_before_the_count(
    qtbot: Any, qtmodeltester: Any, store: Store, tmp_path: Path, reference: ActionReference
) -> None:
    from auditviewer.ui.tasks.reads import BackgroundCounter

    entries = [make_entry(n, project={"slug": "a" if n % 3 else "b"}) for n in range(1, 401)]
    import_file(store, write_json(tmp_path / "many.json", entries))
    counter = BackgroundCounter(store)
    model = EntryTableModel(store, reference, counter=counter)
    qtmodeltester.check(model, force_py=True)
    try:
        with qtbot.waitSignal(model.count_known, timeout=10_000) as blocker:
            model.set_filter(Filter(projects=("a",)))
            assert model.count_pending
            assert model.rowCount() == entry_table_model.PAGE_SIZE
        assert blocker.args == [267]
        assert model.rowCount() == 267
        assert not model.count_pending
        # Sorting the same rows needs no new count.
        model.sort(1, Qt.SortOrder.AscendingOrder)
        assert model.rowCount() == 267
        assert not model.count_pending
        model.set_filter(Filter(projects=("b",)))
        assert model.exact_count() == 133
        assert model.rowCount() == 133
        assert model.row_at(132) is not None
    finally:
        counter.shutdown()
        model.close()
