"""The export reader: formats, exact original text, and strict rejection of invalid JSON."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditviewer.core.errors import ImportRejected
from auditviewer.core.reading import jsonstream
from auditviewer.core.reading.jsonstream import ExportReader, read_export
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
    assert "too deeply" in _rejection(path).reason


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
    assert "cut off" in _rejection(path).reason


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


# --- one JSON document or JSON Lines ------------------------------------------------------------

A = json.dumps(make_entry(1))
B = json.dumps(make_entry(2))
C = json.dumps(make_entry(3))


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        ("[][]", 1, 3),  # JSONTestSuite n_structure_double_array
        (f"[{A}][{B}]", 1, len(A) + 3),
        (f'[{A}]{{"x": 1}}', 1, len(A) + 3),
        (f"{A}\n{B} {C}\n", 2, len(B) + 2),
        (f"{A}\n{B}{C}\n", 2, len(B) + 1),
        (f"[\n{A}\n]\n{B}\n", 4, 1),
        (f'{{"data": [\n{A}]}}\n{{"data": [{B}]}}', 3, 1),
    ],
)
def test_a_second_json_value_rejects_the_file(
    tmp_path: Path, content: str, line: int, column: int
) -> None:
    path = tmp_path / "two.json"
    path.write_text(content)
    error = _rejection(path)
    assert error.reason == jsonstream.SECOND_VALUE
    assert (error.line, error.column) == (line, column)


def test_a_json_lines_value_over_two_lines_rejects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "split.jsonl"
    path.write_text(A + "\n" + B.replace(", ", ",\n", 1) + "\n" + C + "\n")
    error = _rejection(path)
    assert "continues on the next line" in error.reason
    assert (error.line, error.column) == (2, 1)


def test_text_after_the_document_rejects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tail.json"
    path.write_text(f"[{A}] trailing")
    error = _rejection(path)
    assert "follows the end of the JSON document" in error.reason
    assert (error.line, error.column) == (1, len(A) + 4)


@pytest.mark.parametrize(
    "content",
    [
        f'{{"data": [{A}, {B}]}}\n{{"data": [{C}]}}\n',  # wrapped pages, one per line
        f"[{A}, {B}]\n[{C}]\n",  # lists of entries, one per line
        f'{A}\n{{"data": [{B}, {C}]}}\n',  # entries and pages mixed
        f"{A}\r\n\r\n{B}\r\n  \n{C}",  # CRLF, blank lines, no final newline
        f"[{A}, {B}, {C}]\n\n  \t\n",  # trailing white space and newlines
        json.dumps([make_entry(n) for n in (1, 2, 3)], indent=2) + "\n\n",  # one document
    ],
)
def test_one_document_or_one_value_per_line_is_read(tmp_path: Path, content: str) -> None:
    path = tmp_path / "ok.json"
    path.write_text(content)
    assert [e.value["id"] for e in read_export(path)] == [1, 2, 3]


# --- positions in JSON Lines ------------------------------------------------------------------


def _jsonl_with_broken_line(path: Path, lines: int, broken: int, text: str, end: str) -> None:
    rows = [f'{{"id": {n}, "action": "cohort.update"}}' for n in range(1, lines + 1)]
    rows[broken - 1] = text
    path.write_text("\n".join(rows) + end)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('{"id": 77777, "action": "cohort.update"', 40),  # closing brace missing
        ('{"id": 77777, "action": "cohort.update",}', 41),  # comma before the brace
        ('{"id": 77777, "action": "cohort.update"}}', 41),  # one brace too many
        ('{"id": 77777, "action": cohort.update}', 25),  # unquoted text
    ],
)
def test_a_broken_line_deep_in_json_lines_is_named(tmp_path: Path, text: str, column: int) -> None:
    path = tmp_path / "deep.jsonl"
    _jsonl_with_broken_line(path, 80_000, 77_777, text, "\n")
    assert path.stat().st_size > 3 * jsonstream.CHUNK_BYTES
    error = _rejection(path)
    assert (error.line, error.column) == (77_777, column)


@pytest.mark.parametrize("end", ["\n", "", "\n\n"])
@pytest.mark.parametrize(
    "text", ['{"id": 500, "action": "cohort.update"', '{"id": 500, "action": "coh']
)
def test_a_broken_last_line_is_named(tmp_path: Path, end: str, text: str) -> None:
    path = tmp_path / "last.jsonl"
    _jsonl_with_broken_line(path, 500, 500, text, end)
    error = _rejection(path)
    assert error.line == 500
    assert error.column == len(text) + 1 or "double quote" in error.reason


def test_a_broken_line_is_found_without_reading_far_ahead(tmp_path: Path) -> None:
    path = tmp_path / "early.jsonl"
    _jsonl_with_broken_line(path, 400_000, 3, '{"id": 3, "action": "a",}', "\n")
    reader = ExportReader(path)
    with reader, pytest.raises(ImportRejected) as caught:
        list(reader)
    assert caught.value.line == 3
    assert reader.bytes_consumed <= 2 * jsonstream.CHUNK_BYTES < reader.size


# --- messages -------------------------------------------------------------------------------------

_PROGRAMMER_WORDING = re.compile(
    r"Expecting|delimiter|property name|top-level|Unterminated|Invalid control|JSONDecode"
    r"|raw_decode|Traceback|Error\b|\b(dict|str|int|float|NoneType|bytes)\b|char \d"
)


@pytest.mark.parametrize(
    "content",
    [
        b"[1 true]",  # n_array_1_true_without_comma
        b'[""],',  # n_array_comma_after_close
        b'["x"]]',  # n_array_extra_close
        b'["x"',  # n_array_incomplete
        b"[3[4]]",  # n_array_inner_array_no_comma
        b'[   , ""]',  # n_array_missing_value
        b"[1,]",  # n_array_number_and_comma
        b"[fals]",  # n_incomplete_false
        b"[nul]",  # n_incomplete_null
        b"[NaN]",  # n_number_NaN
        b"[-Infinity]",  # n_number_minus_infinity
        b"[012]",  # n_number_with_leading_zero
        b"[+1]",  # n_number_+1
        b"[0x42]",  # n_number_hex_2_digits
        b"[.2e-3]",  # n_number_starting_with_dot
        b'{"a" b}',  # n_object_missing_colon
        b'{:"b"}',  # n_object_missing_key
        b"{'a':0}",  # n_object_single_quote
        b'{"id":0,}',  # n_object_trailing_comma
        b'{a: "b"}',  # n_object_unquoted_key
        b'{"a"',  # n_object_no-colon
        b'{"a":"a" 123}',  # n_object_with_trailing_garbage? missing comma
        b"{null:null,null:null}",  # n_object_repeated_null_null
        b"['single quote']",  # n_string_single_quote
        b'["\t"]',  # n_string_unescaped_tab
        b'["new\nline"]',  # n_string_unescaped_newline
        b'["\\x00"]',  # n_string_escape_x
        b'["\\"]',  # n_string_incomplete_escape
        b'["\\uqqqq"]',  # n_string_invalid_unicode_escape
        b'["\\uD834\\uDd"]',  # n_string_incomplete_surrogate_escape_invalid
        b"[\xff]",  # n_string_invalid_utf8
        b'["\xe5"]',  # n_string_lone_utf8_continuation_byte
        b"\xef\xbb\xbf",  # n_structure_UTF8_BOM_no_data
        b" ",  # n_single_space
        b"[][]",  # n_structure_double_array
        b"[",  # n_structure_lone-open-bracket
        b'{"asd":"asd"',  # n_structure_unclosed_object
        b"[\x0c]",  # n_structure_whitespace_formfeed
        b"2@",  # n_structure_number_with_trailing_garbage
        b'{"a": true} "x"',  # n_structure_object_with_trailing_garbage
        b"[1]x",  # n_structure_array_trailing_garbage
        b"1]",  # n_structure_close_unopened_array
        b"[<null>]",  # n_structure_angle_bracket_null
        b"[\xe2\x81\xa0]",  # n_structure_U+2060_word_joined
        b"*",  # n_structure_single_star
        b'{"a":"b"}#{}',  # n_structure_trailing_#
        b'["\x7f\x00"]',  # a raw NUL in a text
        b'"just a string"',
        b'{"data": 5}',
        b'{"data": {"a": 1}}',
        b'{"a": 1}',
        b"[" * 100_000,  # n_structure_100000_opening_arrays
        b"[" * 50_000 + b"]" * 50_000,
        json.dumps([make_entry(1)]).encode("utf-16"),
        gzip.compress(json.dumps([make_entry(n) for n in range(50)]).encode())[:300],
        gzip.compress(b"[]") + b"garbage!",
    ],
)
def test_every_rejection_is_one_plain_line_with_its_position(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    error = _rejection(path)
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{path} (line {error.line}, column {error.column}")
    assert error.line is not None
    assert error.column is not None
    assert error.line >= 1
    assert error.column >= 1
    assert not _PROGRAMMER_WORDING.search(error.reason), error.reason
    assert error.reason[-1] not in " :(", error.reason


def test_a_raw_control_character_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "tab.json"
    path.write_bytes(b'[{"id": 1, "note": "a\tb"}]')
    error = _rejection(path)
    assert "control character" in error.reason
    assert "\\t" in error.reason
    assert (error.line, error.column) == (1, 22)


# --- what is read and hashed ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_the_digest_is_that_of_the_bytes_read(tmp_path: Path, compress: bool) -> None:
    data = json.dumps([make_entry(n) for n in range(3000)]).encode()
    path = tmp_path / "e.json"
    path.write_bytes(gzip.compress(data) if compress else data)
    with ExportReader(path) as reader:
        assert len(list(reader)) == 3000
        digest = reader.digest()
    assert digest == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)


# --- the decompression bomb guard --------------------------------------------------------------


def _write_gzip(path: Path, pieces: Iterator[bytes]) -> Path:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
    with path.open("wb") as out:
        for piece in pieces:
            out.write(compressor.compress(piece))
        out.write(compressor.flush())
    return path


@pytest.mark.slow
def test_a_decompression_bomb_is_stopped_early_in_bounded_memory(tmp_path: Path) -> None:
    blank = b" " * (1 << 20)
    path = _write_gzip(tmp_path / "bomb.json.gz", iter([b"[", *([blank] * 256), b"]"]))
    tracemalloc.start()
    try:
        error = _rejection(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "decompression bomb" in error.reason
    assert error.offset is not None
    assert error.offset < path.stat().st_size // 2
    assert peak < 16 << 20


def _repetitive_entries(count: int) -> Iterator[bytes]:
    """Entries as a real but very repetitive export holds them: ids, times and hashes differ."""
    note = "scheduled rotation of the CI uploader token for the nightly build; " * 40
    yield b"["
    for n in range(count):
        entry = make_entry(n, note=note, request_id=hashlib.sha256(str(n).encode()).hexdigest())
        yield (b"," if n else b"") + json.dumps(entry).encode()
    yield b"]"


@pytest.mark.slow
def test_a_highly_compressible_real_export_passes_the_bomb_guard(tmp_path: Path) -> None:
    count = 36_000
    path = _write_gzip(tmp_path / "big.json.gz", _repetitive_entries(count))
    with ExportReader(path) as reader:
        read = sum(1 for _ in reader)
        _, size = reader.digest()
        inflated = reader._input.decoded_bytes
    assert read == count
    assert inflated > 1.5 * jsonstream.INFLATE_ALLOWANCE
    assert 40 < inflated / size < jsonstream.MAX_INFLATE_RATIO


# --- entries longer than the cap ----------------------------------------------------------------


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "MAX_ENTRY_CHARS", 1000)
    monkeypatch.setattr(jsonstream, "MAX_QUARANTINED_ENTRY_CHARS", 4000)
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", 256)


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize("layout", ["array", "wrapper", "lines"])
def test_an_entry_over_the_cap_is_kept_quarantined(tmp_path: Path, layout: str) -> None:
    long_text = json.dumps(make_entry(2, note="x" * 2000))
    texts = [json.dumps(make_entry(1)), long_text, json.dumps(make_entry(3))]
    path = tmp_path / "long.json"
    if layout == "array":
        path.write_text("[" + ", ".join(texts) + "]")
    elif layout == "wrapper":
        path.write_text('{"data": [' + ", ".join(texts) + '], "paging": {}}')
    else:
        path.write_text("\n".join(texts) + "\n")
    elements = read_export(path)
    assert [e.text for e in elements] == texts
    assert [e.quarantine_reason is None for e in elements] == [True, False, True]
    reason = elements[1].quarantine_reason
    assert reason is not None
    assert f"{len(long_text):,} characters" in reason
    assert "1,000" in reason


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize("layout", ["array", "lines"])
def test_an_entry_over_the_hard_limit_rejects_the_file(tmp_path: Path, layout: str) -> None:
    huge = json.dumps(make_entry(2, note="x" * 5000))
    path = tmp_path / "huge.json"
    path.write_text(f"[{A},\n{huge}]" if layout == "array" else f"{A}\n{huge}\n")
    error = _rejection(path)
    assert "longer than 4,000 characters" in error.reason
    assert (error.line, error.column) == (2, 1)


@pytest.mark.usefixtures("small_limits")
def test_a_long_object_without_entries_is_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"paging": {"note": "x" * 2000}}))
    assert "not an audit export" in _rejection(path).reason
