"""The export reader: formats, exact original text, and strict rejection of invalid JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from auditviewer.core import jsonstream
from auditviewer.core.errors import ImportRejected
from auditviewer.core.jsonstream import ExportReader, read_export
from tests.conftest import make_entry


def _texts(path: Path) -> list[str]:
    return [element.text for element in read_export(path)]


def test_array_elements_keep_their_exact_text(tmp_path: Path) -> None:
    first = '{ "id": 1,  "action" : "cohort.create", "note": "caf\\u00e9 é"}'
    second = '{"id":2,"action":"cohort.delete"}'
    path = tmp_path / "a.json"
    path.write_text(f"[\n  {first},\n\t{second}\n]\n", encoding="utf-8")
    assert _texts(path) == [first, second]


def test_element_positions_are_lines_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[\n {"id": 1},\n\n    {"id": 2}]', encoding="utf-8")
    positions = [(e.ordinal, e.line, e.column) for e in read_export(path)]
    assert positions == [(0, 2, 2), (1, 4, 5)]


@pytest.mark.parametrize("key", ["data", "entries", "items", "results", "audit_log"])
def test_wrapper_object_yields_its_list(tmp_path: Path, key: str) -> None:
    path = tmp_path / "w.json"
    path.write_text(
        json.dumps({"paging": {"page": 1}, key: [make_entry(1), make_entry(2)]}), encoding="utf-8"
    )
    assert [e.value["id"] for e in read_export(path)] == [1, 2]


def test_json_lines_yield_one_entry_per_line(tmp_path: Path) -> None:
    lines = [json.dumps(make_entry(n)) for n in range(3)]
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elements = read_export(path)
    assert [e.text for e in elements] == lines
    assert [e.line for e in elements] == [1, 2, 3]


def test_json_lines_do_not_split_on_unicode_line_separators(tmp_path: Path) -> None:
    entry = make_entry(1, note="one\u2028two\u0085three")
    text = json.dumps(entry, ensure_ascii=False)
    path = tmp_path / "e.jsonl"
    path.write_text(text + "\n" + json.dumps(make_entry(2)) + "\n", encoding="utf-8")
    elements = read_export(path)
    assert len(elements) == 2
    assert elements[0].text == text


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "export.json"  # no .gz suffix
    path.write_bytes(gzip.compress(json.dumps([make_entry(1)]).encode()))
    assert [e.value["id"] for e in read_export(path)] == [1]


def test_multi_member_gzip_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl.gz"
    first = gzip.compress((json.dumps(make_entry(1)) + "\n").encode())
    second = gzip.compress((json.dumps(make_entry(2)) + "\n").encode())
    path.write_bytes(first + second)
    assert [e.value["id"] for e in read_export(path)] == [1, 2]


def test_elements_spanning_many_chunks_are_read_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 7)
    entries = [make_entry(n, note="é" * n) for n in range(40)]
    path = tmp_path / "a.json"
    text = json.dumps(entries, indent=2, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    elements = read_export(path)
    assert [e.value for e in elements] == entries
    lines = text.split("\n")
    for element in elements:
        assert lines[element.line - 1][element.column - 1 :].startswith("{")
        assert element.text == json.dumps(element.value, indent=2, ensure_ascii=False).replace(
            "\n", "\n  "
        )


def test_a_large_wrapper_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "MAX_ENTRY_CHARS", 2000)
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 512)
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"data": [make_entry(n) for n in range(50)], "paging": {}}))
    assert len(read_export(path)) == 50


def test_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([make_entry(1)]).encode())
    assert len(read_export(path)) == 1


def test_duplicate_keys_are_reported_on_the_element(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('[{"id": 1, "action": "a.b", "action": "c.d"}, {"id": 2}]')
    elements = read_export(path)
    assert elements[0].duplicate_key == "action"
    assert elements[1].duplicate_key is None


def test_huge_integers_are_kept_as_text(tmp_path: Path) -> None:
    digits = "9" * 5000
    path = tmp_path / "big.json"
    path.write_text(f'[{{"id": {digits}, "action": "a.b"}}]')
    (element,) = read_export(path)
    assert element.value["id"] == digits
    assert element.text == f'{{"id": {digits}, "action": "a.b"}}'


def _rejection(path: Path) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        read_export(path)
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        ('[{"id": 1},\n {"id": 2,}]', 2, 11),
        ('[{"id": 1}\n {"id": 2}]', 2, 2),
        ('[{"id": 1}] trailing', 1, 13),
        ('[{"id": 1},]', 1, 12),
        ("{'id': 1}", 1, 2),
    ],
)
def test_syntax_errors_name_line_and_column(
    tmp_path: Path, content: str, line: int, column: int
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    error = _rejection(path)
    assert (error.line, error.column) == (line, column)


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([make_entry(1), make_entry(2)])[:-40])
    assert "ends in the middle" in _rejection(path).reason


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "nan.json"
    path.write_text(f'[{{"id": 1}},\n{{"id": 2, "v": {constant}}}]')
    error = _rejection(path)
    assert constant.lstrip("-") in error.reason
    assert error.line == 2


def test_invalid_utf8_is_rejected_with_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'[{"id": 1, "name": "caf\xe9"}]')
    error = _rejection(path)
    assert error.offset == 23
    assert "UTF-8" in error.reason


def test_utf16_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "u16.json"
    path.write_bytes(json.dumps([make_entry(1)]).encode("utf-16"))
    assert "UTF-16" in _rejection(path).reason


def test_excessive_nesting_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('[{"id": 1, "v": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    assert "nested too deeply" in _rejection(path).reason


@pytest.mark.parametrize("content", ["", "   \n\t ", "\ufeff"])
def test_empty_files_are_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.json"
    path.write_text(content, encoding="utf-8")
    assert "empty" in _rejection(path).reason


def test_empty_gzip_is_rejected_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.json.gz"
    path.write_bytes(gzip.compress(b""))
    assert "empty" in _rejection(path).reason


@pytest.mark.parametrize(
    "content", ['{"data": 5}', '{"entries": {"a": 1}}', '"just a string"', "42", '{"a": 1}']
)
def test_files_that_are_no_export_are_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)
    assert "not an audit export" in _rejection(path).reason


def test_truncated_gzip_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cut.json.gz"
    data = gzip.compress(json.dumps([make_entry(n) for n in range(50)]).encode())
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _rejection(path).reason


def test_corrupt_gzip_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "flip.json.gz"
    data = bytearray(gzip.compress(json.dumps([make_entry(n) for n in range(50)]).encode()))
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "gzip" in _rejection(path).reason


def test_gzip_with_trailing_garbage_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tail.json.gz"
    path.write_bytes(gzip.compress(json.dumps([make_entry(1)]).encode()) + b"garbage!")
    assert "gzip" in _rejection(path).reason


def test_decompression_bomb_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "MIN_INFLATE_CAP", 1000)
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b"[" + b" " * 5_000_000 + b"]"))
    assert "decompression bomb" in _rejection(path).reason


def test_an_oversized_entry_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "MAX_ENTRY_CHARS", 1000)
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 256)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps([make_entry(1, note="x" * 5000)]))
    assert "longer than" in _rejection(path).reason


def test_reader_memory_is_bounded_by_its_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 4096)
    path = tmp_path / "many.json"
    path.write_text(json.dumps([make_entry(n) for n in range(3000)]))
    reader = ExportReader(path)
    largest = 0
    with reader:
        for _ in reader:
            largest = max(largest, len(reader._buf))
    assert path.stat().st_size > 1_000_000
    assert largest < 3 * 4096
