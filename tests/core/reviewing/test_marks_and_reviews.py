"""Marks, reviews and sign-off on a real store: the entries never change, the current marks are
the latest events, a signed review is frozen through the core and through raw SQL."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from auditviewer.core.evidence.store_check import check_store
from auditviewer.core.querying.aggregates import review_facets
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.language import parse_query
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.reviewing.errors import ReviewError, ReviewSigned
from auditviewer.core.reviewing.marks import (
    current_marks,
    history,
    mark,
    next_unreviewed,
    review_marks,
)
from auditviewer.core.reviewing.reviews import (
    get_review,
    list_reviews,
    next_daily_scope,
    review_progress,
    sign_review,
    start_daily_review,
    start_review,
)
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import read_custody
from auditviewer.core.store.custody_log import REVIEW_SIGN_OFF
from auditviewer.core.store.schema_reviews import DISPOSITIONS
from tests.core.reviewing.conftest import ENTRIES, fill


def _seqs(store: Store, query: str = "", sort: Sort | None = None) -> list[int]:
    with EntryQuery(store, parse_query(query), sort) as found:
        return found.seqs(0, found.count())


def _entry_tables(store: Store) -> dict[str, list[tuple[object, ...]]]:
    with store.raw() as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("entries", "entry_texts", "terms", "column_blocks", "sources")
        }


def test_marks_never_change_an_entry_row(filled: Store) -> None:
    before = _entry_tables(filled)
    head_before = check_store(filled, full=True).chain
    review = start_review(filled, "All", reviewer="Ann Lee")
    everything = _seqs(filled)
    mark(filled, review.id, everything, "ok", note="seen", tags=["routine"])
    mark(filled, review.id, everything[:5], "flagged", note="<b>odd</b>")
    sign_review(filled, review.id, by="Ann Lee", statement="Reviewed every entry.")
    assert _entry_tables(filled) == before
    report = check_store(filled, full=True)
    assert report.ok, report.problems()
    assert report.chain == head_before
    assert report.reviews is not None
    assert report.reviews.events == ENTRIES + 5


def test_current_marks_are_the_latest_events_after_many_random_events(filled: Store) -> None:
    chance = random.Random(20261202)
    reviews = [start_review(filled, f"R{n}", reviewer=f"Reviewer {n}") for n in range(3)]
    seqs = _seqs(filled)
    expected: dict[tuple[int, int], tuple[str, str, tuple[str, ...]]] = {}
    latest: dict[int, tuple[int, str, str, tuple[str, ...]]] = {}
    for _ in range(120):
        review = chance.choice(reviews)
        chosen = chance.sample(seqs, chance.randint(1, 6))
        disposition = chance.choice([*DISPOSITIONS, None])
        note = chance.choice([None, "", "checked", "asked\nJane", "‮RTL‬"])
        tags = chance.choice([None, (), ("a",), ("b", "A "), ("x", "y")])
        mark(filled, review.id, chosen, disposition, note=note, tags=tags)
        for seq in chosen:
            old = expected.get((review.id, seq), ("unreviewed", "", ()))
            new = (
                disposition if disposition is not None else old[0],
                note if note is not None else old[1],
                tuple(t.strip() for t in tags) if tags is not None else old[2],
            )
            expected[(review.id, seq)] = new
            latest[seq] = (review.id, *new)
    for review in reviews:
        found = {m.seq: (m.disposition, m.note, m.tags) for m in review_marks(filled, review.id)}
        assert found == {s: v for (r, s), v in expected.items() if r == review.id}
        counts = review_progress(filled, review.id)
        reviewed = [v for (r, _), v in expected.items() if r == review.id and v[0] != "unreviewed"]
        assert counts.reviewed == len(reviewed)
        assert counts.flagged == sum(v[0] == "flagged" for v in reviewed)
        assert counts.total == ENTRIES
    anywhere = current_marks(filled, seqs)
    assert {s: (m.review_id, m.disposition, m.note, m.tags) for s, m in anywhere.items()} == latest
    flagged = sorted(s for s, v in latest.items() if v[1] == "flagged")
    assert sorted(_seqs(filled, "review:flagged")) == flagged
    unreviewed = sorted(s for s in seqs if latest.get(s, (0, "unreviewed"))[1] == "unreviewed")
    assert sorted(_seqs(filled, "review:unreviewed")) == unreviewed
    assert sorted(_seqs(filled, "-review:unreviewed")) == sorted(set(seqs) - set(unreviewed))
    report = check_store(filled)
    assert report.ok, report.problems()


def test_history_lists_every_event_of_an_entry_across_reviews(filled: Store) -> None:
    first = start_review(filled, "First", reviewer="Ann")
    second = start_review(filled, "Second", reviewer="Bo")
    seq = _seqs(filled)[0]
    mark(filled, first.id, [seq], "flagged", note="why?")
    mark(filled, first.id, [seq], "ok")
    mark(filled, second.id, [seq], "follow-up", tags=["ask-it"], reviewer="Cy")
    events = history(filled, seq)
    assert [(e.review_id, e.disposition, e.note, e.tags, e.reviewer) for e in events] == [
        (first.id, "flagged", "why?", (), "Ann"),
        (first.id, "ok", "why?", (), "Ann"),
        (second.id, "follow-up", "", ("ask-it",), "Cy"),
    ]
    assert all(e.os_user for e in events)
    assert _seqs(filled, "review:follow-up reviewed-by:cy tag:ASK-*") == [seq]


def test_a_signed_review_refuses_changes_through_the_core(filled: Store) -> None:
    review = start_review(filled, "Frozen", reviewer="Ann")
    seqs = _seqs(filled)
    mark(filled, review.id, seqs[:3], "flagged")
    signed = sign_review(filled, review.id, by="Ann", statement="Done.")
    assert signed.signature is not None
    assert signed.signature.counts.flagged == 3
    with pytest.raises(ReviewSigned, match=r"review \d+ \('Frozen'\) was signed by Ann"):
        mark(filled, review.id, seqs[:1], "ok")
    with pytest.raises(ReviewSigned):
        sign_review(filled, review.id, by="Eve", statement="Again.")
    assert get_review(filled, review.id) == signed
    assert review_progress(filled, review.id) == signed.signature.counts


def test_a_sign_off_is_recorded_once_in_the_custody_log(filled: Store) -> None:
    review = start_review(filled, "Weekly", reviewer="Ann")
    mark(filled, review.id, _seqs(filled)[:2], "follow-up")
    before = [record.what for record in read_custody(filled)]
    signed = sign_review(filled, review.id, by="Ann", statement="Looked at all of it.")
    records = read_custody(filled)
    assert [record.what for record in records] == [*before, REVIEW_SIGN_OFF]
    record = records[-1]
    assert record.detail["review_id"] == review.id
    assert record.detail["counts"]["follow-up"] == 2
    assert signed.signature is not None
    assert record.detail["events_head"] == signed.signature.events_head
    assert record.entries_seq == signed.signature.entries_last_seq
    assert check_store(filled, log=False).ok


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO review_events (review_id, seq, disposition, note, tags, reviewer, os_user,"
        " created_utc, raw_sha256, chain_sha256) VALUES ({id}, 1, 'ok', '', '[]', 'x', 'x', 0,"
        " x'00', x'00')",
        "UPDATE reviews SET statement = 'changed' WHERE id = {id}",
        "UPDATE reviews SET signed_utc = NULL WHERE id = {id}",
        "DELETE FROM reviews WHERE id = {id}",
        "UPDATE review_events SET disposition = 'ok'",
        "DELETE FROM review_events",
        "UPDATE review_marks SET disposition = 'ok' WHERE review_id = {id}",
        "DELETE FROM review_marks WHERE review_id = {id}",
    ],
)
def test_a_signed_review_refuses_changes_through_raw_sql(filled: Store, statement: str) -> None:
    review = start_review(filled, "Frozen", reviewer="Ann")
    mark(filled, review.id, _seqs(filled)[:3], "flagged")
    sign_review(filled, review.id, by="Ann", statement="Done.")
    filled.close()
    with sqlite3.connect(filled.path) as connection:
        with pytest.raises(sqlite3.IntegrityError, match=r"signed|append-only|kept"):
            connection.execute(statement.format(id=review.id))
        connection.rollback()
    reopened = Store.open(filled.path)
    try:
        assert check_store(reopened).ok
    finally:
        reopened.close()


def _tamper(path: Path, statement: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'review%'"
        ).fetchall():
            connection.execute(f"DROP TRIGGER {name}")
        connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE review_events SET note = 'nothing to see' WHERE id = 2", "review event 2"),
        ("UPDATE review_events SET chain_sha256 = x'00' WHERE id = 3", "review event 3"),
        ("DELETE FROM review_events WHERE id = 2", "review event 3"),
        ("UPDATE entry_marks SET disposition = 'ok'", "current review mark of entry seq"),
        ("DELETE FROM review_marks WHERE seq = (SELECT min(seq) FROM review_marks)", "within its"),
    ],
)
def test_verify_names_the_first_altered_review_event(
    filled: Store, statement: str, named: str
) -> None:
    review = start_review(filled, "R", reviewer="Ann")
    mark(filled, review.id, _seqs(filled)[:4], "flagged", note="first")
    filled.close()
    _tamper(filled.path, statement)
    reopened = Store.open(filled.path)
    try:
        report = check_store(reopened)
        assert not report.ok
        assert any(named in problem for problem in report.problems()), report.problems()
    finally:
        reopened.close()


def test_marks_outside_the_scope_or_of_missing_entries_are_refused(filled: Store) -> None:
    review = start_review(filled, "Releases", reviewer="Ann", query="action:release.*")
    inside = _seqs(filled, "action:release.*")
    outside = _seqs(filled, "-action:release.*")
    with pytest.raises(ReviewError, match=f"entry seq {outside[0]} is outside the scope"):
        mark(filled, review.id, [inside[0], outside[0]], "ok")
    with pytest.raises(ReviewError, match="there is no entry seq 999"):
        mark(filled, review.id, [999], "ok")
    with pytest.raises(ReviewError, match="is not a disposition"):
        mark(filled, review.id, inside[:1], "maybe")
    assert review_marks(filled, review.id) == []
    assert review_progress(filled, review.id).total == len(inside)


def test_next_and_previous_unreviewed_follow_the_tables_order(filled: Store) -> None:
    review = start_review(filled, "R", reviewer="Ann", query="actor-type:token")
    by_action = Sort("action", descending=False)
    order = _seqs(filled, "actor-type:token", by_action)
    mark(filled, review.id, [order[0], order[1], order[3]], "ok")
    assert next_unreviewed(filled, review.id, sort=by_action) == order[2]
    assert next_unreviewed(filled, review.id, sort=by_action, after_seq=order[2]) == order[4]
    assert next_unreviewed(filled, review.id, sort=by_action, after_seq=order[4],
                           backwards=True) == order[2]  # fmt: skip
    assert next_unreviewed(filled, review.id, sort=by_action, after_seq=order[2],
                           backwards=True) is None  # fmt: skip
    mark(filled, review.id, order, "ok")
    assert next_unreviewed(filled, review.id, sort=by_action) is None
    mark(filled, review.id, [order[-1]], "unreviewed")
    other = start_review(filled, "Other", reviewer="Bo")
    mark(filled, other.id, [order[-2]], "unreviewed")  # another review's marks do not count
    assert next_unreviewed(filled, review.id, sort=by_action) == order[-1]


def test_daily_review_covers_what_arrived_since_the_last_signed_review(
    filled: Store, tmp_path: Path
) -> None:
    assert next_daily_scope(filled).first_seq == 1
    first = start_daily_review(filled, reviewer="Ann")
    mark(filled, first.id, _seqs(filled), "ok")
    sign_review(filled, first.id, by="Ann", statement="Day one reviewed.")
    with pytest.raises(ReviewError, match="no entries arrived after entry seq 40"):
        start_daily_review(filled, reviewer="Ann")
    fill(filled, tmp_path, count=7, first=100)
    scope = next_daily_scope(filled)
    assert (scope.first_seq, scope.last_seq) == (ENTRIES + 1, ENTRIES + 7)
    second = start_daily_review(filled, reviewer="Ann", name="Day two")
    assert review_progress(filled, second.id).total == 7
    assert [r.name for r in list_reviews(filled)][1] == "Day two"


def test_facets_count_dispositions_and_tags_under_a_filter(filled: Store) -> None:
    review = start_review(filled, "R", reviewer="Ann")
    tokens = _seqs(filled, "actor-type:token")
    mark(filled, review.id, tokens[:3], "flagged", tags=["sso", "Night"])
    mark(filled, review.id, tokens[3:5], "ok", tags=["night"])
    dispositions, tags = review_facets(filled, parse_query("actor-type:token"))
    assert {f.value: f.count for f in dispositions} == {
        "unreviewed": len(tokens) - 5,
        "ok": 2,
        "flagged": 3,
        "follow-up": 0,
    }
    assert [((f.value or "").casefold(), f.count) for f in tags] == [("night", 5), ("sso", 3)]
    everything, _ = review_facets(filled, Filter())
    assert sum(f.count for f in everything) == ENTRIES


def test_reviews_and_marks_survive_closing_and_reopening(filled: Store) -> None:
    review = start_review(filled, "Kept", reviewer="Ann", query="action:release.*")
    seqs = _seqs(filled, "action:release.*")
    mark(filled, review.id, seqs[:2], "follow-up", note="call them")
    signed = sign_review(filled, review.id, by="Ann", statement="Done.")
    path = filled.path
    filled.close()
    reopened = Store.open(path)
    try:
        assert list_reviews(reopened) == [signed]
        assert [m.note for m in review_marks(reopened, review.id)] == ["call them"] * 2
    finally:
        reopened.close()


def test_an_added_tag_joins_each_entrys_own_tags(filled: Store) -> None:
    review = start_review(filled, "Tags", reviewer="Ann Lee")
    mark(filled, review.id, [1], "flagged", tags=["vendor"])
    mark(filled, review.id, [2], tags=["Night"])
    assert mark(filled, review.id, [1, 2, 3], add_tag="night") == 3
    marks = current_marks(filled, [1, 2, 3], review.id)
    assert (marks[1].disposition, marks[1].tags) == ("flagged", ("vendor", "night"))
    assert marks[2].tags == ("Night",)  # the same tag, case aside, is not added twice
    assert marks[3].tags == ("night",)
