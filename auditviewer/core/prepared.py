"""Turns a parsed element into what the store needs: normalised columns and hashes.

Kept free of any store access so that it can run in a separate parsing process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

import orjson

from auditviewer.core.normalize import normalize


class PreparedEntry(NamedTuple):
    """One element ready to be stored (or counted as a duplicate).

    ``head`` and ``tail`` are the entry's insert columns before and after the chain hash,
    which only the writer can compute; building them here keeps that work off the writer.
    """

    entry_key: str
    content_sha256: bytes
    raw_sha256: bytes
    created_micros: int | None
    position: int
    line: int | None
    quarantine_reason: str | None
    time_naive: bool
    head: tuple[Any, ...]
    tail: tuple[Any, ...]


def content_sha256(value: Any) -> bytes:
    """The hash of an entry's content, independent of key order and white space."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits and lone surrogates, which orjson refuses.
        data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")
    return hashlib.sha256(data).digest()


def prepare_entry(
    index: int, line: int | None, text: str, value: Any, duplicate_key: str | None = None
) -> PreparedEntry:
    """Normalises an element and computes its raw and content hashes."""
    n = normalize(value, duplicate_key)
    raw_hash = hashlib.sha256(text.encode("utf-8")).digest()
    # With duplicate keys the parsed value hides one of them: only the raw text identifies it.
    content_hash = raw_hash if duplicate_key is not None else content_sha256(value)
    return PreparedEntry(
        n.entry_key, content_hash, raw_hash, n.created_micros, index, line,
        n.quarantine_reason, n.time_naive,
        (index, line, n.entry_key, text, raw_hash, content_hash),
        (
            n.created_micros, int(n.time_naive), n.action, n.action_group, n.actor_type,
            n.actor_label, n.actor_id, n.project, n.entity_type, n.entity_id, n.entity_name,
            n.ip, n.user_agent, n.quarantine_reason,
        ),
    )  # fmt: skip
