"""A small, varied store for the query tests, and a Python oracle of the filter semantics."""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.querying import fulltext
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryDetail, EntryQuery, get_entries
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.vocabulary import (
    ANOMALY,
    CONFLICT,
    NAIVE_TIME,
    PAST_RETENTION,
    QUARANTINED,
    UNKNOWN_ACTION,
)
from tests.conftest import make_entry, write_json

TOKEN = {"type": "organization_auth_token", "id": 42, "name": "CI uploader"}
BOB = {"type": "user", "id": 99, "email": "bob@example.com", "name": "Bob Builder"}
HOSTILE = 'Café NEAR( "x" AND * 100% _under_ [a] it\'s'


def dataset() -> list[Any]:
    """Entries covering every filter key, NULLs in every sortable column and hostile text."""
    entries: list[Any] = [make_entry(n) for n in range(10, 30)]
    entries += [
        make_entry(1, action="cohort.create", created_date="2024-09-01T10:00:00+00:00"),
        make_entry(2, action="cohort.update", created_date="2024-09-02T11:30:00+02:00",
                   project=None),
        make_entry(3, action="release.create", actor=TOKEN, created_date="2024-09-03T00:00:00Z",
                   entity={"type": "release", "id": 7, "name": "v1.2"}),
        make_entry(4, action="release.update", created_date="2024-09-30T23:59:59.999999+00:00",
                   entity={"type": "release", "id": 8, "name": "v1.3"}, ip_address=None),
        make_entry(5, action="legacy.thing", created_date="2024-10-01T00:00:00+00:00"),
        make_entry(6, action="cohort.create", created_date="2023-01-05T08:00:00+00:00"),
        make_entry(7, action="project.create", actor="someone", project={"slug": "50%_off"},
                   created_date="2024-09-05T12:00:00", user_agent=None),
        make_entry(8, action="cohort.[a]?", actor=BOB, project={"slug": "5_x%off"},
                   entity={"type": "cohort", "id": 1, "name": HOSTILE}),
        make_entry(9, action="release.create", actor=TOKEN, entity=None, project=None,
                   created_date="2024-08-20T09:00:00+00:00", changes={"note": "déjà vu 1e3"},
                   count=1e3),
        {"id": 50, "created_date": "2024-09-01T00:00:00Z", "note": "no action here"},
        {"id": 51, "action": "cohort.create", "created_date": "not a time"},
        42,
    ]  # fmt: skip
    return entries


def fill(store: Store, folder: Path) -> Store:
    """Imports the dataset, then a second file with a conflicting version of entry 1."""
    # Not indexed during the import: the tests see text search before and after the index build.
    import_file(store, write_json(folder / "a.json", dataset()), index_text=False)
    conflicting = [make_entry(1, action="cohort.delete", created_date="2024-09-01T10:00:00Z")]
    import_file(store, write_json(folder / "b.json", conflicting), index_text=False)
    return store


def all_details(store: Store) -> list[EntryDetail]:
    with store.raw() as connection:
        seqs = [r[0] for r in connection.execute("SELECT seq FROM entry_texts ORDER BY seq")]
    return get_entries(store, seqs)


def matched(store: Store, flt: Filter, sort: Sort | None = None) -> list[int]:
    with EntryQuery(store, flt, sort or Sort("seq", descending=False)) as query:
        return list(query.iter_seqs())


def _wild(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    regex = ".*".join(re.escape(part) for part in pattern.casefold().split("*"))
    return re.fullmatch(regex, value.casefold(), re.DOTALL) is not None


def _any(patterns: tuple[str, ...], *values: str | None) -> bool:
    return any(_wild(p, v) for p in patterns for v in values)


def _actor(patterns: tuple[str, ...], e: EntryDetail) -> bool:
    return any(_wild(p, e.actor_label) or ("@" not in p and _wild(p, e.actor_id)) for p in patterns)


def _text(phrase: str, e: EntryDetail) -> bool:
    tokens = fulltext.phrase_tokens(phrase)
    return bool(tokens) and fulltext.text_matches(fulltext.body_text(e.raw), tokens)


@functools.cache
def _reference() -> ActionReference:
    return ActionReference.load()


def oracle(flt: Filter, e: EntryDetail) -> bool:
    """Whether ``e`` passes ``flt``, computed in Python from the entry's details."""
    ref = _reference()
    checks = [
        not flt.actions or _any(flt.actions, e.action),
        not _any(flt.not_actions, e.action),
        not flt.actors or _actor(flt.actors, e),
        not _actor(flt.not_actors, e),
        not flt.actor_types or _any(flt.actor_types, e.actor_type),
        not _any(flt.not_actor_types, e.actor_type),
        not flt.projects or _any(flt.projects, e.project),
        not _any(flt.not_projects, e.project),
        not flt.entities or _any(flt.entities, e.entity_type),
        not _any(flt.not_entities, e.entity_type),
        not flt.entity_ids or _any(flt.entity_ids, e.entity_id),
        not _any(flt.not_entity_ids, e.entity_id),
        flt.after is None or (e.created_utc is not None and e.created_utc >= flt.after),
        flt.before is None or (e.created_utc is not None and e.created_utc < flt.before),
        all(_text(p, e) for p in flt.text),
        not any(_text(p, e) for p in flt.not_text),
        flt.conflicts is None or flt.conflicts == e.conflict,
        flt.quarantined is None or flt.quarantined == (e.quarantine_reason is not None),
        flt.unknown_action is None
        or flt.unknown_action == (e.action is not None and not ref.is_known(e.action)),
        flt.anomalies is None
        or flt.anomalies == ref.logged_before_reference(e.action, e.created_utc),
        not flt.sources or e.source_id in flt.sources,
        not flt.seqs or e.seq in flt.seqs,
        # The query stores hold no review marks: every entry is unreviewed, without a note,
        # tags or reviewer.
        not flt.dispositions or "unreviewed" in flt.dispositions,
        "unreviewed" not in flt.not_dispositions,
        not (flt.notes or flt.tags or flt.reviewers),
    ]
    return all(checks)


def flags(e: EntryDetail) -> int:
    ref = ActionReference.load()
    now = time.time_ns() // 1000
    return (
        QUARANTINED.bit * (e.quarantine_reason is not None)
        + CONFLICT.bit * e.conflict
        + UNKNOWN_ACTION.bit * (e.action is not None and not ref.is_known(e.action))
        + ANOMALY.bit * ref.logged_before_reference(e.action, e.created_utc)
        + PAST_RETENTION.bit * ref.past_retention(e.created_utc, now)
        + NAIVE_TIME.bit * e.time_naive
    )


def _folded(value: str | None) -> str | None:
    return None if value is None else value.casefold()


_SORT_VALUE = {
    "time": lambda e: e.created_utc,
    "action": lambda e: _folded(e.action),
    "actor": lambda e: _folded(e.actor_label),
    "actor_type": lambda e: _folded(e.actor_type),
    "project": lambda e: _folded(e.project),
    "entity": lambda e: _folded(e.entity_type),
    "ip": lambda e: _folded(e.ip),
    "user_agent": lambda e: _folded(e.user_agent),
    "seq": lambda e: e.seq,
    "flags": flags,
    "review": lambda e: 0,  # the shared data holds no marks: tests/core/reviewing sorts marked
}


def expected_order(details: list[EntryDetail], sort: Sort) -> list[int]:
    """The documented order: column (NULLs last either way), then time, then seq.

    The tie-breakers follow SQLite's own order, where a missing time is the smallest value.
    """
    value = _SORT_VALUE[sort.column]

    def time_key(e: EntryDetail) -> tuple[bool, int]:
        return (e.created_utc is not None, e.created_utc or 0)

    present = [e for e in details if value(e) is not None]
    missing = [e for e in details if value(e) is None]
    present.sort(key=lambda e: (value(e), time_key(e), e.seq))
    missing.sort(key=lambda e: (time_key(e), e.seq))
    if sort.descending:
        present.reverse()
        missing.reverse()
    return [e.seq for e in present + missing]


def damage_table(path: Path, table: str) -> None:
    """Overwrites the pages of ``table`` in the closed store file at ``path`` with garbage.

    The store stays openable (its schema pages are intact); reading the table then fails with
    "database disk image is malformed". Skips the test where SQLite lacks the dbstat table.
    """
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        try:
            pages = [
                row[0]
                for row in connection.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))
            ]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a table's pages")
    finally:
        connection.close()
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(b"\xde\xad" * (page_size // 2))
