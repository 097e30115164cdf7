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
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store import Store

FTS_META_KEY = "fts_seq"
CHUNK_ROWS = 20_000
MATCH_FUNCTION = "av_text_match"

ProgressCallback = Callable[[Progress], None]

# Alphanumeric runs: the token characters of FTS5's unicode61 tokenizer (letters, numbers).
_TOKEN = re.compile(r"[^\W_]+")
# Combining marks dropped after NFD decomposition (the diacritics unicode61 removes).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def body_text(raw: str) -> str:
    """The searchable body of an entry: its JSON values in document order, joined by spaces.

    Strings, integers and booleans (``true``/``false``) contribute words; key names, nulls and
    non-integer numbers do not (``1e3`` is not spelled in the raw text as Python would print
    it, which the pre-check of :func:`matching_seqs` relies on). Text that is not valid JSON
    is searched as it stands.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    parts: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            parts.append(item)
        elif kind is dict:
            stack.extend(reversed(list(item.values())))
        elif kind is list:
            stack.extend(reversed(item))
        elif kind is bool:
            parts.append("true" if item else "false")
        elif kind is int:
            parts.append(str(item))
    body = " ".join(parts)
    # A lone surrogate escape decodes, but SQLite cannot store it.
    return body.encode("utf-8", "replace").decode("utf-8")


def tokenize(text: str) -> list[str]:
    """The words of a text as the index sees them: case-folded, diacritics removed."""
    return _TOKEN.findall(_fold(text))


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFD", text.lower()))


def phrase_tokens(phrase: str) -> list[str]:
    """The words of a search phrase; an empty list when it holds nothing searchable."""
    return tokenize(phrase)


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression for a phrase of words, the last one a prefix.

    Tokens are alphanumeric runs, so quoting them cannot inject FTS5 operators.
    """
    assert tokens
    assert all('"' not in t for t in tokens)
    return '"' + " ".join(tokens) + '" *'


def text_matches(body: str, tokens: list[str]) -> bool:
    """Whether ``tokens`` appear consecutively among the words of ``body`` (last as a prefix)."""
    folded = _fold(body)
    if any(token not in folded for token in tokens):
        return False
    words = _TOKEN.findall(folded)
    head, last = tokens[:-1], tokens[-1]
    width = len(tokens)
    for start in range(len(words) - width + 1):
        if words[start + width - 1].startswith(last) and words[start : start + width - 1] == head:
            return True
    return False


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
            likes = " AND ".join(f"{raw} LIKE ?" for _ in tokens)
            precheck = f"(({likes}) OR {uncertain})"
            params.extend(f"%{token}%" for token in tokens)
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
    build stops after the current chunk and returns what it indexed so far.
    """
    with store.raw() as connection:
        start = indexed_upto(connection)
        row = connection.execute(
            "SELECT count(*) FROM entry_texts WHERE seq > ?", (start,)
        ).fetchone()
    total = int(row[0])
    done = 0
    while not (cancel is not None and cancel.cancelled):
        with store.write() as connection:
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
            connection.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (FTS_META_KEY, str(rows[-1][0])),
            )
        done += len(rows)
        if progress is not None:
            progress(Progress(min(done, total), total, done, phase="index"))
    return done
