"""The full-text index's upkeep: the high-water mark and the chunked build.

The contentless FTS5 table ``entries_fts(body)`` holds, under ``rowid = entries.seq``, the
*values* of each entry's JSON joined by spaces (key names would match every row). It is filled
in the import's own transaction when it is complete so far, else after imports in committed
chunks, up to a high-water mark kept in ``meta`` (key ``fts_seq``). Matching is
:mod:`auditviewer.core.querying.fulltext`.
"""

from __future__ import annotations

import sqlite3

from auditviewer.core.reading.search_text import body_text
from auditviewer.core.records import CancelToken, Progress, ProgressCallback
from auditviewer.core.store.connection import Store

FTS_META_KEY = "fts_seq"
CHUNK_ROWS = 20_000


def indexed_upto(connection: sqlite3.Connection) -> int:
    """The highest seq covered by the full-text index (0 when nothing is indexed)."""
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (FTS_META_KEY,)).fetchone()
    return int(row[0]) if row else 0


def set_indexed_upto(connection: sqlite3.Connection, seq: int) -> None:
    """Records that the full-text index covers every entry up to ``seq``."""
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (FTS_META_KEY, str(seq)),
    )


def build_fulltext(
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Indexes the entries above the high-water mark; returns how many were indexed.

    Each chunk is committed with its new high-water mark, so a cancelled or interrupted build
    keeps what it did and the next build continues from there. When ``cancel`` is set the
    build stops after the current chunk and returns what it indexed so far. What was indexed
    is checkpointed into the store file at the end.
    """
    with store.raw() as connection:
        start = indexed_upto(connection)
        row = connection.execute(
            "SELECT count(*) FROM entry_texts WHERE seq > ?", (start,)
        ).fetchone()
    total = int(row[0])
    done = 0
    while not (cancel is not None and cancel.cancelled):
        with store.write(undone="the rest of the text index will be built next time") as connection:
            # Re-read inside the write lock: another build may have gone further meanwhile.
            low = indexed_upto(connection)
            rows = connection.execute(
                "SELECT seq, raw FROM entry_texts WHERE seq > ? ORDER BY seq LIMIT ?",
                (low, chunk_rows),
            ).fetchall()
            if not rows:
                break
            connection.executemany(
                "INSERT INTO entries_fts (rowid, body) VALUES (?, ?)",
                [(seq, body_text(raw)) for seq, raw in rows],
            )
            set_indexed_upto(connection, int(rows[-1][0]))
        done += len(rows)
        if progress is not None:
            progress(Progress(min(done, total), total, done, phase="index"))
    if done:
        # The chunks passed through the WAL: move them into the store file.
        store.checkpoint()
    return done
