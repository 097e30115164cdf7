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


# What a message about a refused file adds: the store is all-or-nothing per file.
NOTHING_IMPORTED = "Nothing of the file was imported; the store is as it was."


def rejection(message: str) -> str:
    """A refused file's message followed by the sentence saying nothing of it was imported."""
    return f"{message.rstrip().rstrip('.')}. {NOTHING_IMPORTED}"


def plural_of(noun: str) -> str:
    """The plural of one of the nouns the program counts."""
    return _IRREGULAR.get(noun, noun + "s")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with the noun in the number it takes: "1 conflict", "3 conflicts", "0 files".

    Counts get thousands separators. Of several words the last is inflected ("2 sync runs",
    "2 new entries"); ``plural`` spells out any other plural.
    """
    if count == 1:
        return f"{count:,} {noun}"
    if plural is None:
        head, space, last = noun.rpartition(" ")
        plural = head + space + plural_of(last)
    return f"{count:,} {plural}"
