"""How entry values read on screen: times in UTC or local time; actors, entities and flags read
as :mod:`auditviewer.core.entry_labels` says, as in the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from auditviewer.core.entry_labels import (
    ACTOR_TYPE_NAMES,
    Flag,
    RowLike,
    actor_text,
    entity_text,
    entry_flags,
)

MICROS = 1_000_000


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


def format_time_local_and_utc(micros: int) -> str:
    """A stored time in local time, with UTC beside it (for "last synced" lines)."""
    try:
        moment = to_datetime(micros, utc=True)
    except (OverflowError, OSError, ValueError):
        return f"{micros} µs since 1970 (out of range)"
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} local time ({moment:%Y-%m-%d %H:%M} UTC)"


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


__all__ = [
    "ACTOR_TYPE_NAMES",
    "Flag",
    "RowLike",
    "actor_text",
    "entity_text",
    "entry_flags",
    "format_time",
    "format_time_local_and_utc",
    "format_time_long",
    "to_datetime",
]
