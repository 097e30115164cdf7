"""The action reference shipped in resources/actions.json."""

from __future__ import annotations

from datetime import date

from auditviewer.core.reading.normalize import parse_time
from auditviewer.core.reference import ActionReference


def test_reference_keeps_all_rows_including_three_release_creates() -> None:
    reference = ActionReference.load()
    assert len(reference.rows) == 26
    release_rows = reference.describe("release.create")
    assert [row.logged_since for row in release_rows] == [
        date(2024, 8, 8),
        date(2024, 8, 22),
        date(2024, 8, 22),
    ]
    assert len(reference.actions) == 24


def test_known_and_unknown_actions() -> None:
    reference = ActionReference.load()
    assert reference.is_known("cohort.update")
    assert not reference.is_known("device.delete")
    assert not reference.is_known(None)
    assert reference.describe("device.delete") == ()


def test_entries_before_logged_since_are_anomalies() -> None:
    reference = ActionReference.load()
    before, _ = parse_time("2024-08-22T23:59:59Z")
    after, _ = parse_time("2024-08-23T00:00:00Z")
    assert reference.logged_before_reference("software_version.add_sbom", before)
    assert not reference.logged_before_reference("software_version.add_sbom", after)
    earliest, _ = parse_time("2024-08-10T00:00:00Z")
    assert not reference.logged_before_reference("release.create", earliest)
    assert not reference.logged_before_reference("unknown.action", before)


def test_retention_is_one_year() -> None:
    reference = ActionReference.load()
    now, _ = parse_time("2025-09-02T00:00:00Z")
    old, _ = parse_time("2024-09-01T00:00:00Z")
    recent, _ = parse_time("2024-09-03T00:00:00Z")
    assert reference.past_retention(old, now)
    assert not reference.past_retention(recent, now)
