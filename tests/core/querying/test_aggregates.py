"""Facet counts and time histograms under a filter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from auditviewer.core.querying.aggregates import (
    DIMENSIONS,
    FacetCount,
    HistogramBin,
    facets,
    histogram,
)
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import parse_moment, parse_query
from auditviewer.core.store.connection import Store
from tests.core.querying.query_data import all_details, fill, oracle

_FIELD = {
    "action": "action",
    "actor": "actor_label",
    "project": "project",
    "entity": "entity_type",
    "actor_type": "actor_type",
}
_FILTERS = {
    "everything": Filter(),
    "time range": Filter(after=parse_moment("2024-09-02"), before=parse_moment("2024-10-01")),
    "negated action": Filter(not_actions=("organization_auth_token.update",)),
    "text": Filter(text=("uploader",)),
}


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    return fill(store, tmp_path)


@pytest.mark.parametrize("flt", _FILTERS.values(), ids=_FILTERS.keys())
@pytest.mark.parametrize("dimension", list(DIMENSIONS))
def test_facet_counts_equal_counting_the_matches(
    filled: Store, dimension: str, flt: Filter
) -> None:
    kept = [e for e in all_details(filled) if oracle(flt, e)]
    expected = Counter(getattr(e, _FIELD[dimension]) for e in kept)
    result = facets(filled, flt, dimension)
    assert {f.value: f.count for f in result} == dict(expected)
    assert sum(f.count for f in result) == len(kept)


def test_facets_are_ordered_by_count_then_value(filled: Store) -> None:
    result = facets(filled, Filter(quarantined=False), "action")
    keys = [(-f.count, f.value) for f in result]
    assert keys == sorted(keys)
    assert result[0] == FacetCount("organization_auth_token.update", 20)


def test_facet_limit_keeps_the_most_frequent(filled: Store) -> None:
    assert facets(filled, Filter(), "action", limit=1) == [
        FacetCount("organization_auth_token.update", 20)
    ]


def test_facet_counts_entries_without_a_value_as_none(filled: Store) -> None:
    projects = {f.value: f.count for f in facets(filled, Filter(), "project")}
    assert projects[None] == 5  # two entries without a project, three quarantined


def test_unknown_facet_dimension_is_refused(filled: Store) -> None:
    with pytest.raises(ValueError, match="no facet"):
        facets(filled, Filter(), "colour")


@pytest.mark.parametrize("bucket", ["day", "hour"])
def test_histogram_bins_sum_to_the_timed_matches(filled: Store, bucket: str) -> None:
    flt = parse_query("-actor-type:token")
    kept = [e for e in all_details(filled) if oracle(flt, e) and e.created_utc is not None]
    bins = histogram(filled, flt, bucket=bucket)
    assert sum(b.count for b in bins) == len(kept)
    starts = [b.start_utc for b in bins]
    assert starts == sorted(set(starts))


def test_day_bins_start_at_midnight_utc_and_hold_that_day(filled: Store) -> None:
    flt = Filter(after=parse_moment("2024-09-30"), before=parse_moment("2024-10-02"))
    assert histogram(filled, flt, bucket="day") == [
        HistogramBin(parse_moment("2024-09-30"), 1),
        HistogramBin(parse_moment("2024-10-01"), 1),
    ]


def test_hour_bins_split_a_day(filled: Store) -> None:
    flt = Filter(after=parse_moment("2024-09-01"), before=parse_moment("2024-09-02"))
    bins = histogram(filled, flt, bucket="hour")
    assert [(b.start_utc, b.count) for b in bins] == [
        (parse_moment("2024-09-01T04:00:00Z"), 1),
        (parse_moment("2024-09-01T10:00:00Z"), 2),
    ]


def test_histogram_floors_times_before_1970(filled: Store) -> None:
    # Floor, not truncation toward zero, so a bin never starts after its entries.
    bins = histogram(filled, Filter(before=parse_moment("2024-01-01")), bucket="day")
    assert bins == [HistogramBin(parse_moment("2023-01-05"), 1)]


def test_unknown_bucket_is_refused(filled: Store) -> None:
    with pytest.raises(ValueError, match="no bucket"):
        histogram(filled, Filter(), bucket="week")


def test_values_differing_in_case_are_one_facet_value_and_filter_together(
    store: Store, tmp_path: Path
) -> None:
    from auditviewer.core.querying.window import EntryQuery
    from auditviewer.core.store.file_import import import_file
    from tests.conftest import make_entry, write_json

    shouty = {"type": "user", "id": 17, "email": "Jane@Example.com"}
    entries = [make_entry(n) for n in range(1, 4)] + [make_entry(9, actor=shouty)]
    import_file(store, write_json(tmp_path / "e.json", entries))
    assert facets(store, Filter(), "actor") == [FacetCount("jane@example.com", 4)]
    for spelling in ("jane@example.com", "JANE@EXAMPLE.COM", "Jane@Example.com"):
        with EntryQuery(store, Filter(actors=(spelling,))) as query:
            assert query.count() == 4, spelling


def test_histogram_of_times_spread_over_millennia(store: Store, tmp_path: Path) -> None:
    from auditviewer.core.store.file_import import import_file
    from tests.conftest import make_entry, write_json

    entries = [
        make_entry(1, created_date="1971-01-01T00:00:00Z"),
        make_entry(2, created_date="2024-09-01T10:00:00Z"),
        make_entry(3, created_date="2024-09-01T10:30:00Z"),
        make_entry(4, created_date="9000-01-01T00:00:00Z"),
    ]
    import_file(store, write_json(tmp_path / "e.json", entries))
    bins = histogram(store, Filter(), "hour")
    assert [b.count for b in bins] == [1, 2, 1]
    assert bins[1].start_utc == parse_moment("2024-09-01T10:00:00Z")
    negated = histogram(store, Filter(not_actions=("x.y",)), "hour")
    assert negated == bins
