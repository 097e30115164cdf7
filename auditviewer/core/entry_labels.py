"""How an entry's actor, entity and flags read for people, the same in the CLI and the window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auditviewer.core.vocabulary import QUARANTINED, flags_of


class RowLike(Protocol):
    """The normalised columns of an entry (``EntryRow`` and ``EntryDetail`` both have them)."""

    @property
    def created_utc(self) -> int | None: ...
    @property
    def time_naive(self) -> bool: ...
    @property
    def action(self) -> str | None: ...
    @property
    def actor_label(self) -> str | None: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def entity_type(self) -> str | None: ...
    @property
    def entity_id(self) -> str | None: ...
    @property
    def entity_name(self) -> str | None: ...
    @property
    def quarantine_reason(self) -> str | None: ...
    @property
    def conflict(self) -> bool: ...
    @property
    def flags(self) -> int: ...


ACTOR_TYPE_NAMES = {"user": "User", "token": "Organization Auth Token", "unknown": "Unknown"}


def actor_text(row: RowLike) -> str:
    """The actor's label, falling back to its id."""
    return row.actor_label or (f"#{row.actor_id}" if row.actor_id else "")


def entity_text(row: RowLike) -> str:
    """``type name`` of the entity, with its id when it has no name."""
    parts = [row.entity_type or ""]
    if row.entity_name:
        parts.append(row.entity_name)
    elif row.entity_id:
        parts.append(f"#{row.entity_id}")
    return " ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class Flag:
    """Something about an entry worth a second look."""

    key: str
    short: str
    sentence: str


def entry_flags(row: RowLike) -> list[Flag]:
    """The flags of an entry, most serious first (the core's vocabulary, one sentence each)."""
    flags: list[Flag] = []
    for flag in flags_of(row.flags):
        sentence = flag.sentence
        if flag is QUARANTINED and row.quarantine_reason:
            sentence = f"{sentence}: {row.quarantine_reason}."
        flags.append(Flag(flag.key, flag.short, sentence))
    return flags
