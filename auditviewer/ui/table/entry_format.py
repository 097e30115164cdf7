"""How entry values read on screen: times, actors, entities and the flags with their sentences."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from auditviewer.core.vocabulary import QUARANTINED, flags_of

MICROS = 1_000_000


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


def now_micros() -> int:
    """The current UTC time in microseconds."""
    return time.time_ns() // 1000


def to_datetime(micros: int, *, utc: bool) -> datetime:
    """A UTC microsecond timestamp as an aware datetime in UTC or in local time."""
    moment = datetime.fromtimestamp(micros / MICROS, tz=UTC)
    return moment if utc else moment.astimezone()


def format_time(micros: int | None, *, utc: bool, seconds_only: bool = True) -> str:
    """A timestamp for the table: ``2024-09-03 14:07:55`` (with ``Z`` in UTC)."""
    if micros is None:
        return ""
    try:
        moment = to_datetime(micros, utc=utc)
    except (OverflowError, OSError, ValueError):
        return f"{micros} µs"
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if not seconds_only:
        text += f".{moment.microsecond:06d}"
    return text + (" Z" if utc else "")


def format_time_long(micros: int | None, *, utc: bool) -> str:
    """A timestamp for the details: full precision and the offset."""
    if micros is None:
        return "(no time)"
    try:
        moment = to_datetime(micros, utc=utc)
    except (OverflowError, OSError, ValueError):
        return f"{micros} µs since 1970 (out of range)"
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    zone = "UTC" if utc else (moment.tzname() or "local")
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S.%f')} {offset} ({zone})"


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
