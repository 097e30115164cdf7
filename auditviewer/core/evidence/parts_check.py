"""Whether a store's parts agree: its rows, texts and column blocks describe the same entries.

Every entry has one row in ``entries`` (its narrow columns) and one in ``entry_texts`` (its
text and hashes), under the same seq; and every entry's narrow columns are copied once more
into the ``column_blocks`` of the transaction that added it, which the viewer reads instead of
the rows. The check compares them block by block with numpy and names the first disagreement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

from auditviewer.core.records import CancelToken, Progress, ProgressCallback
from auditviewer.core.store.column_blocks import COLUMNS, ENTRY_COLUMNS, NO_TIME, decode
from auditviewer.core.timestamps import iso_utc
from auditviewer.core.vocabulary import DIMENSIONS

ROWS_PER_READ: Final = 65536
# Rows summed at once, and the weights' range: a row's total (< 2**36: term ids < 2**32) times
# its weight (< 2**13), over 2**12 rows, stays inside 64 bits.
SUM_ROWS: Final = 4096
SUM_WEIGHT_MODULUS: Final = 8191
_DIMENSIONS: Final = {d.column: d.name for d in DIMENSIONS}
_TITLES: Final = {
    "created_utc": "time",
    "source_id": "source",
    **{d.column: d.title.lower() for d in DIMENSIONS},
}

Matrix = npt.NDArray[np.int64]


class PartsCancelled(Exception):
    """Raised inside the check when the caller's cancel token is set."""


def parts_disagreement(
    connection: sqlite3.Connection,
    texts_upto: int | None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> str | None:
    """The first disagreement between the store's parts, as a sentence; None when they agree.

    ``texts_upto`` is the number of entry texts when they are known to be exactly seqs
    1..``texts_upto`` (the hash check establishes that), None when not: their seqs are then
    read. Raises :class:`PartsCancelled` when ``cancel`` is set.
    """
    count, low, high = connection.execute(
        "SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0) FROM entries"
    ).fetchone()
    if texts_upto is None or (int(count), int(high)) != (texts_upto, texts_upto) or low != 1:
        problem = _rows_match_texts(connection, texts_upto)
        if problem is not None:
            return problem
    return _blocks_match_rows(connection, int(high), progress, cancel)


def _rows_match_texts(connection: sqlite3.Connection, texts_upto: int | None) -> str | None:
    seqs = _seqs(connection, "SELECT seq FROM entries ORDER BY seq")
    if texts_upto is None:
        expected = _seqs(connection, "SELECT seq FROM entry_texts NOT INDEXED ORDER BY seq")
    else:
        expected = np.arange(1, texts_upto + 1, dtype=np.int64)
    without_row = np.setdiff1d(expected, seqs, assume_unique=True)
    without_text = np.setdiff1d(seqs, expected, assume_unique=True)
    if len(without_row) and (not len(without_text) or without_row[0] < without_text[0]):
        return (
            f"entry seq {without_row[0]} has its text but no row in the entries table "
            f"({_such(len(without_row))})"
        )
    if len(without_text):
        return (
            f"entry seq {without_text[0]} has a row in the entries table but no text "
            f"({_such(len(without_text))})"
        )
    return None


def _such(count: int) -> str:
    return "the only such entry" if count == 1 else f"{count:,} such entries"


def _seqs(connection: sqlite3.Connection, query: str) -> npt.NDArray[np.int64]:
    return np.fromiter((row[0] for row in connection.execute(query)), dtype=np.int64)


def _blocks_match_rows(
    connection: sqlite3.Connection,
    last_seq: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> str | None:
    next_seq = 1
    blocks = connection.execute(
        "SELECT first_seq, count, data FROM column_blocks ORDER BY first_seq"
    )
    for first_seq, count, blob in blocks:
        if cancel is not None and cancel.cancelled:
            raise PartsCancelled
        if first_seq != next_seq:
            return _block_gap(next_seq, int(first_seq))
        if first_seq + count - 1 > last_seq:
            return (
                f"the column block of entries seq {first_seq:,}..{first_seq + count - 1:,} "
                f"reaches beyond the last entry (seq {last_seq:,})"
            )
        try:
            arrays = decode(bytes(blob), int(count))
        except ValueError as exc:
            return f"the column block of entries from seq {first_seq:,} is malformed: {exc}"
        block = np.column_stack([arrays[name].astype(np.int64) for name, _ in COLUMNS])
        for at in range(0, int(count), SUM_ROWS):
            part = block[at : at + SUM_ROWS]
            if not _sums_agree(connection, int(first_seq) + at, part):
                problem = _block_matches_rows(connection, int(first_seq) + at, part)
                if problem is not None:
                    return problem
        next_seq = first_seq + count
        if progress is not None:
            progress(Progress(next_seq - 1, last_seq, next_seq - 1, phase="compare"))
    if next_seq <= last_seq:
        return (
            f"entries seq {next_seq:,}..{last_seq:,} are in no column block, so the viewer "
            "reads them from their rows"
        )
    return None


def _sums_agree(connection: sqlite3.Connection, first_seq: int, block: Matrix) -> bool:
    """Whether SQLite's sums over the rows equal numpy's over the block.

    Each column's sum, and the sum of every row's columns weighted by a function of its seq,
    computed by SQLite in one pass, stand for the rows without turning each into a Python
    object: a changed value changes its column's sum, and values moved between entries the
    weighted one. Times are summed as whole seconds and microseconds so that no sum leaves 64
    bits; an overflowing sum (a time thousands of years away) answers False, and the caller
    compares row by row.
    """
    try:
        row = connection.execute(_SUMS_SQL, (first_seq, first_seq + len(block) - 1)).fetchone()
    except sqlite3.OperationalError:
        return False
    return tuple(int(value or 0) for value in row) == _block_sums(first_seq, block)


def _block_sums(first_seq: int, block: Matrix) -> tuple[int, ...]:
    seqs = np.arange(first_seq, first_seq + len(block), dtype=np.int64)
    created = block[:, 0]
    missing = created == NO_TIME
    times = np.where(missing, 0, created)
    # SQLite's integer division and remainder truncate towards zero.
    seconds = np.where(times < 0, -(-times // 1_000_000), times // 1_000_000)
    micros = times - seconds * 1_000_000
    others = block[:, 1:]
    weighted = (seqs % SUM_WEIGHT_MODULUS + 1) * (others.sum(axis=1) + micros)
    return (
        len(block),
        int(missing.sum()),
        int(seconds.sum()),
        int(micros.sum()),
        *(int(total) for total in others.sum(axis=0)),
        int(weighted.sum()),
    )


def _sums_sql() -> str:
    others = ENTRY_COLUMNS[1:]
    row_total = " + ".join(
        [*(f"coalesce({name}, 0)" for name in others), "coalesce(created_utc % 1000000, 0)"]
    )
    sums = ", ".join(
        [
            "sum(created_utc IS NULL)",
            "sum(created_utc / 1000000)",
            "sum(created_utc % 1000000)",
            *(f"sum({name})" for name in others),
            f"sum((seq % {SUM_WEIGHT_MODULUS} + 1) * ({row_total}))",
        ]
    )
    return f"SELECT count(*), {sums} FROM entries WHERE seq BETWEEN ? AND ?"  # noqa: S608


def _block_gap(expected: int, found: int) -> str:
    if found > expected:
        return f"entries seq {expected:,}..{found - 1:,} are in no column block"
    return f"the column block starting at seq {found:,} overlaps the block before it"


def _block_matches_rows(
    connection: sqlite3.Connection, first_seq: int, block: Matrix
) -> str | None:
    at = 0
    for rows in _narrow_rows(connection, first_seq, first_seq + len(block) - 1):
        expected_seqs = np.arange(first_seq + at, first_seq + at + len(rows), dtype=np.int64)
        if not np.array_equal(rows[:, 0], expected_seqs):
            return None  # the seq check has already named the missing row
        differs = rows[:, 1:] != block[at : at + len(rows)]
        if differs.any():
            row, column = (int(i) for i in np.argwhere(differs)[0])
            seq = first_seq + at + row
            name = ENTRY_COLUMNS[column]
            in_block = _shown(connection, name, int(block[at + row, column]))
            in_row = _shown(connection, name, int(rows[row, column + 1]))
            return (
                f"entry seq {seq:,}: its column block holds {_TITLES.get(name, name)} "
                f"{in_block}, its row in the entries table {in_row}; the viewer shows the "
                "block's value"
            )
        at += len(rows)
    return None


def _narrow_rows(connection: sqlite3.Connection, first: int, last: int) -> Iterator[Matrix]:
    """The narrow rows from ``first`` to ``last`` as int64 matrices (seq, then the columns).

    A missing time reads as :data:`NO_TIME` and a missing term as 0, as in the blocks.
    """
    columns = ", ".join(
        f"coalesce({name}, {NO_TIME})" if name == "created_utc" else f"coalesce({name}, 0)"
        for name in ENTRY_COLUMNS
    )
    cursor = connection.execute(
        f"SELECT seq, {columns} FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq",  # noqa: S608
        (first, last),
    )
    while rows := cursor.fetchmany(ROWS_PER_READ):
        yield np.array(rows, dtype=np.int64).reshape(len(rows), len(ENTRY_COLUMNS) + 1)


def _shown(connection: sqlite3.Connection, column: str, value: int) -> str:
    """A narrow column's value for people: the term for a term id, the time for a time."""
    if column == "created_utc":
        return "(no time)" if value == NO_TIME else iso_utc(value)
    dimension = _DIMENSIONS.get(column)
    if dimension is None:
        return str(value)
    if value == 0:
        return "(none)"
    row = connection.execute(
        "SELECT value FROM terms WHERE dimension = ? AND id = ?", (dimension, value)
    ).fetchone()
    return f"{row[0]!r}" if row else f"term {value} (not in the dictionary)"


_SUMS_SQL: Final = _sums_sql()
