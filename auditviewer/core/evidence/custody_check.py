"""Checks the custody log: its own hash chain, and the entry heads it recorded (checkpoints).

The entries' hash chain alone cannot show entries cut off the end of the store: what is left
is a valid chain. Every custody record holds the entry chain head after its operation; an
entry head the store no longer reaches, or reaches with another hash, shows entries removed
from the end or rewritten. A head noted outside the store (an earlier evidence pack's manifest)
is checked the same way with ``expect_head``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from auditviewer.core.store.custody_log import (
    GENESIS,
    CustodyRecord,
    chain_step,
    custody_records,
    entry_head,
    has_custody_log,
    record_digest,
)
from auditviewer.core.timestamps import iso_utc
from auditviewer.core.wording import counted


@dataclass(frozen=True, slots=True)
class CustodyCheck:
    """What :func:`check_custody` found: ``problems`` (sentences) and what was checked."""

    records: int
    checkpoints: int
    problems: tuple[str, ...]
    expected_head: str | None = None
    # Where a head noted elsewhere was found ("" when none was given).
    expected_head_found: str = ""

    @property
    def ok(self) -> bool:
        """Whether the custody log and every checkpoint hold."""
        return not self.problems


def check_custody(
    connection: sqlite3.Connection, *, expect_head: str | None = None
) -> CustodyCheck:
    """Checks the custody log's chain and checkpoints inside the caller's read transaction."""
    if not has_custody_log(connection):
        return CustodyCheck(0, 0, ())
    problems: list[str] = []
    rows = connection.execute(
        "SELECT seq, recorded_utc, os_user, what, detail, entries_seq, entries_head, "
        "chain_sha256 FROM custody_log ORDER BY seq"
    ).fetchall()
    problems.extend(_chain_problems(rows))
    records = custody_records(connection)
    checkpoints, found = _checkpoint_problems(connection, records)
    problems.extend(found)
    head_found = ""
    if expect_head is not None:
        head_problem, head_found = _expected_head(connection, expect_head)
        if head_problem is not None:
            problems.append(head_problem)
    return CustodyCheck(len(rows), checkpoints, tuple(problems), expect_head, head_found)


def _chain_problems(rows: list[tuple[object, ...]]) -> list[str]:
    previous = GENESIS
    expected_seq = 1
    for seq, recorded, user, what, detail, entries_seq, head, chain in rows:
        assert isinstance(seq, int)
        if seq != expected_seq:
            gap = (
                f"record {expected_seq}"
                if seq == expected_seq + 1
                else (f"records {expected_seq}..{seq - 1}")
            )
            return [f"the custody log was altered: {gap} missing before record {seq}"]
        digest = record_digest(
            seq,
            int(str(recorded)),
            str(user),
            str(what),
            str(detail),
            int(str(entries_seq)),
            None if head is None else str(head),
        )
        computed = chain_step(previous, digest)
        if not isinstance(chain, bytes) or computed != chain:
            return [
                f"the custody log was altered: record {seq} ({what} of "
                f"{iso_utc(int(str(recorded)))[:19]}) does not match its chain hash"
            ]
        previous = computed
        expected_seq += 1
    return []


def _checkpoint_problems(
    connection: sqlite3.Connection, records: list[CustodyRecord]
) -> tuple[int, list[str]]:
    """Checks each recorded entry head against the store; one sentence per kind of problem."""
    now = entry_head(connection)
    checked = 0
    cut: CustodyRecord | None = None
    rewritten: CustodyRecord | None = None
    for record in records:
        if record.entries_seq == 0 or record.entries_head is None:
            continue
        checked += 1
        if record.entries_seq > now.seq:
            if cut is None or record.entries_seq > cut.entries_seq:
                cut = record
            continue
        row = connection.execute(
            "SELECT chain_sha256 FROM entry_texts WHERE seq = ?", (record.entries_seq,)
        ).fetchone()
        if (row is None or bytes(row[0]).hex() != record.entries_head) and rewritten is None:
            rewritten = record
    problems = []
    if cut is not None:
        lost = cut.entries_seq - now.seq
        problems.append(
            f"entries were removed from the end of the store: after the {_what(cut)} the store "
            f"ended at entry seq {cut.entries_seq:,} (chain head {cut.entries_head}), now it "
            f"ends at seq {now.seq:,}; {lost:,} entr{'y is' if lost == 1 else 'ies are'} missing"
        )
    if rewritten is not None:
        problems.append(
            f"entries were rewritten: after the {_what(rewritten)} entry seq "
            f"{rewritten.entries_seq:,} had chain head {rewritten.entries_head}, the store now "
            "holds another"
        )
    return checked, problems


def _what(record: CustodyRecord) -> str:
    return (
        f"{record.what} of {iso_utc(record.recorded_utc)[:19]}Z by {record.os_user} "
        f"(custody record {record.seq})"
    )


def head_text(expect_head: str) -> str:
    """A chain head as written (any case, spaces or colons between digits), as 64 lowercase
    hex digits; raises ValueError with a sentence when it is not a SHA-256."""
    text = "".join(expect_head.split()).replace(":", "").lower()
    if len(text) != 64 or any(char not in "0123456789abcdef" for char in text):
        raise ValueError(
            f"the expected head {expect_head!r} is not a SHA-256: give its 64 hex digits"
        )
    return text


def _expected_head(connection: sqlite3.Connection, expect_head: str) -> tuple[str | None, str]:
    try:
        text = head_text(expect_head)
    except ValueError as exc:
        return str(exc), ""
    wanted = bytes.fromhex(text)
    now = entry_head(connection)
    # The current head, or one the custody log recorded, spares a scan of every entry's chain.
    row: tuple[int] | None = (now.seq,) if now.sha256 == text else None
    if row is None:
        row = connection.execute(
            "SELECT entries_seq FROM custody_log WHERE entries_head = ? LIMIT 1", (text,)
        ).fetchone()
        if row is not None:
            stored = connection.execute(
                "SELECT chain_sha256 FROM entry_texts WHERE seq = ?", (row[0],)
            ).fetchone()
            row = row if stored is not None and bytes(stored[0]) == wanted else None
    if row is None:
        row = connection.execute(
            "SELECT seq FROM entry_texts WHERE chain_sha256 = ? ORDER BY seq LIMIT 1", (wanted,)
        ).fetchone()
    if row is None:
        return (
            f"the expected chain head {text} is not in the store's chain: it was noted from "
            "another store, or entries it covered were removed or rewritten (the store ends at "
            f"entry seq {now.seq:,}, chain head {now.sha256})",
            "",
        )
    seq = int(row[0])
    grown = now.seq - seq
    later = (
        f"; {counted(grown, 'entry')} {'was' if grown == 1 else 'were'} added after it"
        if grown
        else ""
    )
    return None, f"the expected chain head is entry seq {seq:,}'s{later}"
