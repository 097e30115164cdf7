"""Counts in words: "1 file", "2 files", "1 entry", "1,204 entries", for every message shown."""

from __future__ import annotations

from typing import Final

# Nouns whose plural is not the singular plus "s".
_IRREGULAR: Final[dict[str, str]] = {
    "entry": "entries",
    "entity": "entities",
    "copy": "copies",
    "is": "are",
    "was": "were",
    "has": "have",
}


def plural_of(noun: str) -> str:
    """The plural of one of the nouns the program counts."""
    return _IRREGULAR.get(noun, noun + "s")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with the noun in the number it takes: "1 conflict", "3 conflicts", "0 files".

    Counts get thousands separators. ``noun`` may be several words; only the first is inflected
    when it is followed by a qualifier ("1 file imported", "2 files imported").
    """
    if count == 1:
        return f"{count:,} {noun}"
    if plural is None:
        head, space, rest = noun.partition(" ")
        plural = plural_of(head) + space + rest
    return f"{count:,} {plural}"
