"""The review terms of a filter (``review:``, ``note:``, ``tag:``, ``reviewed-by:``), answered by
SQLite from each entry's current mark (``entry_marks``: its latest event in any review).

Marks change without new entries, so these answers are read fresh for every query, never kept
with a column snapshot. An entry without a mark is ``unreviewed``, as is one whose latest mark
set it back to unreviewed.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np
import numpy.typing as npt
import orjson

from auditviewer.core.querying.filter import Filter
from auditviewer.core.store.schema_reviews import DISPOSITIONS
from auditviewer.core.store.tables import has_table

IntArray = npt.NDArray[np.int64]
UNREVIEWED: Final = "unreviewed"


def has_marks_table(connection: sqlite3.Connection) -> bool:
    """Whether the store holds the marks (a read-only store of an older schema may not)."""
    return has_table(connection, "entry_marks")


def _seqs(connection: sqlite3.Connection, sql: str, *params: object) -> IntArray:
    rows = connection.execute(sql, params).fetchall()
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


# Makes one expression of ``*`` patterns (:func:`.columns.wildcard_pattern`).
PatternMaker = Callable[[Iterable[str]], re.Pattern[str]]


def _folded_matcher(
    patterns: tuple[str, ...], wildcard_pattern: PatternMaker
) -> Callable[[str], bool]:
    """Whether a value equals one of ``patterns`` case-insensitively (``*`` a wildcard)."""
    exact = {p.casefold() for p in patterns if "*" not in p}
    wild = [p.casefold() for p in patterns if "*" in p]
    matcher = wildcard_pattern(wild).fullmatch if wild else None
    return lambda value: (
        value.casefold() in exact or (matcher is not None and matcher(value.casefold()) is not None)
    )


def disposition_seqs(connection: sqlite3.Connection, dispositions: tuple[str, ...]) -> IntArray:
    """The seqs whose current disposition is one of ``dispositions`` other than unreviewed."""
    marked = [d for d in dispositions if d != UNREVIEWED]
    if not marked:
        return np.zeros(0, dtype=np.int64)
    return _seqs(
        connection,
        "SELECT seq FROM entry_marks WHERE disposition IN (SELECT value FROM json_each(?))",
        orjson.dumps(marked).decode(),
    )


def marks_version(connection: sqlite3.Connection) -> int:
    """A number that changes whenever a mark is stored: the latest review event's id (0 when
    there is none, or the store keeps no marks)."""
    if not has_marks_table(connection):
        return 0
    return int(connection.execute("SELECT coalesce(max(id), 0) FROM review_events").fetchone()[0])


def disposition_ranks(connection: sqlite3.Connection) -> tuple[IntArray, IntArray]:
    """The marked entries' seqs and the place of their current disposition in
    :data:`DISPOSITIONS` (unreviewed 0, ok 1, flagged 2, follow-up 3); an entry left out is
    unreviewed."""
    if not has_marks_table(connection):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    rows = connection.execute(
        "SELECT seq, disposition FROM entry_marks WHERE disposition != ?", (UNREVIEWED,)
    ).fetchall()
    place = {name: number for number, name in enumerate(DISPOSITIONS)}
    seqs = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    ranks = np.fromiter((place[row[1]] for row in rows), dtype=np.int64, count=len(rows))
    return seqs, ranks


def reviewed_seqs(connection: sqlite3.Connection) -> IntArray:
    """The seqs whose current disposition is not unreviewed."""
    return _seqs(connection, "SELECT seq FROM entry_marks WHERE disposition != ?", UNREVIEWED)


def note_seqs(
    connection: sqlite3.Connection, texts: tuple[str, ...], _wildcards: PatternMaker
) -> IntArray:
    """The seqs whose current note contains one of ``texts`` (case-insensitive)."""
    folded = [t.casefold() for t in texts]
    connection.create_function(
        "av_note_has",
        1,
        lambda note: any(t in str(note).casefold() for t in folded),
        deterministic=True,
    )
    return _seqs(connection, "SELECT seq FROM entry_marks WHERE note != '' AND av_note_has(note)")


def tag_seqs(
    connection: sqlite3.Connection, patterns: tuple[str, ...], wildcards: PatternMaker
) -> IntArray:
    """The seqs whose current tags include one matching ``patterns``."""
    matches = _folded_matcher(patterns, wildcards)
    tags = [
        row[0]
        for row in connection.execute(
            "SELECT DISTINCT t.value FROM entry_marks AS m, json_each(m.tags) AS t "
            "WHERE m.tags != '[]'"
        )
    ]
    wanted = [tag for tag in tags if matches(str(tag))]
    if not wanted:
        return np.zeros(0, dtype=np.int64)
    return _seqs(
        connection,
        "SELECT DISTINCT m.seq FROM entry_marks AS m, json_each(m.tags) AS t "
        "WHERE m.tags != '[]' AND t.value IN (SELECT value FROM json_each(?))",
        orjson.dumps(wanted).decode(),
    )


def reviewer_seqs(
    connection: sqlite3.Connection, patterns: tuple[str, ...], wildcards: PatternMaker
) -> IntArray:
    """The seqs whose current mark was made by a reviewer matching ``patterns``."""
    matches = _folded_matcher(patterns, wildcards)
    names = [row[0] for row in connection.execute("SELECT DISTINCT reviewer FROM entry_marks")]
    wanted = [name for name in names if matches(str(name))]
    if not wanted:
        return np.zeros(0, dtype=np.int64)
    return _seqs(
        connection,
        "SELECT seq FROM entry_marks WHERE reviewer IN (SELECT value FROM json_each(?))",
        orjson.dumps(wanted).decode(),
    )


def review_terms(
    connection: sqlite3.Connection, flt: Filter, wildcards: PatternMaker
) -> list[tuple[IntArray, bool, bool]]:
    """Each review term of ``flt`` as (seqs, wanted, inverted): the entries it names, whether
    the filter wants them (or their opposite), and whether the seqs are the complement of the
    entries named (``review:unreviewed`` names the entries *not* reviewed)."""
    if not has_marks_table(connection):
        # No marks at all: every entry is unreviewed and has no note, tag or reviewer.
        empty = np.zeros(0, dtype=np.int64)
        terms: list[tuple[IntArray, bool, bool]] = []
        for values, wanted in ((flt.dispositions, True), (flt.not_dispositions, False)):
            if values:
                terms.append((empty, wanted, UNREVIEWED in values))
        for values, wanted in (
            (flt.notes, True),
            (flt.not_notes, False),
            (flt.tags, True),
            (flt.not_tags, False),
            (flt.reviewers, True),
            (flt.not_reviewers, False),
        ):
            if values:
                terms.append((empty, wanted, False))
        return terms
    terms = []
    for values, wanted in ((flt.dispositions, True), (flt.not_dispositions, False)):
        if not values:
            continue
        if UNREVIEWED in values:
            # Unreviewed or one of the others: everything but the reviewed entries of the rest.
            others = set(values) - {UNREVIEWED}
            reviewed = reviewed_seqs(connection)
            if others:
                keep = disposition_seqs(connection, tuple(others))
                reviewed = np.setdiff1d(reviewed, keep, assume_unique=True)
            terms.append((reviewed, wanted, True))
        else:
            terms.append((disposition_seqs(connection, values), wanted, False))
    for values, wanted, lookup in (
        (flt.notes, True, note_seqs),
        (flt.not_notes, False, note_seqs),
        (flt.tags, True, tag_seqs),
        (flt.not_tags, False, tag_seqs),
        (flt.reviewers, True, reviewer_seqs),
        (flt.not_reviewers, False, reviewer_seqs),
    ):
        if values:
            terms.append((lookup(connection, values, wildcards), wanted, False))
    return terms
