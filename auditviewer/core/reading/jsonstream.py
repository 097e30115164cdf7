"""Streams the entries out of an export file, keeping each entry's exact original text.

An export file holds ONE JSON document or JSON Lines:

- one document: an array of entries, an object wrapping that array (``{"data": [...]}``), or a
  single entry object; it may span any number of lines;
- JSON Lines: one value per line, each of them one of the forms above written on a single line
  (an entry, an array of entries, or a wrapped page such as ``{"data": [...]}``).

Anything else (two values on one line, a second value after a document that spans several
lines, text after the end) is rejected whole. Any of these may be gzip-compressed (recognised by
its magic bytes, not its name).

The text is decoded incrementally and each element is parsed with ``JSONDecoder.raw_decode``
over a sliding window, which gives both the value and its span: the span is the entry's original
text, byte-for-byte once encoded back to UTF-8. Memory stays bounded by the window, whatever the
size of the file. Anything that is not strictly valid JSON raises :class:`ImportRejected` naming
the file, the line and the column, in words a reader of the audit log understands. The SHA-256
and size of the bytes actually read are kept (:attr:`ExportReader.sha256`), so that they describe
exactly the content the entries came from, even if the file changes while it is read.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, NoReturn

from auditviewer.core.errors import ImportRejected
from auditviewer.core.reading.fieldmap import ACTION_KEYS, WRAPPER_KEYS
from auditviewer.core.reading.strict_json import (
    ForbiddenConstantError,
    StrictDecoder,
    syntax_error_in_words,
)

CHUNK_BYTES = 1 << 20
# An entry longer than this is stored quarantined instead of as an ordinary entry...
MAX_ENTRY_CHARS = 16 << 20
# ...and one longer than this rejects the file: the reader holds each entry whole in memory.
MAX_QUARANTINED_ENTRY_CHARS = 64 << 20
GZIP_MAGIC = b"\x1f\x8b"
# The decompression bomb guard: the inflated data may reach INFLATE_ALLOWANCE bytes plus
# MAX_INFLATE_RATIO times the compressed bytes read so far. Real exports compress 8 to 20 times
# (a repetitive one perhaps 60), a bomb about 1000 times, so a bomb is stopped within the first
# hundred megabytes while a real export passes whatever its size.
MAX_INFLATE_RATIO = 200
INFLATE_ALLOWANCE = 64 << 20
# A JSON error this far before the end of the window cannot be mended by the text that follows.
_ERROR_LOOKAHEAD = 16

_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"
_NUMBER_OR_LITERAL_END = frozenset("0123456789.eE+-aeflnrstu")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")

SECOND_VALUE = (
    "a second JSON value starts here; an export holds one JSON document "
    "or one value per line (JSON Lines)"
)
_FIX = "correct the file or export it again"
_CUT_OFF = (
    "the file ends in the middle of an entry: it was probably cut off; obtain the complete export"
)
_TOO_DEEP = (
    "the entry nests lists or objects too deeply (thousands of levels) to be read; "
    "check that the file is an audit export"
)


Parsed = tuple[Any, int, str | None]


class RawElement(NamedTuple):
    """One element of the file's entry list, before it is understood as an audit entry.

    ``quarantine_reason`` is set when the reader already knows the element must be quarantined
    whatever it holds (it is longer than :data:`MAX_ENTRY_CHARS`).
    """

    ordinal: int
    line: int
    column: int
    text: str
    value: Any
    duplicate_key: str | None
    quarantine_reason: str | None = None


class _InputFault(Exception):
    """The bytes cannot be read as text; the reader turns this into :class:`ImportRejected`."""

    def __init__(self, reason: str, offset: int, text_before: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.text_before = text_before


class _HashedFile:
    """A file's bytes as they are read, with the SHA-256 and the count of what was read."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.sha256 = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size)
        self.sha256.update(data)
        self.count += len(data)
        return data

    def seek(self, _offset: int, /) -> int:
        """Refused: the hash covers the bytes in the order they were read."""
        raise io.UnsupportedOperation("an export file is read once, from start to end")

    def close(self) -> None:
        self._handle.close()

    def drain(self) -> None:
        """Reads (and hashes) whatever is left of the file."""
        while self.read(CHUNK_BYTES):
            pass


class _Input:
    """Bytes from a plain or gzip-compressed file, decoded incrementally as strict UTF-8."""

    def __init__(self, path: Path, source: str) -> None:
        self.source = source
        raw = path.open("rb")
        self._raw: IO[bytes] = raw
        self._size = path.stat().st_size
        # Peeked, not read and sought back: a pipe (/dev/stdin) cannot seek.
        head = raw.peek(4)[:4]
        self.compressed = head.startswith(GZIP_MAGIC)
        if not self.compressed and head.startswith(_UTF16_32_BOMS):
            self._raw.close()
            raise ImportRejected(
                source,
                "the file is UTF-16 or UTF-32 encoded, but exports are UTF-8; "
                "convert it to UTF-8 and import it again",
                line=1,
                column=1,
                offset=0,
            )
        self.file = _HashedFile(self._raw)
        self._stream: _HashedFile | gzip.GzipFile = (
            gzip.GzipFile(fileobj=self.file, mode="rb") if self.compressed else self.file
        )
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.decoded_bytes = 0
        self._first = True
        self.eof = False

    @property
    def bytes_consumed(self) -> int:
        """How far into the file on disk reading has got (compressed bytes for gzip)."""
        return self.file.count

    @property
    def size(self) -> int:
        return self._size

    def read_text(self) -> str:
        """The next piece of decoded text; an empty string once the input is exhausted.

        Raises :class:`_InputFault` for damaged gzip data, a likely decompression bomb and
        bytes that are not UTF-8.
        """
        if self.eof:
            return ""
        data = self._read_bytes()
        final = not data
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            good = (pending + data)[: exc.start].decode("utf-8", "replace")
            raise _InputFault(
                "the file is not valid UTF-8 text here (exports are UTF-8); "
                "convert it to UTF-8 or export it again",
                self.decoded_bytes - len(pending) + exc.start,
                good,
            ) from None
        self.decoded_bytes += len(data)
        if self._first and text:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if final:
            self.eof = True
        return text

    def _read_bytes(self) -> bytes:
        try:
            data = self._stream.read(CHUNK_BYTES)
        except EOFError:
            raise _InputFault(
                "the compressed (gzip) file ends before its data does: it was cut off; "
                "obtain the complete file",
                self.bytes_consumed,
            ) from None
        except (zlib.error, gzip.BadGzipFile):
            raise _InputFault(
                "the compressed (gzip) data is damaged here and cannot be read; "
                "obtain an intact copy of the file",
                self.bytes_consumed,
            ) from None
        except OSError as exc:
            raise _InputFault(
                f"the file could not be read further ({exc.strerror or exc}); "
                "check the disk or copy the file elsewhere and import the copy",
                self.bytes_consumed,
            ) from None
        if self.compressed:
            allowed = INFLATE_ALLOWANCE + MAX_INFLATE_RATIO * self.file.count
            if self.decoded_bytes + len(data) > allowed:
                raise _InputFault(
                    f"the compressed file inflates to more than {allowed:,} bytes from its "
                    f"first {self.file.count:,}, far more than an export compresses; it was "
                    "refused as a likely decompression bomb (if it is a genuine export, "
                    "decompress it with gunzip and import the result)",
                    self.bytes_consumed,
                )
        return data

    def close(self) -> None:
        self._stream.close()
        self._raw.close()


class ExportReader:
    """Iterates the elements of an export's entry list; see the module docstring."""

    def __init__(self, path: Path | str, *, source: str | None = None) -> None:
        self.path = Path(path)
        self.source = source or str(path)
        self._input = _Input(self.path, self.source)
        self._buf = ""
        self._pos = 0
        self._line = 1
        self._line_start = 0
        self._counted = 0
        self._index = 0
        self._values = 0
        # While set, the window keeps the text from here on (an object not yet known to be a
        # wrapper may turn out to be one long entry).
        self._anchor: int | None = None
        self._lone_object: tuple[int, int, str] | None = None
        self._strict = StrictDecoder()

    # --- public -----------------------------------------------------------------------------

    @property
    def bytes_consumed(self) -> int:
        """Bytes of the file on disk read so far, for progress reporting."""
        return self._input.bytes_consumed

    @property
    def size(self) -> int:
        """The size of the file on disk when reading began."""
        return self._input.size

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed."""
        return self._input.compressed

    def digest(self) -> tuple[str, int]:
        """The SHA-256 (hex) and the number of the bytes read, once iteration has ended.

        They describe the bytes the elements came from (for gzip: the compressed bytes), even
        when the file was changed while it was read.
        """
        self._input.file.drain()
        return self._input.file.sha256.hexdigest(), self._input.file.count

    def close(self) -> None:
        """Releases the file."""
        self._input.close()

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[RawElement]:
        previous_end_line = 0
        document_spans_lines = False
        while True:
            char = self._peek_non_ws()
            if char == "":
                break
            line, column = self._position(self._pos)
            if self._values and (line == previous_end_line or document_spans_lines):
                self._reject_second_value(char)
            self._values += 1
            if char == "[":
                self._pos += 1
                yield from self._array_elements()
            elif char == "{":
                yield from self._top_object((line, column), single_candidate=self._values == 1)
            else:
                self._reject_top_value(line, column)
            end_line, _ = self._position(self._pos)
            if end_line != line:
                if self._values > 1:
                    self._fail_at_position(
                        line,
                        column,
                        "this JSON Lines value continues on the next line; in JSON Lines each "
                        f"value is on one line of its own; {_FIX}",
                    )
                document_spans_lines = True
            previous_end_line = end_line
        if self._values == 0:
            line, column = self._position(len(self._buf))
            raise ImportRejected(
                self.source,
                "the file is empty: it holds no entries; check that the right file was chosen",
                line=line,
                column=column,
            )
        if self._values == 1 and self._lone_object is not None:
            line, column, keys = self._lone_object
            raise ImportRejected(
                self.source,
                "not an audit export: the object here has no action and no list of entries "
                f"(its fields: {keys}); check that the right file was chosen",
                line=line,
                column=column,
            )

    # --- the layout of the file -------------------------------------------------------------

    def _reject_second_value(self, char: str) -> NoReturn:
        if char in "[{":
            self._fail_at(self._pos, SECOND_VALUE)
        self._fail_at(
            self._pos,
            f"more text ({self._describe_token(self._pos)}) follows the end of the JSON "
            "document here; an export holds one JSON document or one value per line "
            "(JSON Lines)",
        )

    def _reject_top_value(self, line: int, column: int) -> NoReturn:
        found = self._describe_token(self._pos)
        if self._values == 1:
            reason = (
                f"not an audit export: the file starts with {found}, where a list of entries "
                "('[') or an object ('{') should be; check that the right file was chosen"
            )
        else:
            reason = (
                f"this line holds {found}, where JSON Lines hold one entry (an object) or one "
                f"list of entries per line; {_FIX}"
            )
        self._fail_at_position(line, column, reason)

    # --- parsing ----------------------------------------------------------------------------

    def _array_elements(self) -> Iterator[RawElement]:
        """Yields the elements of an array whose ``[`` has just been consumed."""
        char = self._peek_non_ws()
        if char == "]":
            self._pos += 1
            return
        while True:
            self._peek_non_ws()
            yield self._element()
            char = self._peek_non_ws()
            if char == ",":
                self._pos += 1
                continue
            if char == "]":
                self._pos += 1
                return
            self._fail_here("the list of entries is broken here: a comma or the closing ']' "
                            "should follow the entry")  # fmt: skip

    def _top_object(
        self, position: tuple[int, int], *, single_candidate: bool
    ) -> Iterator[RawElement]:
        """A top-level object (starting at ``position``): a wrapper or one entry (JSON Lines)."""
        line, column = position
        parsed = self._parse_value(limit=MAX_ENTRY_CHARS, line_value=True)
        if parsed is None:
            # Larger than an entry should be: a wrapper around a long list, or one long entry.
            parsed = yield from self._walk_wrapper()
            if parsed is None:
                return
        value, end, duplicate = parsed
        if self._wrapped_list_key(value, line, column) is not None:
            yield from self._walk_wrapper()
            return
        element = self._emit(self._pos, end, value, duplicate, (line, column))
        if single_candidate and not self._looks_like_entry(value):
            keys = ", ".join(list(value)[:8]) or "none"
            self._lone_object = (element.line, element.column, keys)
        yield element

    @staticmethod
    def _looks_like_entry(value: dict[str, Any]) -> bool:
        return any(key in value for key in ACTION_KEYS)

    def _wrapped_list_key(self, value: dict[str, Any], line: int, column: int) -> str | None:
        """The wrapper key holding the entry list, if the object is a wrapper and not an entry."""
        if self._looks_like_entry(value):
            return None
        for key in WRAPPER_KEYS:
            if key in value:
                if not isinstance(value[key], list):
                    self._fail_at_position(
                        line,
                        column,
                        f"not an audit export: the field {key!r} should hold the list of "
                        f"entries but holds {_kind_of(value[key])}; check that the right file "
                        "was chosen",
                    )
                return key
        return None

    def _walk_wrapper(self) -> Generator[RawElement, None, Parsed | None]:
        """Walks an object key by key, streaming the elements of its entry list.

        Returns None when the object was a wrapper; otherwise (no entry list in it) the whole
        object parsed, which the window kept, with the cursor at its start.
        """
        self._anchor = self._pos
        try:
            found_list = yield from self._wrapper_members()
            if found_list:
                return None
            start = self._anchor
            value, end, duplicate = self._strict.decode(self._buf, start)
            self._pos = start
            return value, end, duplicate
        finally:
            self._anchor = None

    def _wrapper_members(self) -> Generator[RawElement, None, bool]:
        """The members of the object at the cursor; returns whether one was the entry list."""
        self._pos += 1  # the "{"
        found_list = False
        seen: set[str] = set()
        if self._peek_non_ws() == "}":
            self._pos += 1
            return False
        while True:
            if self._peek_non_ws() != '"':
                self._fail_here("the object holding the entries is broken here: a field name "
                                "in double quotes should be here")  # fmt: skip
            parsed = self._parse_value(limit=MAX_ENTRY_CHARS)
            if parsed is None:
                self._fail_at(self._pos, f"a field name here is longer than "
                              f"{MAX_ENTRY_CHARS:,} characters, or never ends; {_FIX}")  # fmt: skip
            key = parsed[0]
            self._pos = parsed[1]
            if key in seen:
                self._fail_here(f"the object holding the entries has the field {key!r} twice")
            seen.add(key)
            if self._peek_non_ws() != ":":
                self._fail_here("a colon should follow the field name here")
            self._pos += 1
            char = self._peek_non_ws()
            if key in WRAPPER_KEYS and not found_list and char == "[":
                found_list = True
                self._anchor = None
                self._pos += 1
                yield from self._array_elements()
            else:
                self._skip_member_value()
            char = self._peek_non_ws()
            if char == ",":
                self._pos += 1
                continue
            if char == "}":
                self._pos += 1
                return found_list
            self._fail_here("the object holding the entries is broken here: a comma or the "
                            "closing '}' should follow")  # fmt: skip

    def _skip_member_value(self) -> None:
        skipped = self._parse_value(limit=MAX_QUARANTINED_ENTRY_CHARS)
        anchor = self._anchor
        if skipped is None or (
            anchor is not None and skipped[1] - anchor > MAX_QUARANTINED_ENTRY_CHARS
        ):
            self._fail_at(self._pos if anchor is None else anchor, _too_long())
        self._pos = skipped[1]

    def _element(self) -> RawElement:
        parsed = self._parse_value(limit=MAX_QUARANTINED_ENTRY_CHARS)
        if parsed is None:
            self._fail_at(self._pos, _too_long())
        value, end, duplicate = parsed
        # Parsing may have slid the window: the value starts at the cursor it left.
        return self._emit(self._pos, end, value, duplicate)

    def _emit(
        self,
        start: int,
        end: int,
        value: Any,
        duplicate: str | None,
        position: tuple[int, int] | None = None,
    ) -> RawElement:
        line, column = position or self._position(start)
        length = end - start
        reason = None
        if length > MAX_ENTRY_CHARS:
            reason = (
                f"the entry is {length:,} characters long, more than the {MAX_ENTRY_CHARS:,} an "
                "entry may have; it is kept exactly as in the file, quarantined"
            )
        text = self._buf[start:end]
        element = RawElement(self._index, line, column, text, value, duplicate, reason)
        self._index += 1
        self._pos = end
        return element

    def _parse_value(self, *, limit: int, line_value: bool = False) -> Parsed | None:
        """Parses the value at the cursor, reading more text until it is complete.

        Returns the value, its end and the first duplicate key inside it; the cursor is left
        at the value's start, which moves when the window slides. A value that outgrows
        ``limit`` characters returns None. ``line_value``: the value is a top-level one, which
        in JSON Lines is a line of its own.
        """
        start = self._pos
        while True:
            try:
                value, end, duplicate = self._strict.decode(self._buf, start)
            except json.JSONDecodeError as error:
                if self._input.eof or self._is_final(error):
                    self._reject_syntax(start, error, line_value=line_value)
            except ForbiddenConstantError as exc:
                self._fail_at(start, f"the entry contains {exc}, which JSON does not allow; "
                              f"{_FIX}")  # fmt: skip
            except RecursionError:
                self._fail_at(start, _TOO_DEEP)
            else:
                # A number at the very end of the window might continue in the next chunk.
                complete = end < len(self._buf) or self._input.eof
                if complete or self._buf[end - 1] not in _NUMBER_OR_LITERAL_END:
                    return None if end - start > limit else (value, end, duplicate)
            if len(self._buf) - start > limit:
                return None
            start = self._fill(start, grow=True)
            self._pos = start

    def _is_final(self, error: json.JSONDecodeError) -> bool:
        """Whether more text could not mend the error (it is not at the window's end)."""
        return not error.msg.startswith(
            "Unterminated string"
        ) and error.pos + _ERROR_LOOKAHEAD < len(self._buf)

    def _reject_syntax(
        self, start: int, error: json.JSONDecodeError, *, line_value: bool
    ) -> NoReturn:
        content_end = start + len(self._buf[start:].rstrip(_WS_CHARS))
        if self._input.eof and (
            error.pos >= content_end or error.msg.startswith("Unterminated string")
        ):
            self._fail_at(content_end, _CUT_OFF)
        line_end = self._buf.find("\n", start, error.pos)
        if line_value and line_end != -1 and self._starts_a_line_value(error.pos):
            self._fail_at(
                start + len(self._buf[start:line_end].rstrip(_WS_CHARS)),
                "this line ends before its entry is complete (a closing '}' or ']' is "
                f"missing); {_FIX}",
            )
        self._fail_at(error.pos, _describe_error(error, self._buf))

    def _starts_a_line_value(self, index: int) -> bool:
        """Whether the text at ``index`` reads as the next line of JSON Lines."""
        if self._values > 1:
            return True
        return self._buf[index : index + 1] in ("{", "[") and self._buf[index - 1] == "\n"

    # --- the window -------------------------------------------------------------------------

    def _fill(self, keep_from: int, *, grow: bool) -> int:
        """Drops text before ``keep_from`` (and the anchor) and appends input.

        Returns ``keep_from``'s new index.
        """
        drop = keep_from if self._anchor is None else min(keep_from, self._anchor)
        if drop > 0:
            self._count_lines(drop)
            self._buf = self._buf[drop:]
            self._counted -= drop
            self._line_start -= drop
            self._pos -= drop
            if self._anchor is not None:
                self._anchor -= drop
        want = max(CHUNK_BYTES, len(self._buf)) if grow else CHUNK_BYTES
        added = 0
        while added < want:
            text = self._read_text()
            if not text:
                if self._input.eof:
                    break
                continue
            self._buf += text
            added += len(text)
        return keep_from - drop

    def _read_text(self) -> str:
        try:
            return self._input.read_text()
        except _InputFault as fault:
            line, column = self._position(len(self._buf))
            before = fault.text_before
            if "\n" in before:
                line += before.count("\n")
                column = len(before) - before.rfind("\n")
            else:
                column += len(before)
            raise ImportRejected(
                self.source, fault.reason, line=line, column=column, offset=fault.offset
            ) from None

    def _peek_non_ws(self) -> str:
        """The next non-white-space character ('' at the end of input); moves the cursor to it."""
        while True:
            match = _WS.match(self._buf, self._pos)
            assert match is not None
            self._pos = match.end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if self._input.eof:
                return ""
            self._fill(self._pos, grow=False)

    def _count_lines(self, upto: int) -> None:
        if upto <= self._counted:
            return
        newlines = self._buf.count("\n", self._counted, upto)
        if newlines:
            self._line += newlines
            self._line_start = self._buf.rfind("\n", self._counted, upto) + 1
        self._counted = upto

    def _position(self, index: int) -> tuple[int, int]:
        """1-based line and column of a buffer index at or after the last counted point."""
        self._count_lines(index)
        return self._line, index - self._line_start + 1

    def _describe_token(self, index: int) -> str:
        return _token_at(self._buf, index)

    def _fail_here(self, reason: str) -> NoReturn:
        if self._pos >= len(self._buf) and self._input.eof:
            self._fail_at(self._pos, _CUT_OFF)
        self._fail_at(self._pos, f"{reason}, but there is {self._describe_token(self._pos)}")

    def _fail_at(self, index: int, reason: str) -> NoReturn:
        index = max(index, self._counted)
        line, column = self._position(min(index, len(self._buf)))
        self._fail_at_position(line, column, reason)

    def _fail_at_position(self, line: int, column: int, reason: str) -> NoReturn:
        raise ImportRejected(self.source, reason, line=line, column=column)


def _token_at(text: str, index: int) -> str:
    """What stands at ``index``, quoted: up to 20 characters of the rest of its line."""
    token = text[index : index + 20].split("\n", 1)[0].rstrip("\r")
    if token:
        return repr(token)
    return "the end of the line" if index < len(text) else "the end of the file"


def _describe_error(error: json.JSONDecodeError, text: str) -> str:
    """A JSON syntax error in words, with what stands at its position and what to do."""
    found = _token_at(text, error.pos)
    closing = found[1:2] in ("]", "}")
    if closing and error.msg.startswith(("Expecting value", "Expecting property name")):
        return (
            f"a comma stands before the closing bracket {found}: remove the comma, "
            "or export the file again"
        )
    return (
        f"the file is not valid JSON at this point: {syntax_error_in_words(error)}, "
        f"but there is {found}; {_FIX}"
    )


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def _too_long() -> str:
    return (
        f"an entry here is longer than {MAX_QUARANTINED_ENTRY_CHARS:,} characters, or never "
        "ends; an entry that long cannot be read: check that the file is a complete audit export"
    )


def read_export(
    path: Path | str, *, on_element: Callable[[RawElement], None] | None = None
) -> list[RawElement]:
    """Reads a whole (small) export into memory; for tests and tools, not for big files."""
    with ExportReader(path) as reader:
        elements = []
        for element in reader:
            if on_element is not None:
                on_element(element)
            elements.append(element)
        return elements
