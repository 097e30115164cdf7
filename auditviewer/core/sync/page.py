"""Parses one page of the audit-log API, keeping each entry's exact original text.

A page is ``{"data": [...], "paging": {...}}``. The body is decoded as strict UTF-8 and walked
with ``JSONDecoder.raw_decode``, which gives each element of ``data`` both its value and its
span: the span is the entry's original text. Anything that is not strictly valid JSON (``NaN``,
trailing garbage, a truncated body) or not shaped like a page raises :class:`PageError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from auditviewer.core.reading.strict_json import (
    ForbiddenConstantError,
    StrictDecoder,
    syntax_error_in_words,
)

_WS = re.compile(r"[ \t\n\r]*")


class PageError(ValueError):
    """The body is not a valid page; the message says why (never quoting more than a snippet)."""


@dataclass(frozen=True, slots=True)
class PageElement:
    """One element of the page's ``data`` list."""

    text: str
    value: Any
    duplicate_key: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """A parsed page: its elements newest first and the server's paging information."""

    elements: tuple[PageElement, ...]
    page: int | None
    per_page: int | None
    page_count: int | None
    total_count: int | None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.decoder = StrictDecoder()

    def where(self, index: int | None = None) -> str:
        index = self.pos if index is None else index
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return f"line {line}, column {column}"

    def fail(self, reason: str, index: int | None = None) -> PageError:
        index = self.pos if index is None else index
        if index >= len(self.text):
            return PageError(f"the body ends too early, {reason} ({self.where(index)})")
        return PageError(f"{reason} ({self.where(index)})")

    def skip_ws(self) -> str:
        match = _WS.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        return self.text[self.pos : self.pos + 1]

    def value(self) -> tuple[Any, int, int, str | None]:
        self.skip_ws()
        start = self.pos
        try:
            value, end, duplicate = self.decoder.decode(self.text, start)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(self.text):
                raise self.fail("in the middle of a value", exc.pos) from None
            raise self.fail(syntax_error_in_words(exc), exc.pos) from None
        except ForbiddenConstantError as exc:
            raise self.fail(f"{exc} is not valid JSON", start) from None
        except RecursionError:
            raise self.fail("a value is nested too deeply", start) from None
        self.pos = end
        return value, start, end, duplicate

    def expect(self, char: str, what: str) -> None:
        if self.skip_ws() != char:
            raise self.fail(f"expected {what}")
        self.pos += 1

    def data_array(self) -> list[PageElement]:
        self.expect("[", "'[' starting the data list")
        elements: list[PageElement] = []
        if self.skip_ws() == "]":
            self.pos += 1
            return elements
        while True:
            value, start, end, duplicate = self.value()
            elements.append(PageElement(self.text[start:end], value, duplicate))
            char = self.skip_ws()
            self.pos += 1
            if char == "]":
                return elements
            if char != ",":
                raise self.fail("expected ',' or ']' in the data list", self.pos - 1)


def _count(paging: dict[str, Any], key: str) -> int | None:
    value = paging.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PageError(f"paging.{key} is not a count: {str(value)[:40]!r}")
    return value


def parse_page(body: bytes) -> Page:
    """Parses a page body; raises :class:`PageError` when it is not a complete, valid page."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PageError(f"the body is not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = _Parser(text)
    if parser.skip_ws() == "":
        raise PageError("the body is empty")
    if parser.skip_ws() != "{":
        snippet = text[parser.pos : parser.pos + 20]
        raise parser.fail(f"expected a JSON object, found {snippet!r}")
    parser.pos += 1
    elements: list[PageElement] | None = None
    paging: Any = None
    seen: set[str] = set()
    if parser.skip_ws() == "}":
        parser.pos += 1
    else:
        while True:
            if parser.skip_ws() != '"':
                raise parser.fail("expected a quoted key")
            key, _, _, _ = parser.value()
            if key in seen:
                raise parser.fail(f"the key {key!r} appears twice")
            seen.add(key)
            parser.expect(":", "':' after a key")
            if key == "data":
                parser.skip_ws()
                if parser.text[parser.pos : parser.pos + 1] != "[":
                    raise parser.fail("'data' is not a list")
                elements = parser.data_array()
            else:
                value, _, _, _ = parser.value()
                if key == "paging":
                    paging = value
            char = parser.skip_ws()
            parser.pos += 1
            if char == "}":
                break
            if char != ",":
                raise parser.fail("expected ',' or '}'", parser.pos - 1)
    if parser.skip_ws() != "":
        raise parser.fail("unexpected text after the page object")
    if elements is None:
        raise PageError("the page has no 'data' list")
    if paging is None:
        paging = {}
    if not isinstance(paging, dict):
        raise PageError("'paging' is not an object")
    return Page(
        elements=tuple(elements),
        page=_count(paging, "page"),
        per_page=_count(paging, "per_page"),
        page_count=_count(paging, "page_count"),
        total_count=_count(paging, "total_count"),
    )
