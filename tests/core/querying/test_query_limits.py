"""Queries far larger than people type: many words, many alternatives, long phrases, many stars."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditviewer.core.querying.columns import TermTable
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import parse_query
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.text_index import build_fulltext
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import matched

WORDS = [f"word{n}x" for n in range(1200)]


@pytest.fixture
def wordy(store: Store, tmp_path: Path) -> Store:
    """A store whose entry 3 holds 1200 words in one value; not yet indexed for text search."""
    entries = [
        make_entry(1),
        make_entry(2, action="cohort.create"),
        make_entry(3, note=" ".join(WORDS)),
    ]
    import_file(store, write_json(tmp_path / "a.json", entries), index_text=False)
    return store


@pytest.mark.parametrize("indexed", [False, True])
def test_a_phrase_of_1200_words_is_found(wordy: Store, indexed: bool) -> None:
    if indexed:
        build_fulltext(wordy)
    assert matched(wordy, parse_query(f'"{" ".join(WORDS)}"')) == [3]
    assert matched(wordy, parse_query(f'"{" ".join(reversed(WORDS))}"')) == []
    assert matched(wordy, parse_query(f'-"{" ".join(WORDS)}"')) == [1, 2]


@pytest.mark.parametrize("indexed", [pytest.param(False, marks=pytest.mark.slow), True])
def test_1000_bare_words_must_all_be_there(wordy: Store, indexed: bool) -> None:
    if indexed:
        build_fulltext(wordy)
    assert matched(wordy, parse_query(" ".join(WORDS[:1000]))) == [3]
    assert matched(wordy, parse_query(" ".join([*WORDS[:999], "absent"]))) == []
    assert matched(wordy, parse_query(" ".join(f"-{word}" for word in WORDS[:1000]))) == [1, 2]


def test_1200_wildcard_alternatives_are_one_lookup(wordy: Store) -> None:
    query = " ".join(f"action:x{n}*" for n in range(1200))
    assert matched(wordy, parse_query(query)) == []
    assert matched(wordy, parse_query(query + " action:cohort.*")) == [2]
    assert matched(wordy, parse_query(query.replace("action:", "-action:"))) == [1, 2, 3]


def test_a_pattern_of_many_stars_is_answered_at_once(store: Store, tmp_path: Path) -> None:
    entries = [make_entry(1, project={"slug": "a" * 60}), make_entry(2)]
    import_file(store, write_json(tmp_path / "a.json", entries))
    started = time.perf_counter()
    assert matched(store, Filter(projects=("*a" * 30 + "*x",))) == []
    assert matched(store, Filter(projects=("*a" * 30 + "*",))) == [1]
    assert time.perf_counter() - started < 2


@given(
    patterns=st.lists(st.text(alphabet="aAb*", max_size=6), min_size=1, max_size=3),
    texts=st.lists(st.text(alphabet="aAb", max_size=6), max_size=6),
)
def test_wildcards_match_as_a_regular_expression_would(
    patterns: list[str], texts: list[str]
) -> None:
    table = TermTable()
    for term_id, text in enumerate(texts, start=1):
        table.add(term_id, text)
    regexes = [
        ".*".join(re.escape(part) for part in pattern.casefold().split("*")) for pattern in patterns
    ]
    expected = [False] + [
        any(re.fullmatch(regex, text.casefold(), re.DOTALL) for regex in regexes) for text in texts
    ]
    assert table.lookup(tuple(patterns), table.size).tolist() == expected


def _ends_in_1_to_100(number: int) -> bool:
    digits = str(number)
    return any(digits[k] != "0" and int(digits[k:]) <= 100 for k in range(len(digits)))


def test_1200_prefix_alternatives_over_20000_terms_take_moments() -> None:
    table = TermTable()
    for term_id in range(1, 20_001):
        table.add(term_id, f"User{term_id}@example.com")
    started = time.perf_counter()
    assert not table.lookup(tuple(f"x{n}*" for n in range(1200)), table.size).any()
    found = table.lookup(tuple(f"user{n}@*" for n in range(1, 1201)), table.size)
    assert time.perf_counter() - started < 1
    assert found.tolist() == [False] + [n <= 1200 for n in range(1, 20_001)]
    found = table.lookup(tuple(f"*{n}@*" for n in range(1, 101)), table.size)
    assert found.tolist() == [False] + [_ends_in_1_to_100(n) for n in range(1, 20_001)]
