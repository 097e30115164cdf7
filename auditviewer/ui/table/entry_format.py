"""How entry values read on screen: times in UTC or local time; actors, entities and flags read
as :mod:`auditviewer.core.entry_labels` says, as in the CLI."""

from __future__ import annotations

import os
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QTimeZone

from auditviewer.core.entry_labels import (
    ACTOR_TYPE_NAMES,
    Flag,
    RowLike,
    actor_text,
    entity_text,
    entry_flags,
)

MICROS = 1_000_000
LOCALTIME_LINK = Path("/etc/localtime")


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


def _zone_name(name: str) -> str | None:
    """``name`` when it is a time zone database name (``Europe/Berlin``), else None."""
    name = name.removeprefix(":").strip()
    if "/" not in name and name != "UTC":
        return None  # a POSIX rule such as ``CET-1CEST`` or a path's last part
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return name


def local_zone_name() -> str | None:
    """The database name of the local time zone: from ``TZ``, from the ``/etc/localtime`` link,
    or as Qt reads it from the system; None when none of them names one."""
    candidates = [os.environ.get("TZ", "")]
    try:
        target = str(LOCALTIME_LINK.readlink()) if LOCALTIME_LINK.is_symlink() else ""
    except OSError:
        target = ""
    candidates.append(target.partition("zoneinfo/")[2])
    if not os.environ.get("TZ"):
        candidates.append(bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="replace"))
    for candidate in candidates:
        name = _zone_name(candidate) if candidate else None
        if name is not None:
            return name
    return None


def utc_offset_text(offset: timedelta | None) -> str:
    """``UTC+1``, ``UTC-3``, ``UTC+5:30``: an offset from UTC as people write it."""
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_zone_label(now: datetime | None = None) -> str:
    """The local zone as the time column names it: ``Europe/Berlin, UTC+1`` (offset of now)."""
    moment = (now or datetime.now(tz=UTC)).astimezone()
    offset = utc_offset_text(moment.utcoffset())
    return f"{local_zone_name() or 'local time'}, {offset}"


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
    "local_zone_label",
    "local_zone_name",
    "to_datetime",
]
