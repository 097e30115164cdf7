"""SQLite's own checks of a store file, what they found in words, and the rebuild of indexes.

``PRAGMA quick_check`` reads every page of the file and checks the structure of every table
and index (cells, page links, free pages, NOT NULL and CHECK constraints); ``PRAGMA
integrity_check`` also compares every index with its table, row by row, which takes much
longer. Each line SQLite reports is turned into a :class:`Finding` that names the table or
index it concerns and says whether the app can repair it:

- indexes (``entry_texts_key``, the ``terms`` lookup, and the full-text index ``entries_fts``)
  are derived data: they are rebuilt from the tables (:func:`rebuild_indexes`);
- damage to a table or to the file itself cannot be repaired here: the entries' hashes tell
  which entries are intact, and a backup copy of the store is the remedy.

The full-text index is contentless (it keeps no copy of the texts), so its own check —
``INSERT INTO entries_fts(entries_fts) VALUES('integrity-check')`` — covers its internal
structure only: every segment and page of the index readable and consistent. Whether it
indexes each entry's words correctly is not checked. FTS5's ``rebuild`` command is not
available for a contentless table; the repair empties the index (``delete-all``) and indexes
every entry's text again.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from auditviewer.core.records import CancelToken
from auditviewer.core.store.text_index import set_indexed_upto

FTS_TABLE: Final = "entries_fts"
# How many problems SQLite lists before it stops (its own default is 100).
MAX_SQLITE_FINDINGS: Final = 100
# SQLite calls the cancel check every this many virtual-machine steps.
CANCEL_CHECK_STEPS: Final = 100_000
DIGEST_ROWS: Final = 65536

REBUILD_ADVICE: Final = (
    "indexes are derived data; rebuild them with `auditviewer verify --rebuild-indexes`"
)
CUSTODY_ADVICE: Final = (
    "the entries the store holds are intact (every text matches its SHA-256 and the hash chain "
    "holds); what was found concerns entries no longer there or the custody log itself; compare "
    "the store with a backup copy or the original export files, and import what is missing"
)
DAMAGE_ADVICE: Final = (
    "the store itself is damaged and auditviewer cannot repair it; the entries' hashes decide "
    "which entries are intact; restore the store from a backup copy, or import the original "
    "export files into a new store"
)

_INDEX_LINE = re.compile(
    r"^(?:row (?P<row>\d+) missing from|wrong # of entries in|non-unique entry in) "
    r"index (?P<name>\S+)$"
)
_COLUMN_LINE = re.compile(r"^NULL value in (?P<table>\w+)\.(?P<column>\w+)$")
_TREE_LINE = re.compile(r"^On tree page (?P<page>\d+) cell (?P<cell>\d+): (?P<what>.*)$")
_PAGE_NUMBER = re.compile(r"[Pp]age (?P<page>\d+)")


class Part(Enum):
    """What a finding concerns, which decides whether the app can repair it."""

    INDEX = "index"
    TEXT_INDEX = "text index"
    TABLE = "table"
    FILE = "file"

    @property
    def repairable(self) -> bool:
        """Whether rebuilding the indexes repairs damage to this part."""
        return self in (Part.INDEX, Part.TEXT_INDEX)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a check found, as a sentence that names the table or index it concerns."""

    part: Part
    name: str
    detail: str

    def __str__(self) -> str:
        subject = {
            Part.INDEX: f"index {self.name}",
            Part.TEXT_INDEX: f"full-text index {self.name}",
            Part.TABLE: f"table {self.name}",
            Part.FILE: "store file",
        }[self.part]
        return f"{subject}: {self.detail}"


def sqlite_findings(
    connection: sqlite3.Connection, *, full: bool, cancel: CancelToken | None = None
) -> list[Finding]:
    """``PRAGMA quick_check`` (or ``integrity_check`` when ``full``) as findings.

    Raises :class:`sqlite3.OperationalError` ("interrupted") when ``cancel`` is set meanwhile.
    """
    pragma = "integrity_check" if full else "quick_check"
    try:
        with _cancellable(connection, cancel):
            rows = connection.execute(f"PRAGMA {pragma}({MAX_SQLITE_FINDINGS})").fetchall()
    except sqlite3.DatabaseError as exc:
        if _interrupted(exc):
            raise
        return [Finding(Part.FILE, "", f"SQLite cannot read it ({exc})")]
    lines = [
        line.strip()
        for (text,) in rows
        for line in str(text).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if lines == ["ok"]:
        return []
    owners = _PageOwners(connection)
    return [_finding(line, owners) for line in lines]


def index_findings(
    connection: sqlite3.Connection,
    *,
    cancel: CancelToken | None = None,
    known: Mapping[str, tuple[int, int]] | None = None,
) -> list[Finding]:
    """Indexes whose rows differ from their table's, found by one scan of each.

    A quick alternative to ``integrity_check`` for the store's few indexes: each index is read
    on its own (SQLite answers from the index alone) and its table without any index, and an
    order-independent digest of the indexed columns and the row's key is compared. It finds a
    damaged index but cannot name the row: ``integrity_check`` (``verify --full``) does.
    ``known`` holds digests of tables already computed (by index name), to spare a scan.
    Raises :class:`sqlite3.OperationalError` ("interrupted") when ``cancel`` is set.
    """
    findings = []
    with _cancellable(connection, cancel):
        for index, table in connection.execute(
            "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' "
            "AND (sql IS NULL OR sql NOT LIKE '% WHERE %')"
        ).fetchall():
            columns = _index_columns(connection, str(index), str(table))
            if columns is None:
                continue
            table_digest = (known or {}).get(str(index))
            problem = _index_differs(connection, str(index), str(table), columns, table_digest)
            if problem is not None:
                findings.append(Finding(Part.INDEX, str(index), problem))
    return findings


def _index_differs(
    connection: sqlite3.Connection,
    index: str,
    table: str,
    columns: list[str],
    table_digest: tuple[int, int] | None,
) -> str | None:
    selected = ", ".join(f'"{column}"' for column in columns)
    # Names from the store's own schema.
    by_index = f'SELECT {selected} FROM "{table}" INDEXED BY "{index}"'  # noqa: S608
    without_index = f'SELECT {selected} FROM "{table}" NOT INDEXED'  # noqa: S608
    try:
        if table_digest is None:
            table_digest = _digest(connection, without_index)
        if _digest(connection, by_index) == table_digest:
            return None
    except sqlite3.DatabaseError as exc:
        if _interrupted(exc):
            raise
        return f"it cannot be compared with its table {table} ({exc}) — {REBUILD_ADVICE}"
    return (
        f"it does not hold the same rows as its table {table} "
        f"(`auditviewer verify --full` names them) — {REBUILD_ADVICE}"
    )


def _index_columns(connection: sqlite3.Connection, index: str, table: str) -> list[str] | None:
    """The index's columns and its table's row key; None for an index on expressions."""
    columns = [row[2] for row in connection.execute(f'PRAGMA index_info("{index}")')]
    if any(column is None for column in columns):
        return None
    table_info = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    without_rowid = connection.execute(
        "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = ?", (table,)
    ).fetchone()[0]
    if without_rowid:
        keys = [row[1] for row in sorted(table_info, key=lambda row: row[5]) if row[5] > 0]
    else:
        keys = ["rowid"]
    return [str(column) for column in columns] + [key for key in keys if key not in columns]


def _digest(connection: sqlite3.Connection, query: str) -> tuple[int, int]:
    count = 0
    total = 0
    cursor = connection.execute(query)
    while rows := cursor.fetchmany(DIGEST_ROWS):
        count += len(rows)
        total += sum(map(hash, rows))
    return count, total


def fts_finding(connection: sqlite3.Connection) -> Finding | None:
    """FTS5's own check of the full-text index's structure; None when it passes.

    The check is an ``INSERT`` command to FTS5, so it needs a write transaction: inside the
    caller's, under a savepoint, or else its own; either way it is rolled back (it changes
    nothing).
    """
    inside = connection.in_transaction
    connection.execute("SAVEPOINT fts_check" if inside else "BEGIN IMMEDIATE")
    try:
        connection.execute("INSERT INTO entries_fts(entries_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        # Busy, locked or read-only: the check could not run, which says nothing of the index.
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (5, 6, 8) or "locked" in str(exc):
            raise
        return Finding(Part.TEXT_INDEX, FTS_TABLE, f"the index is damaged ({exc})")
    finally:
        if inside:
            connection.execute("ROLLBACK TO fts_check")
            connection.execute("RELEASE fts_check")
        else:
            connection.execute("ROLLBACK")
    return None


def rebuild_indexes(connection: sqlite3.Connection, *, text_index: bool) -> None:
    """Rebuilds every index from its table (``REINDEX``), inside the caller's transaction.

    With ``text_index`` the full-text index is emptied and its high-water mark reset, so the
    next full-text build indexes every entry again; text search stays complete meanwhile.
    The append-only triggers concern rows, not indexes: neither step changes a row.
    """
    connection.execute("REINDEX")
    if text_index:
        connection.execute("INSERT INTO entries_fts(entries_fts) VALUES ('delete-all')")
        set_indexed_upto(connection, 0)


def _finding(line: str, owners: _PageOwners) -> Finding:
    if match := _INDEX_LINE.match(line):
        name = match["name"]
        part = owners.part_of(name)
        return Finding(part, name, _index_detail(line))
    if match := _COLUMN_LINE.search(line):
        column = match["column"]
        return Finding(Part.TABLE, match["table"], f"a row has no value in column {column}")
    if match := _TREE_LINE.match(line):
        page = int(match["page"])
        name = owners.owner(page)
        detail = f"page {page} is damaged (cell {match['cell']}: {match['what']})"
        if name is not None:
            part = owners.part_of(name)
            return Finding(part, name, _with_advice(detail, part))
        return Finding(Part.FILE, "", detail)
    if match := _PAGE_NUMBER.search(line):
        name = owners.owner(int(match["page"]))
        if name is not None:
            part = owners.part_of(name)
            return Finding(part, name, _with_advice(line, part))
    return Finding(Part.FILE, "", line)


def _with_advice(detail: str, part: Part) -> str:
    return f"{detail} — {REBUILD_ADVICE}" if part.repairable else detail


def _index_detail(line: str) -> str:
    if line.startswith("row "):
        row = line.split()[1]
        what = f"row {row} of its table is missing from the index"
    elif line.startswith("wrong #"):
        what = "it holds a different number of entries than its table"
    else:
        what = "it holds the same key twice"
    return f"{what} — {REBUILD_ADVICE}"


class _PageOwners:
    """Which table or index a page of the file belongs to (from ``sqlite_schema``, ``dbstat``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._types: dict[str, str] = {}
        self._roots: dict[int, str] = {}
        self._pages: dict[int, str] | None = None
        try:
            for kind, name, root in connection.execute(
                "SELECT type, name, rootpage FROM sqlite_schema"
            ):
                self._types[str(name)] = str(kind)
                if root:
                    self._roots[int(root)] = str(name)
        except sqlite3.DatabaseError:
            pass

    def part_of(self, name: str) -> Part:
        if name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_"):
            return Part.TEXT_INDEX
        return Part.INDEX if self._types.get(name) == "index" else Part.TABLE

    def owner(self, page: int) -> str | None:
        if page in self._roots:
            return self._roots[page]
        if self._pages is None:
            self._pages = self._walk()
        return self._pages.get(page)

    def _walk(self) -> dict[int, str]:
        # dbstat walks every b-tree; on a badly damaged file it may fail part-way.
        pages: dict[int, str] = {}
        try:
            for name, page in self._connection.execute("SELECT name, pageno FROM dbstat"):
                pages[int(page)] = str(name)
        except sqlite3.DatabaseError:
            pass
        return pages


class _cancellable:
    """Aborts the running statement when ``cancel`` is set (SQLite's progress handler)."""

    def __init__(self, connection: sqlite3.Connection, cancel: CancelToken | None) -> None:
        self._connection = connection
        self._check: Callable[[], int] | None = (
            None if cancel is None else (lambda: int(cancel.cancelled))
        )

    def __enter__(self) -> None:
        if self._check is not None:
            self._connection.set_progress_handler(self._check, CANCEL_CHECK_STEPS)

    def __exit__(self, *exc: object) -> None:
        if self._check is not None:
            self._connection.set_progress_handler(None, 0)


def _interrupted(exc: sqlite3.DatabaseError) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc)
