"""Counts in messages take the number their noun needs."""

from __future__ import annotations

import pytest

from auditviewer.core.wording import NOTHING_IMPORTED, counted, rejection


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "file", "1 file"),
        (2, "file", "2 files"),
        (0, "file", "0 files"),
        (1, "conflict", "1 conflict"),
        (3, "conflict", "3 conflicts"),
        (1, "entry", "1 entry"),
        (1204, "entry", "1,204 entries"),
        (2, "sync run", "2 sync runs"),
        (1, "new entry", "1 new entry"),
        (30, "new entry", "30 new entries"),
    ],
)
def test_the_noun_takes_the_number_of_the_count(count: int, noun: str, expected: str) -> None:
    assert counted(count, noun) == expected


def test_an_explicit_plural_is_used_for_more_than_one() -> None:
    assert counted(2, "id with conflicting versions", "ids with conflicting versions") == (
        "2 ids with conflicting versions"
    )
    assert counted(1, "id with conflicting versions", "ids with conflicting versions") == (
        "1 id with conflicting versions"
    )


def test_a_rejection_says_that_nothing_was_imported() -> None:
    assert (
        rejection("x.json (line 3): not JSON.") == f"x.json (line 3): not JSON. {NOTHING_IMPORTED}"
    )
