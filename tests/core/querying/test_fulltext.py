"""The full-text index: building it, and identical answers before, during and after."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.fulltext import fts_query, phrase_tokens
from auditviewer.core.querying.window import store_stats
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.text_index import build_fulltext, indexed_upto
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import fill, matched

PHRASES = [
    "uploader",
    "upload",  # prefix of a word
    "bob builder",  # a phrase of two values' words
    "builder bob",  # order matters
    "cafe",  # diacritics folded
    "DÉJÀ",  # case and diacritics folded in the query too
    "1e3",
    "1000",  # 1e3 as a number is not text
    "42",
    "jane@example.com",
    "address",  # key names are not indexed
    "created_date",
    'NEAR( "x" AND',
    "NEAR(",
    '"',
    "AND",
    "OR",
    "NOT",
    "*",
    "%",
    "_",
    "under",
    "it's",
    "a:b",
    "^x",
    "-",
]


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    return fill(store, tmp_path)


def _answers(store: Store) -> dict[str, tuple[list[int], list[int]]]:
    return {
        p: (matched(store, Filter(text=(p,))), matched(store, Filter(not_text=(p,))))
        for p in PHRASES
    }


def test_results_are_the_same_before_and_after_building(filled: Store) -> None:
    before = _answers(filled)
    assert build_fulltext(filled) == 33
    assert _answers(filled) == before


def test_results_are_the_same_with_a_partly_built_index(filled: Store) -> None:
    before = _answers(filled)
    token = CancelToken()

    def stop_after_first_chunk(_: Progress) -> None:
        token.cancel()

    done = build_fulltext(filled, progress=stop_after_first_chunk, cancel=token, chunk_rows=10)
    assert done == 10
    with filled.raw() as connection:
        assert indexed_upto(connection) == 10
    assert _answers(filled) == before


def test_expected_matches(filled: Store) -> None:
    build_fulltext(filled)
    found = {p: matched(filled, Filter(text=(p,))) for p in PHRASES}
    assert found["bob builder"] == found["cafe"] == found["NEAR("] == [9]
    assert found["builder bob"] == found["1000"] == found["address"] == []
    assert found["created_date"] == []
    assert found["DÉJÀ"] == found["1e3"] == [2]
    assert found["upload"] == found["uploader"]
    assert len(found["uploader"]) == 28


def test_phrase_without_words_matches_nothing_and_its_negation_everything(filled: Store) -> None:
    assert matched(filled, Filter(text=("*%_",))) == []
    assert len(matched(filled, Filter(not_text=("*%_",)))) == 33


def test_fts_operators_in_user_text_cannot_reach_match() -> None:
    assert fts_query(phrase_tokens('a" OR b NEAR(c) *')) == '"a or b near c" *'


def test_second_build_indexes_nothing(filled: Store) -> None:
    build_fulltext(filled)
    assert build_fulltext(filled) == 0


def test_build_continues_with_new_entries(filled: Store, tmp_path: Path) -> None:
    build_fulltext(filled)
    new = write_json(tmp_path / "new.json", [make_entry(500, note="zebra")])
    import_file(filled, new, index_text=False)
    assert matched(filled, Filter(text=("zebra",))) == [34]
    assert build_fulltext(filled) == 1
    assert matched(filled, Filter(text=("zebra",))) == [34]
    assert store_stats(filled).fts_indexed_upto == 34


def test_progress_reports_indexed_entries(filled: Store) -> None:
    seen: list[Progress] = []
    build_fulltext(filled, progress=seen.append, chunk_rows=15)
    assert [(p.done, p.total, p.phase) for p in seen] == [
        (15, 33, "index"), (30, 33, "index"), (33, 33, "index"),
    ]  # fmt: skip


def test_building_an_empty_store_indexes_nothing(store: Store) -> None:
    assert build_fulltext(store) == 0


def test_an_import_into_a_complete_index_indexes_in_the_same_pass(
    filled: Store, tmp_path: Path
) -> None:
    build_fulltext(filled)
    before = _answers(filled)
    new = write_json(tmp_path / "new.json", [make_entry(500, note="zebra crossing")])
    report = import_file(filled, new)
    assert report.indexed == 1
    with filled.raw() as connection:
        assert indexed_upto(connection) == 34
        rows = connection.execute(
            "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?", (fts_query(["zebra"]),)
        ).fetchall()
    assert rows == [(34,)]
    assert build_fulltext(filled) == 0
    assert matched(filled, Filter(text=("zebra crossing",))) == [34]
    after = _answers(filled)
    without_new = {p: tuple([s for s in found if s != 34] for found in a) for p, a in after.items()}
    assert without_new == before


def test_an_import_behind_an_incomplete_index_leaves_it_to_the_build(
    filled: Store, tmp_path: Path
) -> None:
    new = write_json(tmp_path / "new.json", [make_entry(500, note="zebra")])
    assert import_file(filled, new).indexed == 0
    with filled.raw() as connection:
        assert indexed_upto(connection) == 0
    assert matched(filled, Filter(text=("zebra",))) == [34]
    assert build_fulltext(filled) == 34
