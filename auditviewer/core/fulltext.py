"""Full-text search over the entries' JSON values: the FTS5 index and the text predicate.

The contentless FTS5 table ``entries_fts(body)`` holds, under ``rowid = entries.seq``, the
*values* of each entry's JSON joined by spaces (key names would match every row). It is filled
after imports, in committed chunks, up to a high-water mark kept in ``meta`` (key ``fts_seq``).

A text term means: its words appear consecutively among the entry's words, the last one as a
prefix (``upload`` finds ``uploader``), ignoring case and diacritics. Indexed entries are
matched through FTS5; entries above the high-water mark are matched by the same rule evaluated
in Python (:func:`text_matches`) on the same body text, so results are complete — and the same —
before, during and after an index build.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.search_text import (
    body_text,
    fts_query,
    phrase_tokens,
    text_matches,
    tokenize,
)
from auditviewer.core.store import Store

FTS_META_KEY = "fts_seq"
CHUNK_ROWS = 20_000
MATCH_FUNCTION = "av_text_match"
PRECHECK_WORDS = 8

ProgressCallback = Callable[[Progress], None]


def _sql_text_match(raw: str | None, tokens_json: str) -> int:
    if raw is None:
        return 0
    return int(text_matches(body_text(raw), _tokens(tokens_json)))


@functools.lru_cache(maxsize=64)
def _tokens(tokens_json: str) -> list[str]:
    tokens: list[str] = json.loads(tokens_json)
    return tokens


def prepare_connection(connection: sqlite3.Connection) -> None:
    """Registers the function the text predicate uses for not-yet-indexed entries."""
    connection.create_function(MATCH_FUNCTION, 2, _sql_text_match, deterministic=True)


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


def matching_seqs(
    connection: sqlite3.Connection, phrase: str, last_seq: int
) -> npt.NDArray[np.int64]:
    """The seqs up to ``last_seq`` whose text contains ``phrase``, ascending.

    Indexed entries are looked up in the FTS5 index; the entries above the high-water mark are
    read and checked by :func:`text_matches` on the same body, after a cheap pre-check that
    only rejects rows that cannot match: an ASCII-only raw text without ``\\u`` escapes holds
    every word of its body literally, so it must contain each (ASCII) word of the phrase. A
    phrase without any word characters matches nothing. The connection needs
    :func:`prepare_connection`.
    """
    tokens = phrase_tokens(phrase)
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    indexed = min(indexed_upto(connection), last_seq)
    cursor = connection.execute(
        "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? AND rowid <= ? ORDER BY rowid",
        (fts_query(tokens), indexed),
    )
    found = []
    while rows := cursor.fetchmany(65536):
        found.append(np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)))
    if indexed < last_seq:
        raw = "x.raw"
        uncertain = f"(length({raw}) != length(CAST({raw} AS BLOB)) OR instr({raw}, '\\u') > 0)"
        params: list[object] = [indexed, last_seq]
        if all(token.isascii() for token in tokens):
            required = _precheck_words(tokens)
            likes = " AND ".join(f"{raw} LIKE ?" for _ in required)
            precheck = f"(({likes}) OR {uncertain})"
            params.extend(f"%{token}%" for token in required)
        else:
            precheck = uncertain
        params.append(json.dumps(tokens))
        tail = connection.execute(
            f"SELECT x.seq FROM entry_texts AS x WHERE x.seq > ? AND x.seq <= ? "  # noqa: S608
            f"AND {precheck} AND {MATCH_FUNCTION}({raw}, ?) ORDER BY x.seq",
            params,
        ).fetchall()
        found.append(np.fromiter((row[0] for row in tail), dtype=np.int64, count=len(tail)))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(found)


def _precheck_words(tokens: list[str]) -> list[str]:
    """The few longest distinct words of a phrase, for the pre-check of unindexed entries.

    Any subset of the words is a correct pre-check; a few keep the SQL expression small
    whatever the phrase's length (SQLite refuses expressions nested 1000 deep).
    """
    distinct = sorted(set(tokens), key=lambda token: (-len(token), token))
    return distinct[:PRECHECK_WORDS]


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


__all__ = [
    "body_text",
    "build_fulltext",
    "fts_query",
    "indexed_upto",
    "matching_seqs",
    "phrase_tokens",
    "prepare_connection",
    "text_matches",
    "tokenize",
]
