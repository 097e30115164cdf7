"""Schema step 2: the narrow, dictionary-encoded entry table.

Version 1 kept every entry in one wide row (original text, three hashes, ten text columns with
ten indexes). Version 2 splits it:

- ``entries``: per entry only integers — seq, created time, a flags bit set computed at import
  (see :mod:`auditviewer.core.vocabulary`), the source, and one term id per dimension;
- ``terms``: the dictionary, ``(dimension, id) -> value``;
- ``entry_texts``: the original text, its hashes and chain, the position in its source and the
  rarely read fields, keyed by seq; ``entry_key`` indexed for deduplication;
- ``column_blocks``: the narrow columns again as per-transaction blobs, for the column cache;
- ``entry_view``: the wide row as v1 had it, joined back together, for people reading the
  store with SQL.

The step moves a v1 store's entries over in place, inside the migration's transaction: every
seq, text, hash, chain link, provenance and conflict record is kept.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from auditviewer.core.reference import ActionReference
from auditviewer.core.store.column_blocks import build_blocks
from auditviewer.core.vocabulary import (
    CONFLICT,
    DIMENSIONS,
    NAIVE_TIME,
    QUARANTINED,
)

_REFUSE = "SELECT RAISE(ABORT, '{table} are append-only: {verb} refused')"

# v1 column of each dimension.
_V1_COLUMNS: Final[dict[str, str]] = {
    "action": "action",
    "actor": "actor_label",
    "actor_key": "actor_id",
    "actor_type": "actor_type",
    "project": "project",
    "entity_type": "entity_type",
    "entity_key": "entity_id",
    "ip": "ip",
    "user_agent": "user_agent",
}


def _append_only(table: str, label: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_refuse_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN {_REFUSE.format(table=label, verb=verb)}; END"
        for verb in ("update", "delete")
    )


_TERM_COLUMNS: Final = ",\n        ".join(f"{d.column} INTEGER" for d in DIMENSIONS)

TABLES: Final[tuple[str, ...]] = (
    """
    CREATE TABLE terms (
        dimension TEXT NOT NULL,
        id INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (dimension, id),
        UNIQUE (dimension, value)
    ) WITHOUT ROWID
    """,
    f"""
    CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        created_utc INTEGER,
        flags INTEGER NOT NULL,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        {_TERM_COLUMNS}
    )
    """,
    """
    CREATE TABLE entry_texts (
        seq INTEGER PRIMARY KEY,
        entry_key TEXT NOT NULL,
        source_index INTEGER NOT NULL,
        source_line INTEGER,
        raw_sha256 BLOB NOT NULL,
        content_sha256 BLOB NOT NULL,
        chain_sha256 BLOB NOT NULL,
        entity_name TEXT,
        quarantine_reason TEXT,
        raw TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE column_blocks (
        first_seq INTEGER PRIMARY KEY,
        count INTEGER NOT NULL,
        data BLOB NOT NULL
    )
    """,
    *_append_only("terms", "terms"),
    *_append_only("entries", "entries"),
    *_append_only("entry_texts", "entry texts"),
    *_append_only("column_blocks", "column blocks"),
)
INDEXES: Final[tuple[str, ...]] = ("CREATE INDEX entry_texts_key ON entry_texts (entry_key)",)

_VIEW_TERMS: Final = "\n    ".join(
    f"LEFT JOIN terms AS t_{d.name} ON t_{d.name}.dimension = '{d.name}' "
    f"AND t_{d.name}.id = e.{d.column}"
    for d in DIMENSIONS
)
VIEW: Final = f"""
    CREATE VIEW entry_view AS SELECT
        e.seq, x.entry_key, e.created_utc, (e.flags & {NAIVE_TIME.bit}) != 0 AS time_naive,
        t_action.value AS action, t_actor_type.value AS actor_type,
        t_actor.value AS actor_label, t_actor_key.value AS actor_id, t_project.value AS project,
        t_entity_type.value AS entity_type, t_entity_key.value AS entity_id, x.entity_name,
        t_ip.value AS ip, t_user_agent.value AS user_agent, x.quarantine_reason,
        e.flags, e.source_id, x.source_index, x.source_line,
        x.raw, x.raw_sha256, x.content_sha256, x.chain_sha256
    FROM entries AS e JOIN entry_texts AS x ON x.seq = e.seq
    {_VIEW_TERMS}
"""  # noqa: S608 (constant names)


def upgrade_to_v2(connection: sqlite3.Connection) -> None:
    """Moves a v1 store (possibly empty) to the v2 tables, inside the caller's transaction."""
    for name in (
        "entries_refuse_update",
        "entries_refuse_delete",
    ):
        connection.execute(f"DROP TRIGGER IF EXISTS {name}")
    connection.execute("ALTER TABLE entries RENAME TO entries_v1")
    for statement in TABLES:
        connection.execute(statement)
    for dimension in DIMENSIONS:
        column = _V1_COLUMNS[dimension.name]
        connection.execute(
            "INSERT INTO terms (dimension, id, value) "  # noqa: S608 (constant names)
            f"SELECT ?, row_number() OVER (ORDER BY v), v FROM "
            f"(SELECT DISTINCT {column} AS v FROM entries_v1 WHERE {column} IS NOT NULL)",
            (dimension.name,),
        )
    connection.create_function(
        "av_reference_flags", 2, ActionReference.shared().flag_bits, deterministic=True
    )
    term_ids = ",\n            ".join(
        f"(SELECT id FROM terms WHERE dimension = '{d.name}' "  # noqa: S608 (constant names)
        f"AND value = o.{_V1_COLUMNS[d.name]})"
        for d in DIMENSIONS
    )
    term_columns = ", ".join(d.column for d in DIMENSIONS)
    connection.execute(
        f"""
        INSERT INTO entries (seq, created_utc, flags, source_id, {term_columns})
        SELECT o.seq, o.created_utc,
            (o.quarantine_reason IS NOT NULL) * {QUARANTINED.bit}
            + (o.time_naive != 0) * {NAIVE_TIME.bit}
            + (o.entry_key IN (SELECT entry_key FROM conflict_keys)
               AND o.seq > (SELECT min(f.seq) FROM entries_v1 AS f
                            WHERE f.entry_key = o.entry_key)) * {CONFLICT.bit}
            + av_reference_flags(o.action, o.created_utc),
            o.source_id,
            {term_ids}
        FROM entries_v1 AS o ORDER BY o.seq
        """  # noqa: S608 (constant names)
    )
    connection.execute(
        """
        INSERT INTO entry_texts (seq, entry_key, source_index, source_line, raw_sha256,
            content_sha256, chain_sha256, entity_name, quarantine_reason, raw)
        SELECT seq, entry_key, source_index, source_line, raw_sha256, content_sha256,
            chain_sha256, entity_name, quarantine_reason, raw
        FROM entries_v1 ORDER BY seq
        """
    )
    connection.execute("DROP TABLE entries_v1")
    for statement in INDEXES:
        connection.execute(statement)
    connection.execute(VIEW)
    build_blocks(connection)
