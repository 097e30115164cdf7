"""The coverage report finds a planted gap and overlap and computes the retention warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.querying.coverage import DAY, coverage
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
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
