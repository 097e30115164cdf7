"""Sorting by the review column: each entry's current disposition, then time, read afresh as
marks change without new entries."""

from __future__ import annotations

import pytest

from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.reviewing.marks import mark, next_unreviewed
from auditviewer.core.reviewing.reviews import start_review
from auditviewer.core.store.connection import Store
from auditviewer.core.store.schema_reviews import DISPOSITIONS
from tests.core.reviewing.conftest import ENTRIES


def _order(store: Store, sort: Sort, flt: Filter | None = None) -> list[int]:
    with EntryQuery(store, flt or Filter(), sort) as found:
        return found.seqs(0, found.count())


def _times(store: Store) -> dict[int, int]:
    with EntryQuery(store, Filter(), Sort("seq")) as found:
        return {row.seq: row.created_utc or 0 for row in found.window(0, found.count())}


def _expected(store: Store, dispositions: dict[int, str], descending: bool) -> list[int]:
    times = _times(store)
    place = {name: number for number, name in enumerate(DISPOSITIONS)}
    ordered = sorted(
        times,
        key=lambda seq: (place[dispositions.get(seq, "unreviewed")], times[seq], seq),
    )
    return ordered[::-1] if descending else ordered


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_review_sort_is_disposition_then_time(filled: Store, descending: bool) -> None:
    review = start_review(filled, "Sort", reviewer="Ann Lee")
    marked = {3: "flagged", 7: "ok", 8: "follow-up", 20: "flagged", 31: "ok", 12: "follow-up"}
    for seq, disposition in marked.items():
        mark(filled, review.id, [seq], disposition)
    # Set back to unreviewed: sorts with the entries never marked.
    mark(filled, review.id, [12], "unreviewed")
    marked[12] = "unreviewed"

    got = _order(filled, Sort("review", descending))

    assert got == _expected(filled, marked, descending)
    assert len(got) == ENTRIES
    # Descending: the one follow-up, the two flagged, the two ok, then the rest.
    marked_end = got[:5] if descending else got[-5:][::-1]
    assert [marked[seq] for seq in marked_end] == ["follow-up", "flagged", "flagged", "ok", "ok"]
    times = _times(filled)
    assert times[marked_end[1]] >= times[marked_end[2]]


def test_review_sort_follows_new_marks_without_new_entries(filled: Store) -> None:
    review = start_review(filled, "Sort", reviewer="Ann Lee")
    first = _order(filled, Sort("review", descending=True))
    assert first == _expected(filled, {}, descending=True)

    mark(filled, review.id, [5], "flagged")
    assert _order(filled, Sort("review", descending=True))[0] == 5

    mark(filled, review.id, [9], "follow-up")
    assert _order(filled, Sort("review", descending=True))[:2] == [9, 5]

    mark(filled, review.id, [9], "ok")
    assert _order(filled, Sort("review", descending=True))[:2] == [5, 9]


def test_review_sort_under_a_filter_keeps_only_the_matches(filled: Store) -> None:
    review = start_review(filled, "Sort", reviewer="Ann Lee")
    releases = Filter(actions=("release.update",))  # every third entry
    by_time = _order(filled, Sort("time", descending=True), releases)
    others = _order(filled, Sort("time", descending=True), Filter(not_actions=("release.update",)))
    mark(filled, review.id, [by_time[-1], by_time[2], others[0]], "flagged")

    got = _order(filled, Sort("review", descending=True), releases)

    assert got[:2] == [by_time[2], by_time[-1]]  # both flagged, the later first
    assert sorted(got) == sorted(by_time)
    assert len(got) == ENTRIES // 3


def test_next_unreviewed_walks_the_review_order(filled: Store) -> None:
    review = start_review(filled, "Sort", reviewer="Ann Lee")
    mark(filled, review.id, [40, 39], "ok")
    sort = Sort("review", descending=False)
    order = _order(filled, sort)
    # Unreviewed entries come first, by time: the walk starts at the oldest.
    assert next_unreviewed(filled, review.id, sort=sort) == order[0]
    last_open = [seq for seq in order if seq not in (39, 40)][-1]
    assert next_unreviewed(filled, review.id, after_seq=last_open, sort=sort) is None
