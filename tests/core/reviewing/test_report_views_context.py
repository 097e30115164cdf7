"""The review report (JSON, CSV), saved views, the context around an entry, and the schema step
that adds the review tables to stores written before them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.querying.filter import Sort
from auditviewer.core.querying.language import parse_query
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.reviewing.context import surrounding
from auditviewer.core.reviewing.errors import ReviewError, ViewNotFound
from auditviewer.core.reviewing.marks import mark
from auditviewer.core.reviewing.report import (
    ENTRY_COLUMNS,
    build_report,
    report_format,
    write_report_csv,
    write_report_json,
)
from auditviewer.core.reviewing.reviews import list_reviews, sign_review, start_review
from auditviewer.core.reviewing.views import SavedView, delete_view, get_view, list_views, save_view
from auditviewer.core.store.connection import Store
from auditviewer.core.store.migrations import SCHEMA_VERSION
from tests.core.reviewing.conftest import ENTRIES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTILE_NOTES = (
    "<b>bold</b><script>alert(1)</script>",
    '=HYPERLINK("http://evil")\nsecond line\r\nthird',
    "x" * 5000,
    "\u202eevil\u202c عربي עברית",
)


def _seqs(store: Store, query: str = "") -> list[int]:
    with EntryQuery(store, parse_query(query)) as found:
        return found.seqs(0, found.count())


@pytest.fixture
def reviewed(filled: Store) -> tuple[Store, int, dict[int, tuple[str, str, tuple[str, ...]]]]:
    """A review with every kind of mark, hostile notes and tags on the exceptions."""
    review = start_review(filled, "Quarterly <b>", reviewer="Ann Lee")
    seqs = _seqs(filled)
    exceptions: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    for index, note in enumerate(HOSTILE_NOTES):
        seq = seqs[index]
        disposition = "flagged" if index % 2 == 0 else "follow-up"
        tags = ("<i>tag</i>", f"-{index}", "\u202etag")
        mark(filled, review.id, [seq], disposition, note=note, tags=tags)
        exceptions[seq] = (disposition, note, tags)
    mark(filled, review.id, seqs[10:20], "ok")
    mark(filled, review.id, [seqs[20]], "flagged")
    mark(filled, review.id, [seqs[20]], "ok")  # flagged, then cleared: not an exception
    mark(filled, review.id, [seqs[21]], "follow-up")
    mark(filled, review.id, [seqs[21]], "unreviewed")
    return filled, review.id, exceptions


def test_the_report_lists_exactly_the_flagged_and_follow_up_entries(
    reviewed: tuple[Store, int, dict[int, tuple[str, str, tuple[str, ...]]]],
) -> None:
    store, review_id, exceptions = reviewed
    report = build_report(store, review_id)
    assert {e.seq: (e.disposition, e.note, e.tags) for e in report.entries} == exceptions
    assert (report.counts.flagged, report.counts.follow_up) == (2, 2)
    assert report.counts.ok == 11
    assert report.counts.total == ENTRIES
    assert not report.signed


def test_json_and_csv_reports_hold_hostile_text_literally(
    reviewed: tuple[Store, int, dict[int, tuple[str, str, tuple[str, ...]]]], tmp_path: Path
) -> None:
    store, review_id, exceptions = reviewed
    signed = sign_review(store, review_id, by="Ann Lee", statement="=1+1 <b>reviewed</b>")
    report = build_report(store, review_id)
    assert signed.signature is not None
    assert report.entries_head == signed.signature.entries_head
    assert report.events_head == signed.signature.events_head
    write_report_json(report, tmp_path / "r.json")
    record = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {
        e["seq"]: (e["disposition"], e["note"], tuple(e["tags"])) for e in record["entries"]
    } == (exceptions)
    assert record["signature"]["statement"] == "=1+1 <b>reviewed</b>"
    assert record["store"]["entries_count"] == ENTRIES
    assert record["store"]["review_events_chain_head"] == signed.signature.events_head
    assert record["counts"]["flagged"] == 2

    write_report_csv(report, tmp_path / "r.csv")
    text = (tmp_path / "r.csv").read_bytes().decode("utf-8-sig")
    every = list(csv.reader(io.StringIO(text, newline="")))
    blank = every.index([])
    fields = dict(every[1:blank])
    assert fields["signature.statement"] == "'=1+1 <b>reviewed</b>"
    assert tuple(every[blank + 1]) == ENTRY_COLUMNS
    rows = [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in every[blank + 2 :]]
    assert len(rows) == len(exceptions)
    for row in rows:
        disposition, note, tags = exceptions[int(row["seq"])]
        assert row["disposition"] == disposition
        assert row["note"] == ("'" + note if note.startswith("=") else note)
        assert row["tags"] == "; ".join(tags)


def test_report_formats_come_from_the_suffix() -> None:
    assert [report_format(f"r.{s}") for s in ("pdf", "JSON", "csv")] == ["pdf", "json", "csv"]
    with pytest.raises(ValueError, match=r"\.pdf, \.json, \.csv"):
        report_format("r.txt")


def test_saved_views_are_kept_in_the_store(filled: Store) -> None:
    view = SavedView("Token work", "actor-type:token", Sort("action", False), ("time", "action"),
                     utc=False)  # fmt: skip
    save_view(filled, view)
    save_view(filled, SavedView("another", ""))
    path = filled.path
    filled.close()
    reopened = Store.open(path)
    try:
        found = get_view(reopened, "token WORK")
        assert (found.query, found.sort, found.columns, found.utc) == (
            "actor-type:token",
            Sort("action", False),
            ("time", "action"),
            False,
        )
        assert [v.name for v in list_views(reopened)] == ["another", "Token work"]
        save_view(reopened, SavedView("Token work", "action:release.*"))
        assert get_view(reopened, "Token work").query == "action:release.*"
        delete_view(reopened, "another")
        with pytest.raises(ViewNotFound, match="no saved view 'another'"):
            get_view(reopened, "another")
    finally:
        reopened.close()


def test_a_view_names_only_the_tables_columns(filled: Store) -> None:
    with pytest.raises(ReviewError, match="there is no column 'colour'; the columns are time, "):
        save_view(filled, SavedView("odd", "", columns=("time", "colour")))
    assert list_views(filled) == []
    # Case and repetition aside, the names are the table's own.
    saved = save_view(filled, SavedView("ok", "", columns=("Time", " review", "time")))
    assert saved.columns == ("time", "review")


def test_a_view_with_a_malformed_query_is_refused(filled: Store) -> None:
    with pytest.raises(Exception, match="unknown key"):
        save_view(filled, SavedView("bad", "nokey:x"))
    assert list_views(filled) == []


def test_context_lists_neighbours_in_time_whatever_the_filter(filled: Store) -> None:
    oldest_first = _seqs_in_time(filled)
    anchor = oldest_first[10]
    context = surrounding(filled, anchor, 3)
    assert [row.seq for row in context.rows] == oldest_first[7:14]
    assert context.rows[context.anchor_index].seq == anchor
    first = surrounding(filled, oldest_first[0], 2)
    assert first.anchor_index == 0
    assert len(first.rows) == 3
    with pytest.raises(ReviewError, match="no entry seq 9999"):
        surrounding(filled, 9999)


def _seqs_in_time(store: Store) -> list[int]:
    with EntryQuery(store, None, Sort("time", descending=False)) as found:
        return found.seqs(0, found.count())


@pytest.mark.parametrize(
    ("fixture", "entries"), [("store-v1.sqlite", 297), ("store-v2-401f068.sqlite", 295)]
)
def test_an_older_store_gains_the_review_tables_and_keeps_its_entries(
    tmp_path: Path, fixture: str, entries: int
) -> None:
    copy = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, copy)
    with Store.open(copy) as store:
        before = _tables(copy)
        report = check_store(store, full=True)
        assert report.ok, report.problems()
        assert report.chain is not None
        assert report.chain.entries == entries
        review = start_review(store, "First", reviewer="Ann")
        mark(store, review.id, _seqs(store)[:3], "flagged")
        assert check_store(store, full=True).ok
        assert _tables(copy) == before
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_schema")}
    assert {"reviews", "review_events", "review_marks", "entry_marks", "saved_views"} <= names


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("entries", "entry_texts", "terms", "column_blocks", "sources")
        }


def test_a_read_only_store_of_the_previous_schema_reads_without_reviews(tmp_path: Path) -> None:
    copy = tmp_path / "release.sqlite"
    shutil.copyfile(FIXTURES / "store-v2-401f068.sqlite", copy)
    copy.chmod(0o444)
    with Store.open(copy) as store:
        assert store.read_only
        assert list_reviews(store) == []
        assert list_views(store) == []
        with EntryQuery(store, parse_query("review:unreviewed")) as found:
            assert found.count() == 295
        with EntryQuery(store, parse_query("review:flagged")) as found:
            assert found.count() == 0
        assert check_store(store).ok
