"""Stored times for people: microseconds since the epoch, in UTC, as ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROS_PER_DAY: Final = 86_400_000_000


def iso_utc(micros: int | None) -> str:
    """A UTC time in microseconds as ISO 8601 with a ``Z`` (``""`` for no time)."""
    if micros is None:
        return ""
    try:
        moment = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return str(micros)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
