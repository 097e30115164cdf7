"""The one vocabulary of the store's columns: the flags an entry can carry and the dimensions
the query language, the facets, the sort orders, the CSV export, the CLI and the window share.

Every other module reads names, bits and sentences from here instead of spelling them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FlagDef:
    """Something about an entry worth a second look.

    ``bit`` is its bit in the sort key of the "flags" column (a higher bit sorts as more
    serious); ``key`` is its name in exports and ``short`` its name in the table.
    """

    key: str
    bit: int
    short: str
    sentence: str


# Most serious first: the order of the flags wherever several are listed.
FLAGS: Final[tuple[FlagDef, ...]] = (
    FlagDef(
        "quarantined",
        32,
        "quarantined",
        "Quarantined: the entry could not be understood and is kept with its raw text",
    ),
    FlagDef(
        "conflict",
        16,
        "conflict",
        "Conflict: another entry with the same id and different content is also stored; "
        "both versions are kept.",
    ),
    FlagDef(
        "unknown-action",
        8,
        "unknown action",
        "Unknown action: the action is not in the action reference (deprecated or new).",
    ),
    FlagDef(
        "anomaly",
        4,
        "before reference",
        "Logged before reference date: the entry is older than the date since which the "
        "reference says its action is logged.",
    ),
    FlagDef(
        "past-retention",
        2,
        "past retention",
        "Past retention: the service keeps entries one year; this one now exists only in "
        "local archives.",
    ),
    FlagDef(
        "naive-time",
        1,
        "no offset",
        "No time zone: the source gave the time without an offset; it was read as UTC.",
    ),
)
FLAG_BY_KEY: Final[dict[str, FlagDef]] = {flag.key: flag for flag in FLAGS}
QUARANTINED: Final = FLAG_BY_KEY["quarantined"]
CONFLICT: Final = FLAG_BY_KEY["conflict"]
UNKNOWN_ACTION: Final = FLAG_BY_KEY["unknown-action"]
ANOMALY: Final = FLAG_BY_KEY["anomaly"]
PAST_RETENTION: Final = FLAG_BY_KEY["past-retention"]
NAIVE_TIME: Final = FLAG_BY_KEY["naive-time"]


def flags_of(bits: int) -> tuple[FlagDef, ...]:
    """The flags set in ``bits``, most serious first."""
    return tuple(flag for flag in FLAGS if bits & flag.bit)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One dictionary-encoded column of the entries.

    ``name`` is the dimension's name in the ``terms`` table and the column cache; ``column``
    the narrow ``entries`` column holding its term ids; ``query_key`` its query-language key
    (None: not filterable on its own); ``facet`` whether the window counts its values;
    ``sort`` the sort column it orders (None: not a sort); ``title`` its name for people.
    """

    name: str
    column: str
    query_key: str | None
    facet: bool
    sort: str | None
    title: str


DIMENSIONS: Final[tuple[Dimension, ...]] = (
    Dimension("action", "action_term", "action", True, "action", "Action"),
    Dimension("actor", "actor_term", "actor", True, "actor", "Actor"),
    Dimension("actor_key", "actor_key_term", None, False, None, "Actor id"),
    Dimension("actor_type", "actor_type_term", "actor-type", True, "actor_type", "Actor type"),
    Dimension("project", "project_term", "project", True, "project", "Project"),
    Dimension("entity_type", "entity_type_term", "entity", True, "entity", "Entity type"),
    Dimension("entity_key", "entity_key_term", "entity-id", False, None, "Entity id"),
    Dimension("ip", "ip_term", None, False, "ip", "IP address"),
    Dimension("user_agent", "user_agent_term", None, False, "user_agent", "User agent"),
)
DIMENSION_BY_NAME: Final[dict[str, Dimension]] = {d.name: d for d in DIMENSIONS}

# Facet name (as the aggregates and the window call it) -> dimension.
FACETS: Final[dict[str, Dimension]] = {
    "action": DIMENSION_BY_NAME["action"],
    "actor": DIMENSION_BY_NAME["actor"],
    "project": DIMENSION_BY_NAME["project"],
    "entity": DIMENSION_BY_NAME["entity_type"],
    "actor_type": DIMENSION_BY_NAME["actor_type"],
}

# Every sort column, in the order the CLI lists them. "time", "seq" and "flags" are not
# dimensions: they are the entries' own columns; "review" is each entry's current mark.
SORT_COLUMNS: Final[tuple[str, ...]] = (
    "time",
    "action",
    "actor",
    "actor_type",
    "project",
    "entity",
    "ip",
    "user_agent",
    "seq",
    "flags",
    "review",
)
SORT_DIMENSIONS: Final[dict[str, Dimension]] = {d.sort: d for d in DIMENSIONS if d.sort}

# The entry table's columns by key, in their first order: what a saved view may show.
TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "time",
    "action",
    "actor",
    "project",
    "entity",
    "ip",
    "flags",
    "review",
)
