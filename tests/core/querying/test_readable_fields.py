"""Quarantined entries still say what they can: their fields read leniently from the raw text."""

from __future__ import annotations

import json
from pathlib import Path

from auditviewer.core.querying.columns import columns
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import (
    EntryQuery,
    get_entries,
    readable_fields,
    untimed_count,
)
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json


def test_an_entry_with_an_unreadable_time_keeps_its_actor_and_entity() -> None:
    raw = json.dumps(make_entry(7, created_date="last tuesday", ip_address="198.51.100.9"))
    readable = readable_fields(raw, "the entry has no time")
    assert readable is not None
    assert readable.created_utc is None
    assert readable.created_text == "last tuesday"
    assert readable.action == "organization_auth_token.update"
    assert (readable.actor_type, readable.actor_label, readable.actor_id) == (
        "user",
        "jane@example.com",
        "17",
    )
    assert (readable.entity_type, readable.entity_name) == (
        "organization_auth_token",
        "CI uploader",
    )
    assert readable.project == "smart-sensor"
    assert readable.ip == "198.51.100.9"


def test_an_entry_without_an_action_keeps_its_time() -> None:
    entry = make_entry(8, created_date="2024-09-03T14:07:55+00:00")
    del entry["action"]
    readable = readable_fields(json.dumps(entry), "the entry has no action")
    assert readable is not None
    assert readable.action is None
    assert readable.created_utc == 1_725_372_475_000_000
    assert readable.created_text == "2024-09-03T14:07:55+00:00"


def test_text_that_is_not_an_object_says_nothing() -> None:
    assert readable_fields("[1, 2]", "not an object") is None
    assert readable_fields('{"id": 1,', "not JSON") is None
    assert readable_fields("x" * 2_000_000, "too long") is None


def test_rows_and_details_carry_readable_fields_only_for_quarantined_entries(
    store: Store, tmp_path: Path
) -> None:
    entries = [make_entry(1), make_entry(2, created_date="soon"), [3]]
    import_file(store, write_json(tmp_path / "q.json", entries))
    with EntryQuery(store) as query:
        rows = {row.entry_key: row for row in query.window(0, 10)}
    assert rows["1"].readable is None
    assert rows["2"].quarantine_reason is not None
    assert rows["2"].readable is not None
    assert rows["2"].readable.actor_label == "jane@example.com"
    assert rows[""].readable is None  # an array: nothing to read
    detail = get_entries(store, [rows["2"].seq])[0]
    assert detail.readable == rows["2"].readable
    assert get_entries(store, [rows["1"].seq])[0].readable is None


def test_untimed_count_is_what_a_query_lists_beyond_the_histogram(
    store: Store, tmp_path: Path
) -> None:
    entries = [make_entry(1), make_entry(2, created_date="soon"), make_entry(3, created_date=None)]
    import_file(store, write_json(tmp_path / "q.json", entries))
    snapshot = columns(store)
    assert untimed_count(snapshot, Filter()) == 2
    assert untimed_count(snapshot, Filter(quarantined=False)) == 0
    assert untimed_count(snapshot, Filter(after=0)) == 0  # a date range leaves them out
