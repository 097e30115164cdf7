"""Full-text search over the entries' JSON values: the text predicate.

The index itself and its high-water mark are :mod:`auditviewer.core.store.text_index`.

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

import numpy as np
import numpy.typing as npt

from auditviewer.core.reading.search_text import (
    body_text,
    fts_query,
    phrase_tokens,
    text_matches,
    tokenize,
)
from auditviewer.core.store.text_index import indexed_upto

MATCH_FUNCTION = "av_text_match"
PRECHECK_WORDS = 8


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


__all__ = [
    "body_text",
    "fts_query",
    "matching_seqs",
    "phrase_tokens",
    "prepare_connection",
    "text_matches",
    "tokenize",
]
