"""Arbitrary query strings: each parses and gives the right entries, or is refused in a sentence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from auditviewer.core.errors import QueryError
from auditviewer.core.querying.filter import Sort
from auditviewer.core.querying.language import KEYS, format_query, parse_query
from auditviewer.core.querying.window import EntryDetail, EntryQuery
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store.connection import Store
from auditviewer.core.store.text_index import build_fulltext
from tests.core.querying.query_data import all_details, fill, oracle

_KEY_NAMES = [*KEYS, "actor_type", "Sources", "SEQ", "unknown-action", "colour", "a", "x_y"]
_VALUES = [
    "*", "**", "-", "--", '"', '\\"', "\\", "(", ")", "OR", "AND", "NOT", "NEAR(", ":", "%", "_",
    "^", "\x00", "\x07", "\x1b[31m", "\u202e", "\u2028", "\ud800", "é", "Café", "日本", "😀",
    "yes", "no", "on", "maybe", "2024-09-01", "2024-09-01T10:00:00+14:00", "0001-01-01",
    "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "yesterday", "cohort.*",
    "*_token.*", "*a*a*a*a*a*a*a*a*a*a*a*x", "jane@example.com", "Jane Doe", "token", "user",
    "release", "smart-sensor", "uploader", "0", "9223372036854775807", "9223372036854775808",
    "9" * 4301,
]  # fmt: skip

_value = st.one_of(
    st.sampled_from(_VALUES),
    st.integers(min_value=0, max_value=10**25).map(str),
    st.text(max_size=6),
)
_term = st.one_of(
    st.tuples(st.sampled_from(["", "-"]), st.sampled_from(_KEY_NAMES), _value).map(
        lambda parts: f"{parts[0]}{parts[1]}:{parts[2]}"
    ),
    _value.map(lambda value: f'"{value}"'),
    _value.map(lambda value: f"-{value}"),
    _value,
)
_separator = st.sampled_from([" ", " ", " ", "  ", "", "\t", "\n"])
queries = st.lists(st.tuples(_term, _separator), max_size=10).map(
    lambda terms: "".join(term + separator for term, separator in terms)
)


@pytest.fixture(scope="module")
def evaluated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Store, list[EntryDetail]]]:
    """The query test store, its text index built for the first entries only."""
    folder = tmp_path_factory.mktemp("fuzz")
    store = fill(Store.open(folder / "store.sqlite"), folder)
    token = CancelToken()

    def stop_after_first_chunk(_: Progress) -> None:
        token.cancel()

    build_fulltext(store, progress=stop_after_first_chunk, cancel=token, chunk_rows=15)
    yield store, all_details(store)
    store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=queries)
@example(text="source:9223372036854775808")
@example(text="seq:" + "9" * 4301)
@example(text="seq:0 source:1")
@example(text="-after:2024-09-01 before:9999-12-31T23:59:59-00:01")
@example(text="-action:cohort.* project:*a*a*a*a*a*a*a*a*a*a*a*x")
@example(text='"' + " ".join(f"w{n}" for n in range(1200)) + '"')
def test_any_query_gives_the_right_entries_or_a_query_error(
    evaluated: tuple[Store, list[EntryDetail]], text: str
) -> None:
    store, details = evaluated
    refused: QueryError | None = None
    try:
        flt = parse_query(text)
    except QueryError as exc:
        refused = exc
    if refused is not None:
        event("refused")
        assert 0 <= refused.position <= len(text)
        assert "\n" not in refused.reason
        assert len(refused.reason) < 300
        return
    event("evaluated")
    assert parse_query(format_query(flt)) == flt
    with EntryQuery(store, flt, Sort("seq", descending=False)) as query:
        found = list(query.iter_seqs())
        assert query.count() == len(found)
    assert found == [e.seq for e in details if oracle(flt, e)]
