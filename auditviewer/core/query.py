"""The filter object, the sort order, and their translation into parameterised SQL.

Values reach SQL only as parameters; column names and expressions come from the fixed tables of
this module. Matching is exact and case-sensitive, as the values are stored (slugs, emails,
action names); ``*`` in a value is a wildcard for any run of characters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cache
from typing import Final

from auditviewer.core import fulltext
from auditviewer.core.reference import ActionReference

# Flag bits of the ``flags`` sort column, most serious first.
FLAG_QUARANTINED: Final = 16
FLAG_CONFLICT: Final = 8
FLAG_UNKNOWN_ACTION: Final = 4
FLAG_ANOMALY: Final = 2
FLAG_NAIVE_TIME: Final = 1


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries to show. Every field defaults to "no constraint".

    Within a field the values are alternatives (OR); across fields all must hold (AND).
    ``after`` is inclusive and ``before`` exclusive, both UTC microseconds. The ``bool | None``
    fields select entries with (True) or without (False) the property.
    """

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    not_actors: tuple[str, ...] = ()
    actor_types: tuple[str, ...] = ()
    not_actor_types: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    not_projects: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    not_entities: tuple[str, ...] = ()
    after: int | None = None
    before: int | None = None
    text: tuple[str, ...] = ()
    not_text: tuple[str, ...] = ()
    conflicts: bool | None = None
    quarantined: bool | None = None
    unknown_action: bool | None = None
    anomalies: bool | None = None
    sources: tuple[int, ...] = ()
    seqs: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the filter lets every entry through."""
        return self == _EMPTY_FILTER


_EMPTY_FILTER: Final = Filter()

# Sort column -> the SQL it orders by ("flags" is computed, see :func:`flags_sql`).
SORT_COLUMNS: Final[dict[str, str]] = {
    "time": "created_utc",
    "action": "action",
    "actor": "actor_label",
    "actor_type": "actor_type",
    "project": "project",
    "entity": "entity_type",
    "ip": "ip",
    "user_agent": "user_agent",
    "seq": "seq",
    "flags": "",
}


@dataclass(frozen=True, slots=True)
class Sort:
    """A sort order: one of :data:`SORT_COLUMNS`, either direction.

    Rows with no value in the column come last in both directions; ties are ordered by time,
    then by seq, in the same direction as the column.
    """

    column: str = "time"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            known = ", ".join(SORT_COLUMNS)
            raise ValueError(f"cannot sort by {self.column!r}; columns: {known}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """Freezes a query's result set: entries up to ``max_seq``, conflicts up to ``max_source``.

    The store is append-only, so these two numbers pin down what a query saw when it started.
    """

    max_seq: int | None = None
    max_source: int | None = None


@dataclass(frozen=True, slots=True)
class Where:
    """A WHERE clause over ``entries AS e`` and its parameters."""

    sql: str
    params: tuple[object, ...]


@cache
def _reference() -> ActionReference:
    return ActionReference.load()


def reference() -> ActionReference:
    """The action reference the query layer judges unknown actions and anomalies by."""
    return _reference()


def glob_pattern(value: str) -> str:
    """A GLOB pattern for a value where ``*`` is the only wildcard (``?`` and ``[`` literal)."""
    return "".join({"?": "[?]", "[": "[[]"}.get(ch, ch) for ch in value)


def like_pattern(value: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) for a value where ``*`` is the only wildcard."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _match(columns: tuple[str, ...], values: tuple[str, ...]) -> tuple[str, list[object]]:
    """True when any of ``columns`` matches any of ``values`` (exact, or GLOB with ``*``)."""
    exact = [v for v in values if "*" not in v]
    patterns = [v for v in values if "*" in v]
    parts: list[str] = []
    params: list[object] = []
    for column in columns:
        if len(exact) == 1:
            parts.append(f"e.{column} = ?")
            params.append(exact[0])
        elif exact:
            parts.append(f"e.{column} IN ({', '.join('?' for _ in exact)})")
            params.extend(exact)
        for pattern in patterns:
            group = pattern[:-2]
            if column == "action" and pattern.endswith(".*") and not set("*.") & set(group):
                # "release.*" is exactly one entity group (see normalize): its
                # (action_group, created_utc) index yields the rows in time order and counts
                # them without reading a row, where GLOB on action would sort them all.
                parts.append("e.action_group = ?")
                params.append(group)
                continue
            parts.append(f"e.{column} GLOB ?")
            params.append(glob_pattern(pattern))
    return "(" + " OR ".join(parts) + ")", params


def _actor_match(values: tuple[str, ...]) -> tuple[str, list[object]]:
    # An email is a label, never an id: leaving actor_id out keeps the indexed lookup.
    emails = tuple(v for v in values if "@" in v)
    others = tuple(v for v in values if "@" not in v)
    parts: list[str] = []
    params: list[object] = []
    if emails:
        sql, extra = _match(("actor_label",), emails)
        parts.append(sql)
        params.extend(extra)
    if others:
        sql, extra = _match(("actor_label", "actor_id"), others)
        parts.append(sql)
        params.extend(extra)
    return "(" + " OR ".join(parts) + ")", params


def _conflict_sql(bounds: Bounds) -> tuple[str, list[object]]:
    if bounds.max_source is None:
        return "e.entry_key IN (SELECT entry_key FROM conflict_keys)", []
    return (
        "e.entry_key IN (SELECT entry_key FROM conflict_keys WHERE first_source_id <= ?)",
        [bounds.max_source],
    )


def _unknown_action_sql() -> tuple[str, list[object]]:
    known = reference().actions
    return (
        f"(e.action IS NOT NULL AND e.action NOT IN ({', '.join('?' for _ in known)}))",
        list(known),
    )


def _anomaly_sql() -> tuple[str, list[object]]:
    """Entries created before their action's first "logged since" date.

    One ``action IN (...) AND created_utc < ?`` term per distinct date, so each term can use
    the ``(action, created_utc)`` index.
    """
    ref = reference()
    by_date: dict[int, list[str]] = {}
    for action in ref.actions:
        since = ref.first_logged_micros(action)
        if since is not None:
            by_date.setdefault(since, []).append(action)
    if not by_date:
        return "0", []
    parts: list[str] = []
    params: list[object] = []
    for since, actions in sorted(by_date.items()):
        parts.append(f"(e.action IN ({', '.join('?' for _ in actions)}) AND e.created_utc < ?)")
        params.extend(actions)
        params.append(since)
    return "(" + " OR ".join(parts) + ")", params


def flags_sql(bounds: Bounds | None = None) -> tuple[str, list[object]]:
    """SQL for an entry's flag bits (see the ``FLAG_*`` constants), for sorting by "flags"."""
    conflict, conflict_params = _conflict_sql(bounds or Bounds())
    unknown, unknown_params = _unknown_action_sql()
    anomaly, anomaly_params = _anomaly_sql()
    sql = (
        f"((e.quarantine_reason IS NOT NULL) * {FLAG_QUARANTINED} "
        f"+ ({conflict}) * {FLAG_CONFLICT} "
        f"+ coalesce({unknown}, 0) * {FLAG_UNKNOWN_ACTION} "
        f"+ coalesce({anomaly}, 0) * {FLAG_ANOMALY} "
        f"+ (e.time_naive != 0) * {FLAG_NAIVE_TIME})"
    )
    return sql, conflict_params + unknown_params + anomaly_params


def _flag(sql: str, params: list[object], wanted: bool) -> tuple[str, list[object]]:
    return (sql if wanted else f"CASE WHEN {sql} THEN 0 ELSE 1 END"), params


def where_clause(
    flt: Filter,
    *,
    indexed_seq: int = 0,
    bounds: Bounds | None = None,
    sparse_text: frozenset[str] = frozenset(),
) -> Where:
    """The WHERE clause (over ``entries AS e``) that selects what ``flt`` lets through.

    ``indexed_seq`` is how far the full-text index reaches (:func:`fulltext.indexed_upto`);
    text terms need a connection prepared with :func:`fulltext.prepare_connection`.
    """
    bounds = bounds or Bounds()
    terms: list[str] = []
    params: list[object] = []

    def add(sql: str, extra: list[object], negate: bool = False) -> None:
        terms.append(f"CASE WHEN {sql} THEN 0 ELSE 1 END" if negate else sql)
        params.extend(extra)

    for values, negative, columns in (
        (flt.actions, flt.not_actions, ("action",)),
        (flt.actor_types, flt.not_actor_types, ("actor_type",)),
        (flt.projects, flt.not_projects, ("project",)),
        (flt.entities, flt.not_entities, ("entity_type",)),
    ):
        if values:
            add(*_match(columns, values))
        if negative:
            add(*_match(columns, negative), negate=True)
    if flt.actors:
        add(*_actor_match(flt.actors))
    if flt.not_actors:
        add(*_actor_match(flt.not_actors), negate=True)
    if flt.after is not None:
        add("e.created_utc >= ?", [flt.after])
    if flt.before is not None:
        add("e.created_utc < ?", [flt.before])
    for phrase in flt.text:
        add(*fulltext.text_predicate(phrase, indexed_seq, sparse=phrase in sparse_text))
    for phrase in flt.not_text:
        add(*fulltext.text_predicate(phrase, indexed_seq), negate=True)
    if flt.conflicts is not None:
        add(*_flag(*_conflict_sql(bounds), flt.conflicts))
    if flt.quarantined is not None:
        add(
            "e.quarantine_reason IS NOT NULL" if flt.quarantined else "e.quarantine_reason IS NULL",
            [],
        )
    if flt.unknown_action is not None:
        add(*_flag(*_unknown_action_sql(), flt.unknown_action))
    if flt.anomalies is not None:
        add(*_flag(*_anomaly_sql(), flt.anomalies))
    if flt.sources:
        add(f"e.source_id IN ({', '.join('?' for _ in flt.sources)})", list(flt.sources))
    if flt.seqs:
        add("e.seq IN (SELECT value FROM json_each(?))", [json.dumps(list(flt.seqs))])
    if bounds.max_seq is not None:
        add("e.seq <= ?", [bounds.max_seq])
    return Where(" AND ".join(terms) if terms else "1", tuple(params))


@dataclass(frozen=True, slots=True)
class Order:
    """How to order rows for a :class:`Sort`.

    ``sql`` is ``primary, created_utc, seq`` in the sort's direction, which the
    ``(column, created_utc)`` indexes deliver without sorting. When ``nullable``, callers put
    the rows whose ``primary`` is NULL last by selecting them separately (NULLs sort first in
    SQLite, and ``NULLS LAST`` would defeat the index).
    """

    primary: str
    params: tuple[object, ...]
    sql: str
    nullable: bool


_NOT_NULL_SORTS: Final = frozenset({"seq", "flags", "actor_type"})


def order_for(sort: Sort, bounds: Bounds | None = None) -> Order:
    """The :class:`Order` of a sort; ``params`` belong to each use of ``primary`` or ``sql``."""
    direction = " DESC" if sort.descending else ""
    params: tuple[object, ...] = ()
    if sort.column == "flags":
        primary, flag_params = flags_sql(bounds)
        params = tuple(flag_params)
    else:
        primary = f"e.{SORT_COLUMNS[sort.column]}"
    if sort.column == "seq":
        sql = f"e.seq{direction}"
    elif sort.column == "time":
        sql = f"e.created_utc{direction}, e.seq{direction}"
    else:
        sql = f"{primary}{direction}, e.created_utc{direction}, e.seq{direction}"
    return Order(primary, params, sql, sort.column not in _NOT_NULL_SORTS)


def filter_fields() -> tuple[str, ...]:
    """The names of :class:`Filter`'s fields, in declaration order."""
    return tuple(f.name for f in fields(Filter))
