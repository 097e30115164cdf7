"""EntryQuery, get_entries, list_sources and store_stats over a real store file."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from auditviewer.core.querying.filter import SORT_COLUMNS, Filter, Sort
from auditviewer.core.querying.language import parse_moment, parse_query
from auditviewer.core.querying.window import (
    EntryQuery,
    get_entries,
    list_sources,
    store_stats,
)
from auditviewer.core.reading.normalize import Normalized, normalize
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import all_details, expected_order, fill, matched, oracle


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    return fill(store, tmp_path)


def _expected(store: Store, flt: Filter) -> list[int]:
    return [e.seq for e in all_details(store) if oracle(flt, e)]


FILTERS = {
    "action exact": Filter(actions=("cohort.create",)),
    "action wildcard": Filter(actions=("cohort.*",)),
    "action wildcard in middle": Filter(actions=("*_token.*",)),
    "action repeated is OR": Filter(actions=("cohort.create", "release.update")),
    "action negated": Filter(not_actions=("organization_auth_token.update",)),
    "action ? and [ are literal": Filter(actions=("cohort.[a]?",)),
    "action ? does not match any char": Filter(actions=("cohort.[a]x",)),
    "actor email": Filter(actors=("bob@example.com",)),
    "actor id": Filter(actors=("42",)),
    "actor label with wildcard": Filter(actors=("CI *",)),
    "actor negated keeps entries without actor": Filter(not_actors=("jane@example.com",)),
    "actor type token": Filter(actor_types=("token",)),
    "actor type negated": Filter(not_actor_types=("user",)),
    "project exact": Filter(projects=("smart-sensor",)),
    "project percent and underscore are literal": Filter(projects=("50%_off",)),
    "project underscore is no wildcard": Filter(projects=("5_%off",)),
    "project star before percent": Filter(projects=("5*%off",)),
    "project negated keeps null projects": Filter(not_projects=("smart-sensor",)),
    "entity": Filter(entities=("release",)),
    "entity negated": Filter(not_entities=("organization_auth_token",)),
    "after inclusive": Filter(after=parse_moment("2024-09-30T23:59:59.999999Z")),
    "before exclusive": Filter(before=parse_moment("2024-09-01T10:00:00Z")),
    "range": Filter(after=parse_moment("2024-09-02"), before=parse_moment("2024-10-01")),
    "conflicts yes": Filter(conflicts=True),
    "conflicts no": Filter(conflicts=False),
    "quarantined yes": Filter(quarantined=True),
    "quarantined no": Filter(quarantined=False),
    "unknown action yes": Filter(unknown_action=True),
    "unknown action no": Filter(unknown_action=False),
    "anomalies yes": Filter(anomalies=True),
    "anomalies no": Filter(anomalies=False),
    "sources": Filter(sources=(2,)),
    "seqs": Filter(seqs=(3, 1, 999)),
    "text": Filter(text=("bob builder",)),
    "text negated": Filter(not_text=("uploader",)),
    "combination": Filter(
        actions=("cohort.*", "release.*"),
        not_projects=("smart-sensor",),
        after=parse_moment("2024-08-01"),
        quarantined=False,
    ),
}


@pytest.mark.parametrize("flt", FILTERS.values(), ids=FILTERS.keys())
def test_each_filter_selects_what_its_definition_says(filled: Store, flt: Filter) -> None:
    expected = _expected(filled, flt)
    assert matched(filled, flt) == expected


def test_definition_cases_are_not_trivial(filled: Store) -> None:
    total = len(all_details(filled))
    sizes = {name: len(_expected(filled, flt)) for name, flt in FILTERS.items()}
    trivial = [
        name
        for name, size in sizes.items()
        if size in (0, total) and "no wildcard" not in name and "no match" not in name
        and "does not match" not in name
    ]  # fmt: skip
    assert trivial == []


def test_query_text_and_filter_object_select_the_same(filled: Store) -> None:
    text = 'action:cohort.* -project:smart-sensor after:2024-08-01 "bob builder" quarantined:no'
    assert matched(filled, parse_query(text)) == _expected(filled, parse_query(text))
    assert matched(filled, parse_query(text)) == [9]


@pytest.mark.parametrize("flt", list(FILTERS.values())[:12], ids=list(FILTERS)[:12])
def test_count_equals_number_of_matches(filled: Store, flt: Filter) -> None:
    with EntryQuery(filled, flt) as query:
        assert query.count() == len(list(query.iter_seqs()))


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("column", list(SORT_COLUMNS))
def test_sort_order_is_column_then_time_then_seq_with_nulls_last(
    filled: Store, column: str, descending: bool
) -> None:
    sort = Sort(column, descending)
    assert matched(filled, Filter(), sort) == expected_order(all_details(filled), sort)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("column", list(SORT_COLUMNS))
def test_windows_at_any_offset_are_slices_of_the_full_order(
    filled: Store, column: str, descending: bool
) -> None:
    sort = Sort(column, descending)
    full = expected_order(all_details(filled), sort)
    with EntryQuery(filled, Filter(), sort) as query:
        for offset in (0, 1, 7, len(full) - 5, len(full) - 1, len(full) + 3):
            window = [row.seq for row in query.window(offset, 6)]
            assert window == full[offset : offset + 6], offset


def test_windows_under_a_filter_match_the_filtered_order(filled: Store) -> None:
    flt = Filter(not_actions=("organization_auth_token.update",))
    sort = Sort("action", descending=False)
    kept = [e for e in all_details(filled) if oracle(flt, e)]
    full = expected_order(kept, sort)
    with EntryQuery(filled, flt, sort) as query:
        first = [row.seq for row in query.window(0, 3)]
        deep = [row.seq for row in query.window(5, 3)]
        assert query.count() == len(full)
    assert first == full[:3]
    assert deep == full[5:8]


def test_window_reads_all_row_columns(filled: Store) -> None:
    with EntryQuery(filled, Filter(seqs=(7,))) as query:
        (row,) = query.window(0, 10)
    assert (row.entry_key, row.action, row.actor_type, row.actor_label) == (
        "3", "release.create", "token", "CI uploader",
    )  # fmt: skip
    assert (row.actor_id, row.project, row.entity_type, row.entity_id, row.entity_name) == (
        "42", "smart-sensor", "release", "7", "v1.2",
    )  # fmt: skip
    assert row.created_utc == parse_moment("2024-09-03")
    assert (row.conflict, row.quarantine_reason, row.time_naive, row.source_id) == (
        False, None, False, 1,
    )  # fmt: skip


def test_rows_flag_conflicts_and_naive_times(filled: Store) -> None:
    with EntryQuery(
        filled, Filter(actions=("cohort.create", "cohort.delete", "project.create"))
    ) as q:
        rows = {row.entry_key: row for row in q.window(0, 50)}
    assert rows["1"].conflict
    assert not rows["6"].conflict
    assert rows["7"].time_naive


def test_query_ignores_entries_imported_after_it_started(filled: Store, tmp_path: Path) -> None:
    with EntryQuery(filled, Filter(), Sort("time")) as query:
        before = query.count()
        first = [row.seq for row in query.window(0, 5)]
        import_file(filled, write_json(tmp_path / "late.json", [make_entry(900)]))
        import_file(filled, write_json(tmp_path / "c.json", [make_entry(6, action="x.y")]))
        assert [row.seq for row in query.window(0, 5)] == first
        assert len(list(query.iter_seqs())) == before
        assert sum(1 for _ in EntryQuery(filled, Filter(conflicts=True)).iter_seqs()) > 0


def test_closed_query_refuses_work_and_close_is_idempotent(filled: Store) -> None:
    query = EntryQuery(filled, Filter())
    query.materialize()
    query.close()
    query.close()
    with pytest.raises(RuntimeError, match="closed"):
        query.window(0, 1)


def test_matching_and_sorting_ignore_case(filled: Store) -> None:
    upper = matched(filled, Filter(actors=("Jane@Example.COM",)))
    lower = matched(filled, Filter(actors=("jane@example.com",)))
    assert upper == lower
    assert len(upper) > 10
    assert matched(filled, Filter(projects=("SMART-*",))) == matched(
        filled, Filter(projects=("smart-sensor",))
    )


def test_no_project_is_the_negated_wildcard(filled: Store) -> None:
    details = all_details(filled)
    without = matched(filled, Filter(not_projects=("*",)))
    assert without == [e.seq for e in details if e.project is None]
    assert len(without) >= 2


def test_entity_id_filter(filled: Store) -> None:
    assert matched(filled, Filter(entity_ids=("7",))) == [
        e.seq for e in all_details(filled) if e.entity_id == "7"
    ]


def test_get_entries_returns_details_in_the_order_asked(filled: Store, tmp_path: Path) -> None:
    details = get_entries(filled, [33, 4, 12345])
    assert [d.seq for d in details] == [33, 4]
    newer, older = details
    assert '"cohort.delete"' in newer.raw
    assert newer.source.location.endswith("b.json")
    assert older.source.kind == "file"
    assert len(newer.raw_sha256) == len(newer.chain_sha256) == 64
    assert newer.content_sha256 != older.content_sha256
    assert older.source_index >= 0


def test_list_sources_lists_each_import(filled: Store) -> None:
    sources = list_sources(filled)
    assert [s.id for s in sources] == [1, 2]
    assert (sources[0].parsed, sources[0].quarantined) == (32, 3)
    assert sources[1].conflicts == 1


def test_store_stats_counts_entries_conflicts_and_quarantine(filled: Store) -> None:
    stats = store_stats(filled)
    assert (stats.entries, stats.quarantined, stats.conflict_keys, stats.conflict_entries) == (
        33, 3, 1, 2,
    )  # fmt: skip
    assert (stats.imports, stats.sync_runs, stats.last_seq) == (2, 0, 33)
    assert stats.first_created_utc == parse_moment("2023-01-05T08:00:00Z")
    assert stats.last_created_utc == parse_moment("2024-10-01")
    assert stats.last_chain_sha256 == get_entries(filled, [33])[0].chain_sha256
    assert stats.fts_indexed_upto == 0


def test_stats_of_an_empty_store(store: Store) -> None:
    stats = store_stats(store)
    assert (stats.entries, stats.last_seq, stats.last_chain_sha256) == (0, 0, None)


def test_sort_by_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot sort by"):
        Sort("colour")


def test_a_stored_entry_reads_back_as_the_columns_normalising_it_gave(
    store: Store, tmp_path: Path
) -> None:
    plain = make_entry(1)
    quarantined = {"id": 2, "action": "project.create", "actor": {"type": "user"}}
    import_file(store, write_json(tmp_path / "two.json", [plain, quarantined]))

    details = get_entries(store, [1, 2])

    assert len(details) == 2
    for detail in details:
        normalised = normalize(json.loads(detail.raw))
        names = [field.name for field in fields(Normalized)]
        assert [getattr(detail, n) for n in names] == [getattr(normalised, n) for n in names]
    assert details[0].action == "organization_auth_token.update"
    assert details[1].quarantine_reason is not None
