"""Importing files: duplicates, conflicts, quarantine, provenance, hashes, all-or-nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from auditviewer.core.errors import ImportCancelled, ImportRejected
from auditviewer.core.reading import jsonstream, parse_process
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store import entry_writer
from auditviewer.core.store.connection import Store
from auditviewer.core.store.entry_writer import GENESIS_CHAIN
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json


def _rows(store: Store, columns: str = "*") -> list[tuple[object, ...]]:
    with store.raw() as connection:
        return connection.execute(f"SELECT {columns} FROM entry_view ORDER BY seq").fetchall()


def _store_state(store: Store) -> tuple[object, ...]:
    with store.raw() as connection:
        return tuple(
            connection.execute(f"SELECT * FROM {table}").fetchall()
            for table in ("entries", "sources", "conflict_keys", "meta")
        )


def test_import_stores_every_entry_with_its_original_text(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    texts = [json.dumps(make_entry(n), indent=3) for n in range(3)]
    path.write_text("[" + ",\n".join(texts) + "]", encoding="utf-8")
    report = import_file(store, path)
    assert report.imported == 3
    assert sorted(raw for (raw,) in _rows(store, "raw")) == sorted(texts)


def test_report_names_file_hash_and_time_span(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "e.json", [make_entry(3), make_entry(1)])
    report = import_file(store, path)
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.location == str(path.resolve())
    assert report.first_created_utc is not None
    assert report.last_created_utc is not None
    assert report.first_created_utc < report.last_created_utc


def test_reimporting_a_file_adds_nothing(store: Store, tmp_path: Path, entries: list) -> None:
    path = write_json(tmp_path / "e.json", [*entries, [1, 2], {"id": 99}])
    first = import_file(store, path)
    before = _rows(store)
    second = import_file(store, path)
    assert _rows(store) == before
    assert (second.parsed, second.duplicates, second.imported) == (first.parsed, first.parsed, 0)
    assert second.quarantined == 0


def test_same_entry_in_another_layout_is_a_duplicate(store: Store, tmp_path: Path) -> None:
    entry = make_entry(7)
    import_file(store, write_json(tmp_path / "a.json", [entry]))
    reordered = dict(reversed(list(entry.items())))
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(reordered, indent=None, separators=(",", ":")) + "\n")
    report = import_file(store, path)
    assert (report.duplicates, report.imported, report.conflicts) == (1, 0, 0)


def test_same_id_with_other_content_is_a_kept_conflict(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "a.json", [make_entry(7)]))
    changed = make_entry(7, action="cohort.delete")
    report = import_file(store, write_json(tmp_path / "b.json", [changed]))
    assert report.conflicts == 1
    assert [a for (a,) in _rows(store, "action")] == [
        "organization_auth_token.update",
        "cohort.delete",
    ]
    with store.raw() as connection:
        assert connection.execute("SELECT entry_key FROM conflict_keys").fetchall() == [("7",)]


def test_conflict_within_one_file_is_detected(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", [make_entry(7), make_entry(7, ip_address="10.0.0.1")])
    report = import_file(store, path)
    assert (report.imported, report.conflicts) == (1, 1)


@pytest.mark.parametrize(
    ("element", "reason"),
    [
        ([1, 2], "an array, not an object"),
        ("text", "a string, not an object"),
        (5, "a number, not an object"),
        (None, "null, not an object"),
        ({"id": 1, "created_date": "2024-09-01T00:00:00Z"}, "no action"),
        ({"id": 1, "action": "a.b"}, "no time"),
        ({"id": 1, "action": "a.b", "created_date": "yesterday"}, "not an ISO 8601 timestamp"),
        ({"id": 1, "action": ["a"], "created_date": "2024-09-01T00:00:00Z"}, "not a non-empty"),
    ],
)
def test_unusable_elements_are_quarantined_with_reason(
    store: Store, tmp_path: Path, element: object, reason: str
) -> None:
    report = import_file(store, write_json(tmp_path / "q.json", [make_entry(1), element]))
    assert (report.imported, report.quarantined) == (1, 1)
    (quarantined,) = report.quarantine
    assert reason in quarantined.reason
    assert quarantined.index == 1
    stored = _rows(store, "raw, quarantine_reason")
    assert (json.dumps(element), quarantined.reason) in stored


def test_duplicate_keys_are_quarantined(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        '[{"id": 1, "action": "cohort.create", "action": "cohort.delete", '
        '"created_date": "2024-09-01T00:00:00Z"}]'
    )
    report = import_file(store, path)
    assert report.quarantined == 1
    assert "'action' appears twice" in report.quarantine[0].reason


def test_report_numbers_add_up(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "a.json", [make_entry(1), make_entry(2)]))
    elements = [make_entry(1), make_entry(2, action="x.y"), make_entry(3), "bad", {"id": 9}]
    report = import_file(store, write_json(tmp_path / "b.json", elements))
    assert (report.duplicates, report.conflicts, report.imported, report.quarantined) == (
        1,
        1,
        1,
        2,
    )
    total = report.imported + report.duplicates + report.conflicts + report.quarantined
    assert total == report.parsed == len(elements)


def test_naive_timestamps_are_flagged_and_read_as_utc(store: Store, tmp_path: Path) -> None:
    naive = make_entry(1, created_date="2024-09-01T12:00:00")
    report = import_file(store, write_json(tmp_path / "n.json", [naive, make_entry(2)]))
    assert report.naive_times == 1
    rows = dict(_rows(store, "entry_key, time_naive"))
    assert rows == {"1": 1, "2": 0}
    (created,) = _rows(store, "created_utc FROM entry_view WHERE entry_key = '1' --")[0]
    assert created == 1725192000 * 1_000_000


def test_lone_surrogate_escape_is_stored_with_raw_text_intact(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    text = '{"id": 1, "action": "cohort.create", "created_date": "2024-09-01T00:00:00Z", '
    text += '"actor": {"email": "bad\\ud800name"}}'
    path.write_text(f"[{text}]")
    assert import_file(store, path).imported == 1
    assert _rows(store, "raw, actor_label") == [(text, "bad\ufffdname")]


def test_rejected_file_leaves_the_store_exactly_as_it_was(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "good.json", [make_entry(n) for n in range(5)]))
    before = _store_state(store)
    many = [json.dumps(make_entry(n)) for n in range(100, 20_000)]
    bad = tmp_path / "bad.json"
    bad.write_text("[" + ",\n".join(many) + ",\n{oops}]")
    with pytest.raises(ImportRejected) as caught:
        import_file(store, bad)
    assert caught.value.line == len(many) + 1
    assert _store_state(store) == before


def test_unreadable_path_is_rejected_with_its_name(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match=r"missing\.json"):
        import_file(store, tmp_path / "missing.json")


def test_cancelled_import_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "a.json", [make_entry(1)]))
    before = _store_state(store)
    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        token.cancel()

    path = write_json(tmp_path / "big.json", [make_entry(n) for n in range(12_000)])
    with pytest.raises(ImportCancelled):
        import_file(store, path, progress=on_progress, cancel=token)
    assert len(seen) == 1
    assert _store_state(store) == before


def test_progress_reports_bytes_and_entries(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "big.json", [make_entry(n) for n in range(11_000)])
    seen: list[Progress] = []
    import_file(store, path, progress=seen.append)
    assert [p.entries for p in seen] == [5000, 10_000, 11_000]
    assert seen[-1].done == seen[-1].total == path.stat().st_size


def test_provenance_and_position_are_recorded(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[\n" + json.dumps(make_entry(1)) + ",\n" + json.dumps(make_entry(2)) + "]")
    report = import_file(store, path)
    rows = _rows(store, "entry_key, source_id, source_index, source_line")
    assert sorted(rows) == [("1", report.source_id, 0, 2), ("2", report.source_id, 1, 3)]
    with store.raw() as connection:
        source = connection.execute(
            "SELECT kind, location, sha256, parsed, imported, finished_utc FROM sources"
        ).fetchone()
    assert source[:5] == ("file", str(path.resolve()), report.sha256, 2, 2)
    assert source[5] is not None


def test_each_batch_is_stored_oldest_first(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry_writer, "BATCH_SIZE", 4)
    newest_first = [
        make_entry(n, created_date=f"2024-09-{n:02d}T00:00:00Z") for n in range(8, 0, -1)
    ]
    import_file(store, write_json(tmp_path / "e.json", newest_first))
    keys = [key for (key,) in _rows(store, "entry_key")]
    assert keys == ["5", "6", "7", "8", "1", "2", "3", "4"]


def test_hashes_and_chain_can_be_recomputed(store: Store, tmp_path: Path) -> None:
    import_file(store, write_json(tmp_path / "a.json", [make_entry(n) for n in range(6)]))
    import_file(store, write_json(tmp_path / "b.json", [make_entry(n) for n in range(6, 9)]))
    chain = GENESIS_CHAIN
    for raw, raw_hash, chain_hash in _rows(store, "raw, raw_sha256, chain_sha256"):
        assert hashlib.sha256(raw.encode()).digest() == raw_hash
        chain = hashlib.sha256(chain + raw_hash).digest()
        assert chain == chain_hash


def test_gzip_and_json_lines_import_the_same_entries(store: Store, tmp_path: Path) -> None:
    entries = [make_entry(n) for n in range(4)]
    lines = "".join(json.dumps(e) + "\n" for e in entries)
    (tmp_path / "e.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    assert import_file(store, tmp_path / "e.jsonl.gz").imported == 4
    assert import_file(store, write_json(tmp_path / "e.json", entries)).duplicates == 4


@pytest.fixture
def parse_in_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes every import use the separate parsing process, whatever the file size."""
    monkeypatch.setattr(parse_process, "PARALLEL_MIN_BYTES", 0)


@pytest.mark.usefixtures("parse_in_child")
def test_parsing_process_imports_the_same_as_in_process(store: Store, tmp_path: Path) -> None:
    entries = [make_entry(n) for n in range(12_000)] + ["bad"]
    report = import_file(store, write_json(tmp_path / "e.json", entries))
    assert (report.imported, report.quarantined, report.parsed) == (12_000, 1, 12_001)
    assert report.quarantine[0].index == 12_000


@pytest.mark.usefixtures("parse_in_child")
def test_parsing_process_rejection_names_the_position(store: Store, tmp_path: Path) -> None:
    before = _store_state(store)
    bad = tmp_path / "bad.json"
    bad.write_text("[" + json.dumps(make_entry(1)) + ",\n{oops}]")
    with pytest.raises(ImportRejected) as caught:
        import_file(store, bad)
    assert (caught.value.source, caught.value.line, caught.value.column) == (str(bad), 2, 2)
    assert _store_state(store) == before


@pytest.mark.usefixtures("parse_in_child")
def test_parsing_process_stops_on_cancel(store: Store, tmp_path: Path) -> None:
    token = CancelToken()
    path = write_json(tmp_path / "big.json", [make_entry(n) for n in range(30_000)])
    with pytest.raises(ImportCancelled):
        import_file(store, path, progress=lambda _: token.cancel(), cancel=token)
    assert _rows(store) == []
    assert not [p for p in multiprocessing.active_children() if p.name == "auditviewer-parser"]


def test_an_import_leaves_its_work_in_the_store_file_not_in_the_wal(
    store: Store, tmp_path: Path
) -> None:
    entries = [make_entry(n) for n in range(3000)]
    import_file(store, write_json(tmp_path / "e.json", entries))
    wal = Path(f"{store.path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(store.path.read_bytes())  # the store file alone, without its -wal
    with Store.open(copy) as alone, alone.raw() as connection:
        assert connection.execute("SELECT count(*) FROM entry_texts").fetchone()[0] == 3000


# --- provenance of a file changed while it is read ---------------------------------------------


def _lines(numbers: range) -> bytes:
    return "".join(json.dumps(make_entry(n)) + "\n" for n in numbers).encode()


def _source_record(store: Store) -> tuple[str, int, int]:
    with store.raw() as connection:
        row = connection.execute("SELECT sha256, size_bytes, parsed FROM sources").fetchone()
    return row[0], row[1], row[2]


def _stored_entries_sha256(store: Store) -> str:
    """The SHA-256 of the stored entries' texts, as JSON Lines in file order."""
    with store.raw() as connection:
        rows = connection.execute("SELECT raw FROM entry_texts ORDER BY source_index").fetchall()
    return hashlib.sha256("".join(raw + "\n" for (raw,) in rows).encode()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("in_child", [False, True])
def test_a_file_appended_to_during_the_import_records_what_was_read(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_child: bool
) -> None:
    if in_child:
        monkeypatch.setattr(parse_process, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(entry_writer, "BATCH_SIZE", 500)
    path = tmp_path / "growing.jsonl"
    path.write_bytes(_lines(range(8000)))
    assert path.stat().st_size > 3 * jsonstream.CHUNK_BYTES
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    def append_once(progress: Progress) -> None:
        if progress.entries == 500:
            with path.open("ab") as handle:
                handle.write(_lines(range(8000, 9000)))

    report = import_file(store, path, progress=append_once)
    content = path.read_bytes()
    sha256, size, parsed = _source_record(store)
    assert parsed == report.parsed == 9000
    assert sha256 == report.sha256 == hashlib.sha256(content).hexdigest() != before
    assert size == len(content)
    assert _stored_entries_sha256(store) == sha256


@pytest.mark.slow
def test_a_file_replaced_during_the_import_records_the_one_read(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry_writer, "BATCH_SIZE", 500)
    path = tmp_path / "replaced.jsonl"
    original = _lines(range(8000))
    path.write_bytes(original)
    other = tmp_path / "other.jsonl"
    other.write_bytes(_lines(range(50_000, 50_010)))

    def replace_once(progress: Progress) -> None:
        if progress.entries == 500:
            other.replace(path)

    report = import_file(store, path, progress=replace_once)
    assert report.parsed == 8000
    assert _source_record(store) == (hashlib.sha256(original).hexdigest(), len(original), 8000)
    assert _stored_entries_sha256(store) == report.sha256


def test_a_gzip_file_records_the_hash_and_size_of_its_compressed_bytes(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "e.jsonl.gz"
    path.write_bytes(gzip.compress(_lines(range(300))))
    report = import_file(store, path)
    assert _source_record(store) == (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_size,
        300,
    )
    assert report.sha256 == _source_record(store)[0]


# --- an entry longer than the cap ---------------------------------------------------------------


@pytest.mark.slow
def test_an_entry_over_the_cap_is_quarantined_and_the_others_imported(
    store: Store, tmp_path: Path
) -> None:
    long_entry = make_entry(5, note="x" * 17_000_000)
    entries = [make_entry(n) for n in range(5)] + [long_entry] + [make_entry(6), "bad"]
    path = write_json(tmp_path / "long.json", entries)
    assert path.stat().st_size >= parse_process.PARALLEL_MIN_BYTES  # read by the parsing process
    report = import_file(store, path)
    assert (report.parsed, report.imported, report.quarantined) == (8, 6, 2)
    assert report.parsed == (
        report.imported + report.duplicates + report.conflicts + report.quarantined
    )
    (reason,) = [q.reason for q in report.quarantine if q.index == 5]
    assert "16,777,216" in reason
    assert f"{len(json.dumps(long_entry)):,}" in reason
    with store.raw() as connection:
        raw, raw_hash = connection.execute(
            "SELECT raw, raw_sha256 FROM entry_texts WHERE source_index = 5"
        ).fetchone()
    assert raw == json.dumps(long_entry)
    assert raw_hash == hashlib.sha256(raw.encode()).digest()
    assert import_file(store, path).duplicates == 8
