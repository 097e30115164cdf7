"""The narrow entry columns as numpy arrays, and their blocks in the store.

Each write transaction that adds entries also adds one row to ``column_blocks``: the new
entries' narrow columns (time, flags, source and the term ids of every dimension) as one blob,
column after column. The column cache loads a million entries from a few hundred such blobs in
tens of milliseconds, where reading the narrow rows one by one takes a second. Blocks are
derived data written in the same transaction as the rows they copy, and append-only like them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from auditviewer.core.vocabulary import DIMENSIONS

# A missing time (quarantined entries) in the ``created`` array; sorts before every real time.
NO_TIME: Final = np.iinfo(np.int64).min

# Column name -> numpy dtype, in blob order. Term ids: 0 means "no value".
COLUMNS: Final[tuple[tuple[str, np.dtype[np.generic]], ...]] = (
    ("created", np.dtype(np.int64)),
    ("flags", np.dtype(np.uint8)),
    ("source", np.dtype(np.uint32)),
    *((d.name, np.dtype(np.uint32)) for d in DIMENSIONS),
)
# The narrow ``entries`` columns in COLUMNS order.
ENTRY_COLUMNS: Final = (
    "created_utc",
    "flags",
    "source_id",
    *(d.column for d in DIMENSIONS),
)

Arrays = dict[str, npt.NDArray[np.generic]]


def arrays_from_rows(rows: Sequence[Sequence[int | None]]) -> Arrays:
    """Column arrays from narrow rows (``seq`` first, then :data:`ENTRY_COLUMNS`)."""
    count = len(rows)
    arrays: Arrays = {}
    for position, (name, dtype) in enumerate(COLUMNS, start=1):
        if name == "created":
            values = [NO_TIME if row[1] is None else row[1] for row in rows]
        else:
            values = [row[position] or 0 for row in rows]
        arrays[name] = np.fromiter(values, dtype=dtype, count=count)
    return arrays


def encode(arrays: Arrays) -> bytes:
    """One block's blob: each column's bytes, in :data:`COLUMNS` order."""
    return b"".join(
        np.ascontiguousarray(arrays[name], dtype=dtype).tobytes() for name, dtype in COLUMNS
    )


def decode(blob: bytes, count: int) -> Arrays:
    """The column arrays of a block of ``count`` entries (read-only views of ``blob``)."""
    arrays: Arrays = {}
    offset = 0
    for name, dtype in COLUMNS:
        arrays[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
        offset += dtype.itemsize * count
    if offset != len(blob):
        raise ValueError(f"a column block of {count} entries holds {len(blob)} bytes")
    return arrays


def write_block(connection: sqlite3.Connection, first_seq: int, arrays: Arrays) -> None:
    """Adds the block of entries ``first_seq`` .. ``first_seq + count - 1``."""
    count = len(arrays["created"])
    if count:
        connection.execute(
            "INSERT INTO column_blocks (first_seq, count, data) VALUES (?, ?, ?)",
            (first_seq, count, encode(arrays)),
        )


def narrow_rows(connection: sqlite3.Connection, after_seq: int) -> Iterator[list[tuple[int, ...]]]:
    """The narrow rows above ``after_seq`` in seq order, in chunks."""
    cursor = connection.execute(
        f"SELECT seq, {', '.join(ENTRY_COLUMNS)} FROM entries WHERE seq > ? ORDER BY seq",  # noqa: S608
        (after_seq,),
    )
    while rows := cursor.fetchmany(65536):
        yield rows


def build_blocks(connection: sqlite3.Connection) -> int:
    """Writes blocks for every entry not yet in one (used by the v1 → v2 migration)."""
    row = connection.execute(
        "SELECT coalesce(max(first_seq + count - 1), 0) FROM column_blocks"
    ).fetchone()
    written = 0
    for rows in narrow_rows(connection, int(row[0])):
        write_block(connection, rows[0][0], arrays_from_rows(rows))
        written += len(rows)
    return written
