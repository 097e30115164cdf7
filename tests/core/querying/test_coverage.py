"""The coverage report finds a planted gap and overlap and computes the retention warning."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.querying.coverage import DAY, coverage
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.core.store.migrations import SCHEMA_VERSION
from tests.conftest import make_entry, write_json

START = datetime(2026, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def _entries(first: datetime, last: datetime, first_id: int) -> list[dict[str, Any]]:
    made = []
    moment, number = first, first_id
    while moment <= last:
        made.append(make_entry(number, created_date=moment.isoformat()))
        moment += timedelta(hours=6)
        number += 1
    return made[::-1]


@pytest.fixture
def archive(tmp_path: Path) -> Store:
    a = _entries(START, datetime(2026, 1, 20, tzinfo=UTC), 1)
    shared = [e for e in a if e["created_date"] >= "2026-01-15"]
    b = _entries(datetime(2026, 1, 20, 6, tzinfo=UTC), datetime(2026, 1, 25, tzinfo=UTC), 1000)
    c = _entries(datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), 2000)
    store = Store.open(tmp_path / "store.sqlite")
    import_file(store, write_json(tmp_path / "a.json", a))
    import_file(store, write_json(tmp_path / "b.json", b + shared))
    import_file(store, write_json(tmp_path / "c.json", c))
    return store


def test_the_planted_gap_is_found_with_its_dates(archive: Store) -> None:
    report = coverage(archive, now=_micros(datetime(2026, 3, 2, tzinfo=UTC)))
    (gap,) = report.gaps
    assert gap.after_utc == _micros(datetime(2026, 1, 25, tzinfo=UTC))
    assert gap.before_utc == _micros(datetime(2026, 2, 10, tzinfo=UTC))
    assert gap.days == 16
    assert coverage(archive, gap=20 * DAY).gaps == ()


def test_the_planted_overlap_proves_continuity(archive: Store) -> None:
    report = coverage(archive, now=_micros(datetime(2026, 3, 2, tzinfo=UTC)))
    a, b, c = report.sources
    assert (a.stored, b.stored, b.duplicates, c.stored) == (77, 20, 21, 77)
    (overlap,) = report.overlaps
    assert (overlap.earlier, overlap.later) == (a.id, b.id)
    assert overlap.start_utc == _micros(datetime(2026, 1, 15, tzinfo=UTC))
    assert overlap.end_utc == _micros(datetime(2026, 1, 20, tzinfo=UTC))
    assert overlap.earlier_entries_within == 21
    assert overlap.continuity_proven


def test_months_covered_in_the_last_twelve(archive: Store) -> None:
    report = coverage(archive, now=_micros(datetime(2026, 6, 15, tzinfo=UTC)))
    months = [month for month, _ in report.months]
    assert (months[0], months[-1], len(months)) == ("2025-07", "2026-06", 12)
    assert dict(report.months)["2026-01"] == 97
    assert report.months_covered == 3


def test_the_retention_warning_for_a_fixed_now(archive: Store) -> None:
    now = _micros(datetime(2027, 2, 20, tzinfo=UTC))
    report = coverage(archive, now=now, sync_interval=30 * DAY)
    warning = report.retention
    assert warning is not None
    assert str(warning) == "sync or download before 2027-03-01 or lose 21 days of entries"
    assert not warning.already_expired
    safe = coverage(archive, now=_micros(datetime(2026, 12, 1, tzinfo=UTC)), sync_interval=30 * DAY)
    assert safe.retention is None
    late = coverage(archive, now=_micros(datetime(2027, 3, 11, tzinfo=UTC)), sync_interval=DAY)
    assert late.retention is not None
    assert late.retention.already_expired
    assert "10 days of entries may already be lost" in str(late.retention)


def test_the_report_as_json_names_dates(archive: Store) -> None:
    data = coverage(archive, now=_micros(datetime(2027, 2, 20, tzinfo=UTC))).as_json()
    assert data["gaps"][0]["after"].startswith("2026-01-25")
    assert data["overlaps"][0]["continuity_proven"] is True
    assert len(data["sources"]) == 3


def test_an_empty_store_has_no_coverage(tmp_path: Path) -> None:
    with Store.open(tmp_path / "store.sqlite") as store:
        report = coverage(store)
    assert (report.entries, report.gaps, report.retention, report.months_covered) == (
        0,
        (),
        None,
        0,
    )


def test_shared_entries_are_counted_per_earlier_source(tmp_path: Path) -> None:
    """A later source overlapping two earlier ones: each overlap counts only the entries of its
    own earlier source; one that re-delivered none of them proves nothing."""
    a = _entries(START, datetime(2026, 1, 10, tzinfo=UTC), 1)
    b = _entries(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC), 500)
    # c spans a and b but re-delivers b's entries only (and one of its own twice).
    c_new = _entries(datetime(2026, 1, 20, 6, tzinfo=UTC), datetime(2026, 1, 22, tzinfo=UTC), 900)
    b_again = [e for e in b if e["created_date"] >= "2026-01-18"]
    early = _entries(datetime(2026, 1, 2, 3, tzinfo=UTC), datetime(2026, 1, 2, 3, tzinfo=UTC), 990)
    store = Store.open(tmp_path / "store.sqlite")
    for name, entries in (("a", a), ("b", b), ("c", c_new + b_again + early + early)):
        import_file(store, write_json(tmp_path / f"{name}.json", entries))
    report = coverage(store, now=_micros(datetime(2026, 2, 1, tzinfo=UTC)))
    store.close()

    by_pair = {(o.earlier, o.later): o for o in report.overlaps}
    assert set(by_pair) == {(1, 2), (1, 3), (2, 3)}
    a_b, a_c, b_c = by_pair[(1, 2)], by_pair[(1, 3)], by_pair[(2, 3)]
    # b re-delivered nothing of a: its days overlap, but nothing proves continuity.
    assert (a_b.shared, a_b.shared_exact, a_b.continuity_proven) == (0, True, False)
    assert (b_c.shared, b_c.continuity_proven) == (len(b_again), True)
    # c's own entry given twice and b's re-delivered entries are no proof for a.
    assert (a_c.shared, a_c.shared_exact, a_c.continuity_proven) == (0, True, False)
    assert report.sources[2].duplicates == len(b_again) + 1
    assert b_c.proof() == f"continuity proven: #3 re-delivered {len(b_again)} entries of #2"
    assert a_c.proof() == "no shared entries: continuity not proven"


def _without_shared_counts(path: Path) -> None:
    """Makes the closed store at ``path`` one of the schema before the shared entry counts."""
    connection = sqlite3.connect(path)
    try:
        for statement in (
            "DROP TABLE source_shared",
            "DELETE FROM meta WHERE key = 'shared_counted_from'",
            f"PRAGMA user_version = {SCHEMA_VERSION - 1}",
        ):
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def test_sources_imported_before_the_counts_are_said_to_be_inexact(archive: Store) -> None:
    path = archive.path
    archive.close()
    _without_shared_counts(path)
    store = Store.open(path)  # brought up to the current schema: sources 1-3 were not counted
    try:
        b = _entries(datetime(2026, 1, 20, 6, tzinfo=UTC), datetime(2026, 1, 25, tzinfo=UTC), 1000)
        c = _entries(datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), 2000)
        fresh = _entries(datetime(2026, 1, 26, tzinfo=UTC), datetime(2026, 2, 9, tzinfo=UTC), 3000)
        later = b[:3] + fresh + c[-2:]  # the last of b, the first of c, and what lay between
        import_file(store, write_json(path.parent / "d.json", later))
        report = coverage(store, now=_micros(datetime(2026, 3, 2, tzinfo=UTC)))
    finally:
        store.close()
    by_pair = {(o.earlier, o.later): o for o in report.overlaps}
    old = by_pair[(1, 2)]  # the planted overlap, imported before the counts
    assert (old.shared, old.shared_exact, old.continuity_proven) == (21, False, False)
    assert old.proof() == (
        "continuity not proven: #2 re-delivered 21 entries already held, from sources not "
        "recorded (it was imported before the store counted them per source)"
    )
    # The new source re-delivered b's entries (ids 1000 on) and c's: counted exactly.
    new_b, new_c = by_pair[(2, 4)], by_pair[(3, 4)]
    assert (new_b.shared, new_b.shared_exact, new_b.continuity_proven) == (3, True, True)
    assert (new_c.shared, new_c.shared_exact, new_c.continuity_proven) == (2, True, True)
    assert report.sources[3].duplicates == 5
