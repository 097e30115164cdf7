"""Turns a parsed element into what the store needs: normalised values and hashes.

Kept free of any store access so that it can run in a separate parsing process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

import orjson

from auditviewer.core.reading.normalize import Normalized, normalize
from auditviewer.core.reading.search_text import body_of_value, body_text


class PreparedEntry(NamedTuple):
    """One element ready to be stored (or counted as a duplicate).

    ``terms`` holds the entry's value in each dimension of
    :data:`auditviewer.core.vocabulary.DIMENSIONS`, in that order (None: no value); ``body`` is
    its text for the full-text index.
    """

    entry_key: str
    content_sha256: bytes
    raw_sha256: bytes
    created_utc: int | None
    position: int
    line: int | None
    quarantine_reason: str | None
    time_naive: bool
    text: str
    entity_name: str | None
    terms: tuple[str | None, ...]
    body: str


def content_sha256(value: Any) -> bytes:
    """The hash of an entry's content, independent of key order and white space."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits and lone surrogates, which orjson refuses.
        data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")
    return hashlib.sha256(data).digest()


def storable(value: str | None) -> str | None:
    """A text SQLite can store: a lone surrogate (from a ``\\ud800`` escape) becomes U+FFFD.

    Only the normalised values are repaired; the original text keeps the escape.
    """
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _terms(n: Normalized) -> tuple[str | None, ...]:
    # DIMENSIONS order: action, actor, actor_key, actor_type, project, entity_type,
    # entity_key, ip, user_agent.
    return (
        storable(n.action), storable(n.actor_label), storable(n.actor_id), n.actor_type,
        storable(n.project), storable(n.entity_type), storable(n.entity_id), storable(n.ip),
        storable(n.user_agent),
    )  # fmt: skip


def prepare_entry(
    index: int,
    line: int | None,
    text: str,
    value: Any,
    duplicate_key: str | None = None,
    quarantine_reason: str | None = None,
) -> PreparedEntry:
    """Normalises an element and computes its raw and content hashes.

    ``quarantine_reason`` quarantines the element whatever it holds (the reader found it too
    long); otherwise normalising decides.
    """
    n = normalize(value, duplicate_key)
    reason = quarantine_reason or n.quarantine_reason
    raw_hash = hashlib.sha256(text.encode("utf-8")).digest()
    # With duplicate keys the parsed value hides one of them: only the raw text identifies it.
    content_hash = raw_hash if duplicate_key is not None else content_sha256(value)
    return PreparedEntry(
        storable(n.entry_key) or "", content_hash, raw_hash, n.created_utc, index, line,
        storable(reason), n.time_naive, text, storable(n.entity_name), _terms(n),
        body_text(text) if duplicate_key is not None else body_of_value(value),
    )  # fmt: skip
