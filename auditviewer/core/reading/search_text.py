"""The words of an entry as full-text search sees them: its body text and its tokens.

Kept free of any store access so that the parsing process can compute an entry's body while
it has the entry at hand, and the index can be filled in the same pass as the import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import orjson

# Alphanumeric runs: the token characters of FTS5's unicode61 tokenizer (letters, numbers).
_TOKEN = re.compile(r"[^\W_]+")
# Combining marks dropped after NFD decomposition (the diacritics unicode61 removes).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def body_text(raw: str) -> str:
    """The searchable body of an entry: its JSON values in document order, joined by spaces.

    Strings, integers and booleans (``true``/``false``) contribute words; key names, nulls and
    non-integer numbers do not (``1e3`` is not spelled in the raw text as Python would print
    it, which the pre-check of :func:`matching_seqs` relies on). Text that is not valid JSON
    is searched as it stands.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return body_of_value(value)


def body_of_value(value: Any) -> str:
    """:func:`body_text` of an entry already parsed (the parsing process has it at hand)."""
    parts: list[str] = []
    kind = type(value)
    try:
        if kind is dict or kind is list:
            _collect(value, parts)
        else:
            _collect([value], parts)
    except RecursionError:
        parts = []
        _collect_deep(value, parts.append)
    body = " ".join(parts)
    if body.isascii():
        return body
    # A lone surrogate escape decodes, but SQLite cannot store it.
    return body.encode("utf-8", "replace").decode("utf-8")


def _collect(container: dict[str, Any] | list[Any], parts: list[str]) -> None:
    """Appends the words of a container's values; leaves are handled inline (no call each)."""
    children: Any = container.values() if type(container) is dict else container
    for child in children:
        kind: Any = type(child)
        if kind is str:
            parts.append(child)
        elif kind is dict or kind is list:
            _collect(child, parts)
        elif kind is bool:
            parts.append("true" if child else "false")
        elif kind is int:
            parts.append(str(child))


def _collect_deep(value: Any, add: Callable[[str], None]) -> None:
    """:func:`_collect` without recursion, for values nested deeper than Python recurses."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            add(item)
        elif kind is dict:
            stack.extend(reversed(list(item.values())))
        elif kind is list:
            stack.extend(reversed(item))
        elif kind is bool:
            add("true" if item else "false")
        elif kind is int:
            add(str(item))


def tokenize(text: str) -> list[str]:
    """The words of a text as the index sees them: case-folded, diacritics removed."""
    return _TOKEN.findall(_fold(text))


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFD", text.lower()))


def phrase_tokens(phrase: str) -> list[str]:
    """The words of a search phrase; an empty list when it holds nothing searchable."""
    return tokenize(phrase)


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression for a phrase of words, the last one a prefix.

    Tokens are alphanumeric runs, so quoting them cannot inject FTS5 operators.
    """
    assert tokens
    assert all('"' not in t for t in tokens)
    return '"' + " ".join(tokens) + '" *'


def text_matches(body: str, tokens: list[str]) -> bool:
    """Whether ``tokens`` appear consecutively among the words of ``body`` (last as a prefix)."""
    folded = _fold(body)
    if any(token not in folded for token in tokens):
        return False
    words = _TOKEN.findall(folded)
    head, last = tokens[:-1], tokens[-1]
    width = len(tokens)
    for start in range(len(words) - width + 1):
        if words[start + width - 1].startswith(last) and words[start : start + width - 1] == head:
            return True
    return False
