"""The search box's query language: text <-> :class:`Filter`.

``action:cohort.* actor:jane@example.com actor-type:token project:smart-sensor entity:release
entity-id:42 after:2024-09-01 before:2024-10-01 -action:release.update "free text" bare words
conflicts:yes quarantined:no unknown:yes anomaly:yes source:3 seq:1042
review:flagged note:"asked Jane" tag:sso reviewed-by:"Ann Lee"``

- ``review:``, ``note:``, ``tag:`` and ``reviewed-by:`` ask about each entry's current review
  mark (its latest in any review): its disposition (unreviewed, ok, flagged, follow-up), a text
  its note contains, one of its tags, who marked it.

- Terms are separated by white space. A repeated key is an alternative (OR); different keys
  and text terms must all hold (AND). ``-`` before a term negates it.
- Values may be quoted (``actor:"Jane Doe"``); inside quotes ``\\"`` is a quote and ``\\\\`` a
  backslash. ``*`` in a value is a wildcard; values match case-insensitively. ``key:*`` means
  "has a value", so ``-project:*`` selects the entries without a project.
- An unquoted value of ``action``, ``actor``, ``project``, ``entity`` or ``entity-id`` holds
  only characters such values hold (``action:(`` is an error, not a search that finds
  nothing); a quoted value is taken literally.
- Quoted phrases and bare words are full-text terms.
- Dates are ``YYYY-MM-DD`` (midnight UTC) or ISO 8601 times (UTC unless an offset is given).
  ``after`` is inclusive, ``before`` exclusive: ``before:2024-10-01`` ends at the last moment
  of 30 September, UTC.

:func:`format_query` writes a filter back so that ``parse_query(format_query(f)) == f``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Final

from auditviewer.core.errors import QueryError
from auditviewer.core.querying.filter import Filter
from auditviewer.core.reading.fieldmap import (
    ACTOR_TYPE_TOKEN,
    ACTOR_TYPE_UNKNOWN,
    ACTOR_TYPE_USER,
    ACTOR_TYPES,
)
from auditviewer.core.store.schema_reviews import DISPOSITIONS
from auditviewer.core.timestamps import MICROS_PER_DAY

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_KEY: Final = re.compile(r"([A-Za-z][A-Za-z_-]*):")
_DIGITS: Final = re.compile(r"[0-9]+")
# The largest whole number SQLite stores, and so the largest seq or source number there can be.
MAX_NUMBER: Final = 2**63 - 1
# The moments a query can name: those :func:`format_moment` can write back.
_FIRST_MOMENT: Final = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z
_LAST_MOMENT: Final = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z

# key -> (field, negated field) for the value lists.
_LIST_KEYS: Final[dict[str, tuple[str, str]]] = {
    "action": ("actions", "not_actions"),
    "actor": ("actors", "not_actors"),
    "actor-type": ("actor_types", "not_actor_types"),
    "project": ("projects", "not_projects"),
    "entity": ("entities", "not_entities"),
    "entity-id": ("entity_ids", "not_entity_ids"),
    "review": ("dispositions", "not_dispositions"),
    "note": ("notes", "not_notes"),
    "tag": ("tags", "not_tags"),
    "reviewed-by": ("reviewers", "not_reviewers"),
}
_DATE_KEYS: Final[dict[str, str]] = {"after": "after", "before": "before"}
_BOOL_KEYS: Final[dict[str, str]] = {
    "conflicts": "conflicts",
    "quarantined": "quarantined",
    "unknown": "unknown_action",
    "anomaly": "anomalies",
}
_INT_KEYS: Final[dict[str, str]] = {"source": "sources", "seq": "seqs"}
# What an unquoted value of a list key may hold, and how the key's values look: the vendor
# names actions ``entity.verb`` in lower case with underscores, projects by slug, entities by
# type; an actor is an e-mail address or a token's label. ``*`` is the wildcard. A quoted value
# is taken literally, for the odd value an export may still hold.
_BARE_VALUES: Final[dict[str, tuple[re.Pattern[str], str]]] = {
    "action": (re.compile(r"[A-Za-z0-9_.*]"), "an action name such as cohort.create"),
    "actor": (re.compile(r'[^\x00-\x1f\x7f"()\[\]{}<>\\]'), "an e-mail address or a token label"),
    "project": (re.compile(r"[A-Za-z0-9_.*-]"), "a project slug such as smart-sensor"),
    "entity": (re.compile(r"[A-Za-z0-9_*]"), "an entity type such as release"),
    "entity-id": (re.compile(r"[A-Za-z0-9_.:*-]"), "an entity id such as 42"),
}
_ALIASES: Final[dict[str, str]] = {
    "actor_type": "actor-type",
    "actortype": "actor-type",
    "conflict": "conflicts",
    "anomalies": "anomaly",
    "unknown-action": "unknown",
    "unknown_action": "unknown",
    "sources": "source",
    "entity_id": "entity-id",
    "entityid": "entity-id",
    "reviewed_by": "reviewed-by",
    "reviewer": "reviewed-by",
    "tags": "tag",
    "notes": "note",
}
KEYS: Final[tuple[str, ...]] = (*_LIST_KEYS, *_DATE_KEYS, *_BOOL_KEYS, *_INT_KEYS)
_YES: Final = frozenset({"yes", "true", "y", "1", "on"})
_NO: Final = frozenset({"no", "false", "n", "0", "off"})
ACTOR_TYPE_VALUES: Final = (ACTOR_TYPE_USER, ACTOR_TYPE_TOKEN, ACTOR_TYPE_UNKNOWN)
_DISPOSITION_ALIASES: Final[dict[str, str]] = {"followup": "follow-up", "none": "unreviewed"}


@dataclass(frozen=True)
class QueryTerm:
    """One kind of term of the language, as the Query Syntax help lists it."""

    term: str
    meaning: str
    example: str


# Every kind of term with an example each; a test parses every example, and the module
# checks that every key is listed, so the help cannot drift from the parser.
QUERY_TERMS: Final[tuple[QueryTerm, ...]] = (
    QueryTerm("action:NAME", "Entries of an action; * is a wildcard", "action:cohort.*"),
    QueryTerm(
        "actor:WHO", "Entries by a user (e-mail) or a token (label)", "actor:jane@example.com"
    ),
    QueryTerm("actor-type:KIND", "Entries by users, tokens or unknown actors", "actor-type:token"),
    QueryTerm("project:SLUG", "Entries of a project", "project:smart-sensor"),
    QueryTerm("entity:TYPE", "Entries about a kind of entity", "entity:release"),
    QueryTerm(
        "entity-id:ID", "Entries about one entity (with entity:)", "entity:release entity-id:42"
    ),
    QueryTerm("after:DATE", "From this UTC day or moment on (included)", "after:2024-09-01"),
    QueryTerm(
        "before:DATE",
        "Up to this UTC day or moment (not included)",
        "after:2024-09-01 before:2024-10-01",
    ),
    QueryTerm(
        "conflicts:yes|no", "Entries stored in two differing versions (or not)", "conflicts:yes"
    ),
    QueryTerm("quarantined:yes|no", "Entries that could not be understood", "quarantined:yes"),
    QueryTerm("unknown:yes|no", "Entries whose action the reference does not list", "unknown:yes"),
    QueryTerm(
        "anomaly:yes|no", "Entries logged before their action's reference date", "anomaly:yes"
    ),
    QueryTerm("source:N", "Entries of one import (its number)", "source:3"),
    QueryTerm("seq:N", "One entry by its number in the store", "seq:1042"),
    QueryTerm(
        "review:DISPOSITION",
        "Entries by their review mark: unreviewed, ok, flagged, follow-up",
        "review:flagged",
    ),
    QueryTerm("note:TEXT", "Entries whose review note holds the text", 'note:"asked Jane"'),
    QueryTerm("tag:NAME", "Entries with a review tag; * is a wildcard", "tag:after-hours"),
    QueryTerm("reviewed-by:NAME", "Entries last marked by a reviewer", 'reviewed-by:"Ann Lee"'),
    QueryTerm("word", "Entries whose text holds the word", "uploader"),
    QueryTerm('"phrase"', "Entries whose text holds the phrase", '"CI uploader"'),
    QueryTerm("key:*", "Entries with any value for the key", "project:*"),
    QueryTerm("-term", "Excludes what the term matches", "-action:release.update"),
    QueryTerm(
        "key:A key:B",
        "A repeated key is an alternative (OR)",
        "actor:jane@example.com actor:omar@example.com",
    ),
    QueryTerm('key:"value"', "A quoted value is taken literally", 'actor:"Jane Doe"'),
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.lists: dict[str, list[object]] = {}
        self.singles: dict[str, object] = {}

    def fail(self, position: int, reason: str) -> QueryError:
        return QueryError(self.text, position, reason)

    def parse(self) -> Filter:
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                break
            self.term()
        values: dict[str, object] = {name: tuple(items) for name, items in self.lists.items()}
        values.update(self.singles)
        return Filter(**values)  # type: ignore[arg-type]

    def term(self) -> None:
        text = self.text
        start = self.pos
        negated = text[start] == "-"
        if negated:
            self.pos += 1
            if self.pos >= len(text) or text[self.pos].isspace():
                raise self.fail(start, "'-' must be followed by a key, a word or a phrase")
        if text[self.pos] == '"':
            phrase = self.quoted()
            self.add_list("not_text" if negated else "text", phrase)
            return
        key_match = _KEY.match(text, self.pos)
        if key_match is None:
            word = self.bare()
            self.add_list("not_text" if negated else "text", word)
            return
        key_pos = self.pos
        key = key_match.group(1).lower()
        key = _ALIASES.get(key, key)
        if key not in KEYS:
            raise self.fail(
                key_pos,
                f"unknown key {_excerpt(key_match.group(1))} (keys: {', '.join(KEYS)}; "
                "put text with a colon in quotes)",
            )
        self.pos = key_match.end()
        value_pos = self.pos
        quoted = self.pos < len(text) and text[self.pos] == '"'
        value = self.value()
        if not value:
            raise self.fail(value_pos, f"{key}: needs a value")
        if not quoted:
            self.check_bare(key, value, value_pos)
        self.keyed(key, value, negated, key_pos, value_pos)

    def keyed(self, key: str, value: str, negated: bool, key_pos: int, value_pos: int) -> None:
        if key in _LIST_KEYS:
            positive, negative = _LIST_KEYS[key]
            if key == "actor-type":
                value = self.actor_type(value, value_pos)
            elif key == "review":
                value = self.disposition(value, value_pos)
            self.add_list(negative if negated else positive, value)
        elif key in _DATE_KEYS:
            if negated:
                raise self.fail(key_pos - 1, f"{key}: cannot be negated")
            self.set_single(_DATE_KEYS[key], parse_moment(value, self.text, value_pos), key_pos)
        elif key in _BOOL_KEYS:
            lowered = value.lower()
            if lowered not in _YES | _NO:
                raise self.fail(value_pos, f"{key}: expects yes or no, not {_excerpt(value)}")
            self.set_single(_BOOL_KEYS[key], (lowered in _YES) != negated, key_pos)
        else:
            if negated:
                raise self.fail(key_pos - 1, f"{key}: cannot be negated")
            self.add_list(_INT_KEYS[key], self.number(key, value, value_pos))

    def check_bare(self, key: str, value: str, position: int) -> None:
        """Refuses an unquoted value holding a character the key's values never hold."""
        if key not in _BARE_VALUES:
            return
        allowed, looks_like = _BARE_VALUES[key]
        for offset, char in enumerate(value):
            if not allowed.fullmatch(char):
                raise self.fail(
                    position + offset,
                    f"{key}: {_excerpt(char)} cannot be part of {looks_like} "
                    "(quote the value to search for it literally)",
                )

    def number(self, key: str, value: str, position: int) -> int:
        if not _DIGITS.fullmatch(value):
            raise self.fail(position, f"{key}: expects a number, not {_excerpt(value)}")
        digits = value.lstrip("0")
        # Checked before int(): Python refuses to convert more than 4300 digits.
        if not digits or len(digits) > len(str(MAX_NUMBER)) or int(digits) > MAX_NUMBER:
            raise self.fail(position, f"{key} must be a whole number between 1 and {MAX_NUMBER}")
        return int(digits)

    def actor_type(self, value: str, position: int) -> str:
        lowered = value.lower()
        kind = ACTOR_TYPE_UNKNOWN if lowered == ACTOR_TYPE_UNKNOWN else ACTOR_TYPES.get(lowered)
        if kind is None:
            raise self.fail(
                position,
                f"actor-type: expects {', '.join(ACTOR_TYPE_VALUES)}, not {_excerpt(value)}",
            )
        return kind

    def disposition(self, value: str, position: int) -> str:
        lowered = value.lower().replace("_", "-")
        lowered = _DISPOSITION_ALIASES.get(lowered, lowered)
        if lowered not in DISPOSITIONS:
            raise self.fail(
                position, f"review: expects {', '.join(DISPOSITIONS)}, not {_excerpt(value)}"
            )
        return lowered

    def add_list(self, name: str, value: object) -> None:
        self.lists.setdefault(name, []).append(value)

    def set_single(self, name: str, value: object, position: int) -> None:
        if name in self.singles:
            raise self.fail(position, "this key can be given only once")
        self.singles[name] = value

    def value(self) -> str:
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return self.quoted()
        return self.bare()

    def bare(self) -> str:
        text = self.text
        start = self.pos
        while self.pos < len(text) and not text[self.pos].isspace():
            self.pos += 1
        return text[start : self.pos]

    def quoted(self) -> str:
        text = self.text
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in '"\\':
                chars.append(text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                if self.pos < len(text) and not text[self.pos].isspace():
                    raise self.fail(self.pos, "expected a space after the closing quote")
                if not chars:
                    raise self.fail(start, "empty quotes")
                return "".join(chars)
            chars.append(ch)
            self.pos += 1
        raise self.fail(start, "unterminated quote")


def parse_moment(value: str, query: str = "", position: int = 0) -> int:
    """UTC microseconds of a date (midnight UTC) or an ISO 8601 time (UTC unless offset)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(
            query or value, position, f"not a date or time: {_excerpt(value)} (use YYYY-MM-DD)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not _FIRST_MOMENT <= micros <= _LAST_MOMENT:
        raise QueryError(
            query or value,
            position,
            f"{_excerpt(value)} is outside the years 1 to 9999 (UTC) that a query can name",
        )
    return micros


def _excerpt(value: str) -> str:
    """``value`` quoted for a message, shortened when long."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"


def format_moment(micros: int) -> str:
    """``YYYY-MM-DD`` for midnight UTC, else an ISO 8601 UTC time ending in ``Z``."""
    try:
        moment = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError(f"{micros} is outside the dates a query can express") from None
    if micros % MICROS_PER_DAY == 0:
        return date(moment.year, moment.month, moment.day).isoformat()
    return moment.replace(tzinfo=None).isoformat() + "Z"


def parse_query(text: str) -> Filter:
    """The filter a query string means; raises :class:`QueryError` pointing at a bad token."""
    return _Parser(text).parse()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_value(key: str, value: str) -> str:
    if not value:
        raise ValueError("a filter value cannot be empty")
    pattern = _BARE_VALUES[key][0] if key in _BARE_VALUES else None
    if (
        value[0] == '"'
        or '"' in value
        or "\\" in value
        or any(ch.isspace() for ch in value)
        or (pattern is not None and not all(pattern.fullmatch(ch) for ch in value))
    ):
        return _quote(value)
    return value


def _format_text(phrase: str) -> str:
    if not phrase:
        raise ValueError("a text term cannot be empty")
    plain = (
        phrase[0] not in '-"'
        and ":" not in phrase
        and '"' not in phrase
        and "\\" not in phrase
        and not any(ch.isspace() for ch in phrase)
    )
    return phrase if plain else _quote(phrase)


def format_query(flt: Filter) -> str:
    """The query string for a filter (raises ValueError for a value it cannot express)."""
    terms: list[str] = []
    for key, (positive, negative) in _LIST_KEYS.items():
        for name, prefix in ((positive, ""), (negative, "-")):
            values: tuple[str, ...] = getattr(flt, name)
            for value in values:
                if key == "actor-type" and value not in ACTOR_TYPE_VALUES:
                    raise ValueError(f"unknown actor type {value!r}")
                if key == "review" and value not in DISPOSITIONS:
                    raise ValueError(f"unknown review disposition {value!r}")
                terms.append(f"{prefix}{key}:{_format_value(key, value)}")
    for key, name in _DATE_KEYS.items():
        moment: int | None = getattr(flt, name)
        if moment is not None:
            terms.append(f"{key}:{format_moment(moment)}")
    terms.extend(_format_text(phrase) for phrase in flt.text)
    terms.extend("-" + _format_text(phrase) for phrase in flt.not_text)
    for key, name in _BOOL_KEYS.items():
        flag: bool | None = getattr(flt, name)
        if flag is not None:
            terms.append(f"{key}:{'yes' if flag else 'no'}")
    for key, name in _INT_KEYS.items():
        numbers: tuple[int, ...] = getattr(flt, name)
        for number in numbers:
            if number < 0:
                raise ValueError(f"{key}: cannot express {number}")
            terms.append(f"{key}:{number}")
    return " ".join(terms)


def _check_keys_cover_filter() -> None:
    covered = {name for pair in _LIST_KEYS.values() for name in pair}
    covered |= {*_DATE_KEYS.values(), *_BOOL_KEYS.values(), *_INT_KEYS.values()}
    covered |= {"text", "not_text"}
    missing = {f.name for f in fields(Filter)} - covered
    assert not missing, f"query language misses filter fields {missing}"


_check_keys_cover_filter()


def _check_terms_cover_keys() -> None:
    listed = {item.term.partition(":")[0] for item in QUERY_TERMS}
    missing = set(KEYS) - listed
    assert not missing, f"the query syntax help misses keys {missing}"


_check_terms_cover_keys()
