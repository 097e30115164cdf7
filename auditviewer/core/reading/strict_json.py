"""``json``'s C scanner held to JSON's rules, for every parser that must keep exact text.

``json`` accepts ``NaN`` and ``Infinity``, keeps the last of duplicate keys without a word, and
fails on integers longer than Python's digit limit. :class:`StrictDecoder` refuses the first,
reports the second (so the element can be quarantined rather than silently changed) and keeps
the third as its text. It decodes at a position and returns the end, so callers can cut each
element's original text out of the document.
"""

from __future__ import annotations

import json
from typing import Any

# What ``json`` means by its messages, in the words of someone reading the audit log.
_JSON_ERRORS = (
    ("Expecting value", "a value (text in double quotes, a number, true, false, null, "
     "an object or a list) should be here"),
    ("Expecting property name enclosed in double quotes",
     "a field name in double quotes should be here"),
    ("Expecting ':' delimiter", "a colon should follow the field name here"),
    ("Expecting ',' delimiter", "a comma or a closing bracket should be here"),
    ("Invalid control character", "a text value holds a raw control character (such as a tab "
     "or a line break), which JSON allows only escaped, as \\t or \\n"),
    ("Invalid \\uXXXX escape",
     "a text value holds a broken \\u escape (\\u must be followed by four hexadecimal digits)"),
    ("Invalid \\escape", "a text value holds a backslash that starts no valid escape "
     "(a backslash itself is written \\\\)"),
    ("Unterminated string", "a text value starts here but its closing double quote is missing"),
)  # fmt: skip


def syntax_error_in_words(error: json.JSONDecodeError) -> str:
    """What a JSON syntax error means, as a phrase for someone reading the audit log."""
    for prefix, phrase in _JSON_ERRORS:
        if error.msg.startswith(prefix):
            return phrase
    return "the text does not follow JSON's rules here"


class ForbiddenConstantError(ValueError):
    """The text holds ``NaN``, ``Infinity`` or ``-Infinity``, which JSON does not allow."""


def _reject_constant(name: str) -> Any:
    raise ForbiddenConstantError(name)


def _int_or_text(digits: str) -> int | str:
    """Keeps integers longer than Python's conversion limit as their text instead of failing."""
    try:
        return int(digits)
    except ValueError:
        return digits


class StrictDecoder:
    """Decodes one JSON value at a position; see the module docstring.

    Raises ``json.JSONDecodeError`` for invalid JSON, :class:`ForbiddenConstantError` for the
    non-standard constants and ``RecursionError`` for excessive nesting.
    """

    def __init__(self) -> None:
        self._duplicates: list[str] = []
        self._decoder = json.JSONDecoder(
            object_pairs_hook=self._make_object, parse_constant=_reject_constant
        )
        # Only used when the fast decoder meets an over-long integer: parse_int costs a call
        # per number.
        self._tolerant = json.JSONDecoder(
            object_pairs_hook=self._make_object,
            parse_constant=_reject_constant,
            parse_int=_int_or_text,
        )

    def decode(self, text: str, start: int) -> tuple[Any, int, str | None]:
        """The value starting at ``start``, where it ends, and its first duplicate key."""
        self._duplicates.clear()
        try:
            value, end = self._decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            raise
        except ForbiddenConstantError:
            raise
        except ValueError:
            self._duplicates.clear()
            value, end = self._tolerant.raw_decode(text, start)
        return value, end, self._duplicates[0] if self._duplicates else None

    def _make_object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self._duplicates.append(key)
                    break
                seen.add(key)
        return obj
