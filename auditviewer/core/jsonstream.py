"""Streams the entries out of an export file, keeping each entry's exact original text.

An export is a sequence of top-level JSON values separated by white space: one array of entries,
an object wrapping that array (``{"data": [...]}``), or one entry per line (JSON Lines); several
wrapped pages one after another are read too. Any of these may be gzip-compressed (recognised by
its magic bytes, not its name).

The text is decoded incrementally and each element is parsed with ``JSONDecoder.raw_decode``
over a sliding window, which gives both the value and its span: the span is the entry's original
text, byte-for-byte once encoded back to UTF-8. Memory stays bounded by the window, whatever the
size of the file. Anything that is not strictly valid JSON raises :class:`ImportRejected` naming
the file and the position.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from auditviewer.core.errors import ImportRejected
from auditviewer.core.fieldmap import ACTION_KEYS, WRAPPER_KEYS
from auditviewer.core.strict_json import ForbiddenConstantError, StrictDecoder

CHUNK_BYTES = 1 << 20
MAX_ENTRY_CHARS = 16 << 20
GZIP_MAGIC = b"\x1f\x8b"
# A gzip member that inflates past this many times its own size (and past the floor) is treated
# as a decompression bomb rather than an export.
MAX_INFLATE_RATIO = 200
MIN_INFLATE_CAP = 1 << 30

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER_OR_LITERAL_END = frozenset("0123456789.eE+-aeflnrstu")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class RawElement(NamedTuple):
    """One element of the file's entry list, before it is understood as an audit entry."""

    ordinal: int
    line: int
    column: int
    text: str
    value: Any
    duplicate_key: str | None


class _Input:
    """Bytes from a plain or gzip-compressed file, decoded incrementally as strict UTF-8."""

    def __init__(self, path: Path, source: str) -> None:
        self.source = source
        self._raw: IO[bytes] = path.open("rb")
        self._size = path.stat().st_size
        head = self._raw.read(4)
        self._raw.seek(0)
        self.compressed = head.startswith(GZIP_MAGIC)
        self._stream: IO[bytes] | gzip.GzipFile
        if self.compressed:
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
        else:
            if head.startswith(_UTF16_32_BOMS):
                self._raw.close()
                raise ImportRejected(
                    source, "the file is UTF-16 or UTF-32 encoded; exports are UTF-8", offset=0
                )
            self._stream = self._raw
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.decoded_bytes = 0
        self._inflate_cap = max(MIN_INFLATE_CAP, self._size * MAX_INFLATE_RATIO)
        self._first = True
        self.eof = False

    @property
    def bytes_consumed(self) -> int:
        """How far into the file on disk reading has got (compressed bytes for gzip)."""
        return self._raw.tell() if not self._raw.closed else self._size

    @property
    def size(self) -> int:
        return self._size

    def read_text(self) -> str:
        """The next piece of decoded text; an empty string once the input is exhausted."""
        if self.eof:
            return ""
        try:
            data = self._stream.read(CHUNK_BYTES)
        except EOFError:
            raise ImportRejected(
                self.source,
                "the gzip stream is truncated (the file ends before the compressed data does)",
                offset=self.bytes_consumed,
            ) from None
        except (zlib.error, gzip.BadGzipFile, OSError) as exc:
            raise ImportRejected(
                self.source, f"the gzip data is corrupt ({exc})", offset=self.bytes_consumed
            ) from None
        final = not data
        if self.compressed and self.decoded_bytes + len(data) > self._inflate_cap:
            raise ImportRejected(
                self.source,
                f"the compressed file inflates to more than {self._inflate_cap:,} bytes; "
                "refusing it as a likely decompression bomb",
                offset=self.bytes_consumed,
            )
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise ImportRejected(
                self.source,
                "the file is not valid UTF-8",
                offset=self.decoded_bytes + exc.start,
            ) from None
        self.decoded_bytes += len(data)
        if self._first and text:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if final:
            self.eof = True
        return text

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
        self._lone_object: tuple[int, int, str] | None = None
        self._strict = StrictDecoder()

    # --- public -----------------------------------------------------------------------------

    @property
    def bytes_consumed(self) -> int:
        """Bytes of the file on disk read so far, for progress reporting."""
        return self._input.bytes_consumed

    @property
    def size(self) -> int:
        """The size of the file on disk."""
        return self._input.size

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed."""
        return self._input.compressed

    def close(self) -> None:
        """Releases the file."""
        self._input.close()

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[RawElement]:
        top_values = 0
        while True:
            char = self._peek_non_ws()
            if char == "":
                break
            top_values += 1
            if char == "[":
                self._pos += 1
                yield from self._array_elements()
            elif char == "{":
                yield from self._top_object(single_candidate=top_values == 1)
            else:
                line, column = self._position(self._pos)
                raise ImportRejected(
                    self.source,
                    "not an audit export: a top-level value must be an array or an object, "
                    f"found {self._describe_token(self._pos)}",
                    line=line,
                    column=column,
                )
        if top_values == 0:
            raise ImportRejected(
                self.source, "not an audit export: the file holds no JSON value (it is empty)"
            )
        if top_values == 1 and self._lone_object is not None:
            line, column, keys = self._lone_object
            raise ImportRejected(
                self.source,
                "not an audit export: the object has no action and no list of entries "
                f"(its keys: {keys})",
                line=line,
                column=column,
            )

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
            self._fail_here("expected ',' or ']' after an entry")

    def _top_object(self, *, single_candidate: bool) -> Iterator[RawElement]:
        """A top-level object: a wrapper around the entry list, or one entry (JSON Lines)."""
        parsed = self._parse_value(allow_oversize=True)
        if parsed is None:
            # Larger than an entry can be: only a wrapper around a long list fits that.
            yield from self._walk_wrapper()
            return
        value, end, duplicate = parsed
        start = self._pos
        wrapped = self._wrapped_list_key(value)
        if wrapped is not None:
            yield from self._walk_wrapper()
            return
        element = self._emit(start, end, value, duplicate)
        if single_candidate and not self._looks_like_entry(value):
            keys = ", ".join(list(value)[:8]) or "none"
            self._lone_object = (element.line, element.column, keys)
        yield element

    @staticmethod
    def _looks_like_entry(value: dict[str, Any]) -> bool:
        return any(key in value for key in ACTION_KEYS)

    def _wrapped_list_key(self, value: dict[str, Any]) -> str | None:
        """The wrapper key holding the entry list, if the object is a wrapper and not an entry."""
        if self._looks_like_entry(value):
            return None
        for key in WRAPPER_KEYS:
            if key in value:
                if not isinstance(value[key], list):
                    found = type(value[key]).__name__
                    raise ImportRejected(
                        self.source,
                        f"not an audit export: {key!r} should hold the list of entries "
                        f"but holds a {found}",
                    )
                return key
        return None

    def _walk_wrapper(self) -> Iterator[RawElement]:
        """Walks a wrapper object key by key, streaming the elements of its entry list."""
        self._pos += 1  # the "{"
        found_list = False
        seen: set[str] = set()
        char = self._peek_non_ws()
        if char == "}":
            self._pos += 1
            return
        while True:
            if self._peek_non_ws() != '"':
                self._fail_here("expected a quoted key in the wrapper object")
            parsed = self._parse_value(allow_oversize=False)
            assert parsed is not None
            key, _, _ = parsed
            self._pos = parsed[1]
            if key in seen:
                self._fail_here(f"the wrapper object has the key {key!r} twice")
            seen.add(key)
            if self._peek_non_ws() != ":":
                self._fail_here("expected ':' after a key")
            self._pos += 1
            char = self._peek_non_ws()
            if key in WRAPPER_KEYS and not found_list:
                if char != "[":
                    line, column = self._position(self._pos)
                    raise ImportRejected(
                        self.source,
                        f"not an audit export: {key!r} should hold the list of entries "
                        f"but holds {self._describe_token(self._pos)}",
                        line=line,
                        column=column,
                    )
                found_list = True
                self._pos += 1
                yield from self._array_elements()
            else:
                skipped = self._parse_value(allow_oversize=False)
                assert skipped is not None
                self._pos = skipped[1]
            char = self._peek_non_ws()
            if char == ",":
                self._pos += 1
                continue
            if char == "}":
                self._pos += 1
                return
            self._fail_here("expected ',' or '}' in the wrapper object")

    def _element(self) -> RawElement:
        parsed = self._parse_value(allow_oversize=False)
        assert parsed is not None
        value, end, duplicate = parsed
        # Parsing may have slid the window: the value starts at the cursor it left.
        return self._emit(self._pos, end, value, duplicate)

    def _emit(self, start: int, end: int, value: Any, duplicate: str | None) -> RawElement:
        line, column = self._position(start)
        element = RawElement(self._index, line, column, self._buf[start:end], value, duplicate)
        self._index += 1
        self._pos = end
        return element

    def _parse_value(self, *, allow_oversize: bool) -> tuple[Any, int, str | None] | None:
        """Parses the value at the cursor, reading more text until it is complete.

        Returns the value, its end and the first duplicate key inside it; the cursor is left
        at the value's start, which moves when the window slides. With
        ``allow_oversize`` a value that outgrows the entry limit returns None instead of
        rejecting the file (the caller then walks it as a wrapper).
        """
        start = self._pos
        while True:
            error: json.JSONDecodeError | None = None
            try:
                value, end, duplicate = self._strict.decode(self._buf, start)
            except json.JSONDecodeError as exc:
                error = exc
            except ForbiddenConstantError as exc:
                self._fail_at(start, f"the entry contains {exc}, which is not valid JSON")
            except RecursionError:
                self._fail_at(start, "the entry is nested too deeply")
            if error is None:
                # A number at the very end of the window might continue in the next chunk.
                complete = end < len(self._buf) or self._input.eof
                if complete or self._buf[end - 1] not in _NUMBER_OR_LITERAL_END:
                    return value, end, duplicate
            elif self._input.eof:
                self._fail_at(error.pos, self._describe_error(error))
            if len(self._buf) - start > MAX_ENTRY_CHARS:
                if allow_oversize:
                    return None
                self._fail_at(
                    start,
                    f"an entry is longer than {MAX_ENTRY_CHARS:,} characters, or unterminated",
                )
            start = self._fill(start, grow=True)
            self._pos = start

    def _describe_error(self, error: json.JSONDecodeError) -> str:
        if error.pos >= len(self._buf) or error.msg.startswith("Unterminated string"):
            return f"the file ends in the middle of a JSON value ({error.msg})"
        return f"invalid JSON: {error.msg}"

    # --- the window -------------------------------------------------------------------------

    def _fill(self, keep_from: int, *, grow: bool) -> int:
        """Drops text before ``keep_from`` and appends input; returns ``keep_from``'s new index."""
        if keep_from > 0:
            self._count_lines(keep_from)
            self._buf = self._buf[keep_from:]
            self._counted -= keep_from
            self._line_start -= keep_from
            self._pos -= keep_from
        want = max(CHUNK_BYTES, len(self._buf)) if grow else CHUNK_BYTES
        added = 0
        while added < want:
            text = self._input.read_text()
            if not text:
                if self._input.eof:
                    break
                continue
            self._buf += text
            added += len(text)
        return 0

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
        token = self._buf[index : index + 20]
        return f"{token!r}" if token else "the end of the file"

    def _fail_here(self, reason: str) -> None:
        self._fail_at(self._pos, f"{reason}, found {self._describe_token(self._pos)}")

    def _fail_at(self, index: int, reason: str) -> Any:
        index = max(index, self._counted)
        line, column = self._position(min(index, len(self._buf)))
        raise ImportRejected(self.source, reason, line=line, column=column)


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
