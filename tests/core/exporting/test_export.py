"""Exports: original texts that re-import identically, neutralised CSV, atomic and cancellable."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditviewer.core.errors import ExportFailed, StoreDamaged
from auditviewer.core.exporting.export import (
    CSV_COLUMNS,
    ExportCancelled,
    ExportTargetReadOnly,
    csv_cells,
    csv_row,
    entry_record,
    export_csv,
    export_json,
    is_read_only,
    iso_utc,
    neutralize_cell,
)
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json
from tests.core.querying.query_data import damage_table


def _stored(store: Store) -> Counter[tuple[str, bytes]]:
    """Every stored entry's raw text and raw hash, as a multiset."""
    with store.raw() as connection:
        rows = connection.execute("SELECT raw, raw_sha256 FROM entry_view").fetchall()
    return Counter((raw, bytes(digest)) for raw, digest in rows)


def _reimported(export: Path, folder: Path) -> Counter[tuple[str, bytes]]:
    with Store.open(folder / "fresh.sqlite") as fresh:
        import_file(fresh, export)
        return _stored(fresh)


def _seqs_by_key(store: Store) -> dict[str, int]:
    with store.raw() as connection:
        return dict(connection.execute("SELECT entry_key, max(seq) FROM entry_view GROUP BY 1"))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    """A store with ordinary entries, a conflict, an unknown action and quarantined elements."""
    texts = [json.dumps(make_entry(n), indent=2) for n in range(12, 0, -1)]
    texts += [
        json.dumps(make_entry(3, action="deprecated.thing")),  # a conflict, unknown action
        json.dumps({"id": 500, "created_date": "2024-09-02T00:00:00Z"}),  # no action
        "42",
        '"just text"',
        "[1, 2]",
        '{"id": 501, "action": "a", "action": "b", "created_date": "2024-09-01T00:00:00Z"}',
        json.dumps(make_entry(600, created_date="yesterday")),
    ]
    path = tmp_path / "source.json"
    path.write_text("[\n" + ",\n".join(texts) + "\n]", encoding="utf-8")
    import_file(store, path)
    return store


# --- JSON ------------------------------------------------------------------------------------


def test_json_export_reimports_with_identical_texts_and_hashes(
    filled: Store, tmp_path: Path
) -> None:
    target = tmp_path / "export.json"
    report = export_json(filled, target)
    assert report.entries == sum(_stored(filled).values()) == 19
    assert report.bytes_written == target.stat().st_size
    assert _reimported(target, tmp_path) == _stored(filled)


def test_json_export_is_the_original_texts_newest_first(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    export_json(filled, target, filter=Filter(quarantined=False))
    entries = json.loads(target.read_text(encoding="utf-8"))
    times = [datetime.fromisoformat(e["created_date"]) for e in entries]
    assert times == sorted(times, reverse=True)
    with filled.raw() as connection:
        (raw,) = connection.execute("SELECT raw FROM entry_view WHERE entry_key = '12'").fetchone()
    assert raw in target.read_text(encoding="utf-8")
    assert "\n" in raw  # the pretty-printed original, not a re-serialisation


def test_json_export_of_a_filter(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    report = export_json(filled, target, filter=Filter(actions=("deprecated.*",)))
    assert report.entries == 1
    assert [e["action"] for e in json.loads(target.read_bytes())] == ["deprecated.thing"]


def test_json_export_of_explicit_seqs_is_newest_first(filled: Store, tmp_path: Path) -> None:
    seqs = _seqs_by_key(filled)
    target = tmp_path / "export.json"
    report = export_json(filled, target, seqs=[seqs["2"], seqs["9"], seqs["2"], 10_000])
    assert report.entries == 2
    assert [e["id"] for e in json.loads(target.read_bytes())] == [9, 2]


def test_seqs_narrow_a_filter(filled: Store, tmp_path: Path) -> None:
    with filled.raw() as connection:
        seqs = [
            s for (s,) in connection.execute("SELECT seq FROM entry_view WHERE entry_key = '3'")
        ]
    assert len(seqs) == 2
    target = tmp_path / "export.json"
    export_json(filled, target, filter=Filter(actions=("deprecated.*",)), seqs=seqs)
    assert [e["action"] for e in json.loads(target.read_bytes())] == ["deprecated.thing"]


def test_empty_selection_is_an_empty_array_not_everything(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    report = export_json(filled, target, seqs=[])
    assert report.entries == 0
    assert json.loads(target.read_bytes()) == []
    assert _reimported(target, tmp_path) == Counter()


def test_export_streams_in_chunks_with_progress(filled: Store, tmp_path: Path) -> None:
    seen: list[Progress] = []
    export_json(filled, tmp_path / "export.json", progress=seen.append, chunk_size=5)
    assert [p.entries for p in seen] == [5, 10, 15, 19]
    assert {p.total for p in seen} == {19}


# --- atomic and cancellable ----------------------------------------------------------------


@pytest.mark.parametrize("export", [export_json, export_csv])
def test_cancelled_export_leaves_no_file_under_the_target_name(
    filled: Store, tmp_path: Path, export: Any
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    cancel = CancelToken()
    with pytest.raises(ExportCancelled, match=r"out[/\\]export"):
        export(
            filled,
            folder / "export",
            progress=lambda _: cancel.cancel(),
            cancel=cancel,
            chunk_size=4,
        )
    assert _names(folder) == []


@pytest.mark.parametrize("export", [export_json, export_csv])
def test_interrupted_export_leaves_an_existing_target_unchanged(
    filled: Store, tmp_path: Path, export: Any
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "export"
    target.write_bytes(b"the previous export")

    def interrupt(progress: Progress) -> None:
        if progress.entries >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(filled, target, progress=interrupt, chunk_size=4)
    assert target.read_bytes() == b"the previous export"
    assert _names(folder) == ["export"]


def test_cancel_before_the_end_also_discards_a_complete_file(filled: Store, tmp_path: Path) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(ExportCancelled):
        export_json(filled, tmp_path / "export.json", cancel=cancel, seqs=[])
    assert not (tmp_path / "export.json").exists()


def test_export_into_a_missing_folder_names_the_file(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "export.json"
    with pytest.raises(ExportFailed, match=r"missing[/\\]export\.json: cannot write"):
        export_json(filled, target)


def test_export_onto_a_folder_is_refused(filled: Store, tmp_path: Path) -> None:
    with pytest.raises(ExportFailed, match="is a folder"):
        export_csv(filled, tmp_path)


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_export_over_the_store_itself_is_refused(filled: Store, suffix: str) -> None:
    target = filled.path.with_name(filled.path.name + suffix)
    before = target.read_bytes() if target.exists() else None
    with pytest.raises(ExportFailed, match="over the store itself"):
        export_json(filled, target)
    assert (target.read_bytes() if target.exists() else None) == before


@pytest.mark.parametrize("export", [export_json, export_csv])
@pytest.mark.parametrize("table", ["entries", "entry_texts"])
def test_a_damaged_store_is_named_and_the_target_left_as_it_was(
    filled: Store, tmp_path: Path, export: Any, table: str
) -> None:
    path = filled.path
    filled.close()
    damage_table(path, table)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "export"
    target.write_bytes(b"the previous export")
    with Store.open(path, create=False) as damaged, pytest.raises(StoreDamaged) as caught:
        export(damaged, target)
    message = str(caught.value)
    assert message.startswith(f"{path}: the store file is damaged")
    assert f"nothing was exported and {target} was not touched" in message
    assert "verify" in message
    assert target.read_bytes() == b"the previous export"
    assert _names(folder) == ["export"]


@pytest.mark.parametrize("export", [export_json, export_csv])
def test_a_read_only_target_is_left_as_it_is_unless_replacing_it_is_asked(
    filled: Store, tmp_path: Path, export: Any
) -> None:
    target = tmp_path / "kept.json"
    target.write_bytes(b"the previous export")
    target.chmod(0o444)
    with pytest.raises(ExportTargetReadOnly, match=r"kept\.json: the file is read-only"):
        export(filled, target)
    assert target.read_bytes() == b"the previous export"
    assert not [name for name in _names(tmp_path) if name.endswith(".partial")]
    report = export(filled, target, replace_read_only=True)
    assert report.entries == 19
    assert target.read_bytes() != b"the previous export"
    assert target.stat().st_mode & 0o777 == 0o444


def test_read_only_is_decided_by_the_mode_bits_too(tmp_path: Path) -> None:
    target = tmp_path / "file"
    assert not is_read_only(target)
    target.write_bytes(b"x")
    target.chmod(0o644)
    assert not is_read_only(target)
    target.chmod(0o444)
    assert is_read_only(target)  # even for root, whom the system lets write it
    target.chmod(0o400)
    assert is_read_only(target)


@pytest.mark.parametrize("export", [export_json, export_csv])
def test_an_empty_file_name_is_refused(filled: Store, export: Any) -> None:
    with pytest.raises(ExportFailed, match="a file name is needed"):
        export(filled, "")


# --- CSV -------------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_the_normalised_columns_newest_first(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    report = export_csv(filled, target, filter=Filter(quarantined=False))
    rows = _csv_rows(target)
    assert report.entries == len(rows) == 13
    assert tuple(rows[0]) == CSV_COLUMNS
    first = rows[0]
    assert first["id"] == "12"
    assert first["time_utc"] == "2024-09-13T12:07:55.120331Z"
    assert first["action"] == "organization_auth_token.update"
    assert (first["actor_type"], first["actor_label"], first["actor_id"]) == (
        "user",
        "jane@example.com",
        "17",
    )
    assert (first["entity_type"], first["entity_id"], first["entity_name"]) == (
        "organization_auth_token",
        "42",
        "CI uploader",
    )
    assert (first["ip"], first["user_agent"]) == ("203.0.113.5", "memfault-cli/1.4")
    assert first["source"].endswith("source.json")
    times = [r["time_utc"] for r in rows]
    assert times == sorted(times, reverse=True)


def test_csv_flags_conflicts_unknown_actions_and_quarantine(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    export_csv(filled, target)
    rows = _csv_rows(target)
    by_id = {r["id"]: r for r in rows if r["action"] != "organization_auth_token.update"}
    assert by_id["3"]["flags"] == "conflict unknown-action past-retention"
    quarantined = [r for r in rows if "quarantined" in r["flags"]]
    assert len(quarantined) == 6
    assert all(r["quarantine_reason"] and r["time_utc"] == "" for r in quarantined)


@pytest.mark.parametrize("dangerous", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(dangerous: str) -> None:
    assert neutralize_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["", "jane@example.com", "a=b", " =1", "'=1", "1-2"])
def test_ordinary_cells_are_left_alone(harmless: str) -> None:
    assert neutralize_cell(harmless) == harmless


def test_csv_neutralises_formulas_from_the_entries(store: Store, tmp_path: Path) -> None:
    entry = make_entry(
        1,
        action="=cmd|'/c calc'!A0",
        actor={"type": "user", "id": "-2", "email": "@evil", "name": "x"},
        project={"slug": "+proj"},
        entity={"type": "release", "id": 7, "name": '=HYPERLINK("http://x")'},
        user_agent="\tagent",
    )
    import_file(store, write_json(tmp_path / "e.json", [entry]))
    target = tmp_path / "export.csv"
    export_csv(store, target)
    (row,) = _csv_rows(target)
    assert row["action"] == "'=cmd|'/c calc'!A0"
    assert row["actor_label"] == "'@evil"
    assert row["actor_id"] == "'-2"
    assert row["project"] == "'+proj"
    assert row["entity_name"] == '\'=HYPERLINK("http://x")'
    assert row["user_agent"] == "'\tagent"
    assert row["seq"] == "1"


def test_csv_of_explicit_seqs(filled: Store, tmp_path: Path) -> None:
    seqs = _seqs_by_key(filled)
    target = tmp_path / "export.csv"
    export_csv(filled, target, seqs=[seqs["4"], seqs["7"]])
    assert [r["id"] for r in _csv_rows(target)] == ["7", "4"]


def test_fast_csv_row_equals_the_neutralised_record(filled: Store) -> None:
    with EntryQuery(filled) as query:
        rows = query.window(0, 100)
    assert len(rows) == 19
    for row in rows:
        assert csv_row(row, "=src") == csv_cells(entry_record(row, "=src"))


def test_iso_utc_formats_microseconds_with_z() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000000Z"
    assert iso_utc(None) == ""


# --- round trip, as a property ---------------------------------------------------------------

_names_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _names_text
)
_json_value = st.recursive(
    _json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names_text, inner, max_size=3),
    max_leaves=8,
)
_whitespace = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  \n\t ", "\n\n"])


@st.composite
def _entry(draw: st.DrawFn) -> dict[str, Any]:
    moment = draw(
        st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2099, 12, 31),
            timezones=st.just(UTC),
        )
    )
    entry: dict[str, Any] = {
        "id": draw(st.integers(min_value=0, max_value=15) | st.integers(min_value=2**64)),
        "created_date": moment.isoformat(),
        "action": draw(st.sampled_from(["release.create", "cohort.update", "gone.action"])),
        "actor": draw(
            st.fixed_dictionaries({"type": st.just("user"), "email": _names_text})
            | st.fixed_dictionaries(
                {"type": st.just("organization_auth_token"), "label": _names_text}
            )
        ),
        "project": draw(st.none() | st.fixed_dictionaries({"slug": _names_text})),
    }
    extra = draw(st.dictionaries(_names_text, _json_value, max_size=3))
    for key, value in extra.items():
        entry.setdefault(key, value)
    return entry


@st.composite
def _export_text(draw: st.DrawFn) -> str:
    entries = draw(st.lists(_entry(), min_size=1, max_size=8))
    layout = draw(st.sampled_from(["array", "wrapped", "lines"]))
    texts = []
    for entry in entries:
        indent = None if layout == "lines" else draw(st.sampled_from([None, 1, 4, "\t"]))
        separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :  ")]))
        text = json.dumps(
            entry, indent=indent, separators=separators, ensure_ascii=draw(st.booleans())
        )
        if layout == "lines":
            # JSON Lines: only spaces and tabs may surround an entry on its line.
            text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        texts.append(text)
    if layout == "lines":
        return "\n".join(draw(st.sampled_from(["", " ", "\t"])) + t for t in texts) + "\n"
    body = "[" + draw(_whitespace)
    for index, text in enumerate(texts):
        if index:
            body += draw(_whitespace) + "," + draw(_whitespace)
        body += text
    body += draw(_whitespace) + "]"
    if layout == "wrapped":
        body = '{"data":' + draw(_whitespace) + body + ', "paging": {"page": 1}}'
    return draw(_whitespace) + body + draw(_whitespace)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_export_text())
def test_any_export_round_trips_through_a_fresh_store(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        source = folder / "source.json"
        source.write_bytes(text.encode("utf-8"))
        with Store.open(folder / "first.sqlite") as first:
            import_file(first, source)
            original = _stored(first)
            export_json(first, folder / "export.json")
        assert _reimported(folder / "export.json", folder) == original
        for raw, digest in original:
            assert hashlib.sha256(raw.encode("utf-8")).digest() == digest
            assert raw in text


def test_lone_surrogate_escapes_and_huge_integers_round_trip(store: Store, tmp_path: Path) -> None:
    texts = [
        '{"id": 1, "action": "a.b", "created_date": "2024-09-01T00:00:00Z", "n": "\\ud800"}',
        '{"id": 2, "action": "a.b", "created_date": "2024-09-02T00:00:00Z", "n": '
        + "9" * 5000
        + "}",
    ]
    source = tmp_path / "s.json"
    source.write_text("[" + ",".join(texts) + "]", encoding="utf-8")
    import_file(store, source)
    export_json(store, tmp_path / "export.json")
    assert _reimported(tmp_path / "export.json", tmp_path) == _stored(store)
    assert Counter(raw for raw, _ in _stored(store)) == Counter(texts)


def test_csv_export_reads_back_with_the_standard_reader(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    export_csv(filled, target)
    data = target.read_bytes()
    assert data.startswith(b"seq,id,time_utc,")
    assert b"\r\n" in data
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8"))))) == 20
