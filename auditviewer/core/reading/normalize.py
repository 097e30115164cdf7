"""Turns one parsed export element into the normalised columns the store filters and sorts on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditviewer.core.reading.fieldmap import (
    ACTOR_FIELDS,
    ACTOR_TYPE_TOKEN,
    ACTOR_TYPE_UNKNOWN,
    ACTOR_TYPE_USER,
    ACTOR_TYPES,
    ENTITY_FIELDS,
    ENTRY_FIELDS,
    FLAT_FIELDS,
    PROJECT_FIELDS,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID, _CREATED, _ACTION, _ACTOR = (ENTRY_FIELDS[k] for k in ("id", "created", "action", "actor"))
_PROJECT, _ENTITY, _IP, _USER_AGENT = (
    ENTRY_FIELDS[k] for k in ("project", "entity", "ip", "user_agent")
)
_ACTOR_TYPE, _ACTOR_LABEL, _ACTOR_ID = (ACTOR_FIELDS[k] for k in ("type", "label", "id"))
_ENTITY_TYPE, _ENTITY_ID, _ENTITY_NAME = (ENTITY_FIELDS[k] for k in ("type", "id", "name"))
_PROJECT_SLUG = PROJECT_FIELDS["slug"]
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
# Plausible bounds for a numeric epoch timestamp, to tell seconds, milliseconds and microseconds.
_MILLIS_FROM = 100_000_000_000
_MICROS_FROM = 100_000_000_000_000


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised view of an entry; ``quarantine_reason`` is set when it is unusable.

    The store reads these columns back as :class:`auditviewer.core.querying.window.EntryRow`,
    which extends this record with what only the store knows.
    """

    entry_key: str
    created_utc: int | None
    time_naive: bool
    action: str | None
    actor_type: str
    actor_label: str | None
    actor_id: str | None
    project: str | None
    entity_type: str | None
    entity_id: str | None
    entity_name: str | None
    ip: str | None
    user_agent: str | None
    quarantine_reason: str | None


def _first(obj: dict[str, Any], names: tuple[str, ...]) -> Any:
    value = obj.get(names[0])  # the canonical name, by far the most common
    if value is not None:
        return value
    for name in names[1:]:
        value = obj.get(name)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def entry_key_of(value: Any) -> str:
    """The source id as text ('' when the entry has none)."""
    if type(value) is int:
        return str(value)
    if value is None or isinstance(value, dict | list):
        return ""
    return _text(value) or ""


def parse_time(value: Any) -> tuple[int, bool]:
    """UTC microseconds since the epoch and whether the source gave no offset.

    A time without an offset is taken as UTC and reported as naive so that the entry is
    flagged, never silently read as local time. Raises ValueError with the reason.
    """
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = _parse_iso_leniently(value)
        return _micros(moment)
    if isinstance(value, bool):
        raise ValueError(f"the time {value!r} is not a timestamp")
    if isinstance(value, int | float):
        magnitude = abs(value)
        if magnitude >= _MICROS_FROM:
            return int(value), False
        if magnitude >= _MILLIS_FROM:
            return int(value * 1000), False
        return int(value * 1_000_000), False
    raise ValueError(f"the time is a {type(value).__name__}, not a timestamp")


def _parse_iso_leniently(value: str) -> datetime:
    """Accepts surrounding blanks and sub-microsecond digits, which fromisoformat refuses."""
    try:
        return datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise ValueError(f"the time {value[:60]!r} is not an ISO 8601 timestamp") from None


def _micros(moment: datetime) -> tuple[int, bool]:
    naive = moment.tzinfo is None
    if naive:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds, naive


def _actor(entry: dict[str, Any]) -> tuple[str, str | None, str | None]:
    raw = _first(entry, _ACTOR)
    kind: str | None = None
    label: str | None = None
    ident: str | None = None
    if type(raw) is dict:
        kind = _text(_first(raw, _ACTOR_TYPE))
        label = _text(_first(raw, _ACTOR_LABEL))
        ident = _text(_first(raw, _ACTOR_ID))
    elif raw is not None:
        label = _text(raw)
    if kind is None:
        kind = _text(_first(entry, FLAT_FIELDS["actor_type"]))
    if label is None:
        label = _text(_first(entry, FLAT_FIELDS["actor_label"]))
    if ident is None:
        ident = _text(_first(entry, FLAT_FIELDS["actor_id"]))
    actor_type = (
        (ACTOR_TYPES.get(kind) or ACTOR_TYPES.get(kind.lower(), ACTOR_TYPE_UNKNOWN))
        if kind
        else None
    )
    if actor_type is None:
        actor_type = ACTOR_TYPE_USER if label and "@" in label else ACTOR_TYPE_UNKNOWN
    if actor_type == ACTOR_TYPE_TOKEN and label is None:
        label = ident
    return actor_type, label, ident


def _project(entry: dict[str, Any]) -> str | None:
    raw = _first(entry, _PROJECT)
    if type(raw) is dict:
        return _text(_first(raw, _PROJECT_SLUG))
    return _text(raw)


def _entity(entry: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    raw = _first(entry, _ENTITY)
    kind = ident = name = None
    if type(raw) is dict:
        kind = _text(_first(raw, _ENTITY_TYPE))
        ident = _text(_first(raw, _ENTITY_ID))
        name = _text(_first(raw, _ENTITY_NAME))
    elif raw is not None:
        name = _text(raw)
    if kind is None:
        kind = _text(_first(entry, FLAT_FIELDS["entity_type"]))
    if ident is None:
        ident = _text(_first(entry, FLAT_FIELDS["entity_id"]))
    if name is None:
        name = _text(_first(entry, FLAT_FIELDS["entity_name"]))
    return kind, ident, name


def _quarantined(key: str, reason: str, entry: dict[str, Any] | None = None) -> Normalized:
    action = _text(_first(entry, _ACTION)) if entry else None
    return Normalized(
        key, None, False, action, ACTOR_TYPE_UNKNOWN, None, None, None, None, None, None, None,
        None, reason,
    )  # fmt: skip


def _type_name(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def normalize(value: Any, duplicate_key: str | None = None) -> Normalized:
    """The normalised columns of one element, or a quarantined record with the reason."""
    if type(value) is not dict:
        return _quarantined("", f"the entry is {_type_name(value)}, not an object")
    key = entry_key_of(_first(value, _ID))
    if duplicate_key is not None:
        return _quarantined(
            key,
            f"the key {duplicate_key!r} appears twice in the entry; "
            "which value is meant cannot be decided",
            value,
        )
    action = _first(value, _ACTION)
    if action is None:
        names = ", ".join(ENTRY_FIELDS["action"])
        return _quarantined(key, f"the entry has no action (looked for {names})")
    if type(action) is not str or not action.strip():
        return _quarantined(key, f"the action {action!r} is not a non-empty string")
    created = _first(value, _CREATED)
    if created is None:
        names = ", ".join(ENTRY_FIELDS["created"])
        return _quarantined(key, f"the entry has no time (looked for {names})", value)
    try:
        micros, naive = parse_time(created)
    except ValueError as exc:
        return _quarantined(key, str(exc), value)
    actor_type, actor_label, actor_id = _actor(value)
    entity_type, entity_id, entity_name = _entity(value)
    return Normalized(
        key,
        micros,
        naive,
        action,
        actor_type,
        actor_label,
        actor_id,
        _project(value),
        entity_type,
        entity_id,
        entity_name,
        _text(_first(value, _IP)),
        _text(_first(value, _USER_AGENT)),
        None,
    )
