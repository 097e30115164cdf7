"""One translation of SQLite's environment errors into sentences, for every caller.

Disk full, read-only, locked, damaged, I/O failure: conditions of the machine, not of the
program. Each becomes a :class:`StoreError` subclass whose message names the store, says what
happened and what was (not) kept, and what to do. Anything else (a malformed statement, a
constraint the code should have respected) is a bug and is left to surface as one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from auditviewer.core.errors import StoreDamaged, StoreError, StoreFull, StoreLocked, StoreReadOnly

# SQLite's primary result codes (the low byte of an extended code).
_PERM: Final = 3
_BUSY: Final = 5
_LOCKED: Final = 6
_READONLY: Final = 8
_IOERR: Final = 10
_CORRUPT: Final = 11
_FULL: Final = 13
_CANTOPEN: Final = 14
_NOTADB: Final = 26


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def translate(exc: BaseException, store: Path | str, outcome: str = "") -> StoreError | None:
    """The sentence for an environment error met while using ``store``; None for a bug.

    ``outcome`` says what the failure meant for the user's data ("nothing was imported");
    it is added to the sentence.
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    code = _primary_code(exc)
    detail = str(exc)
    then = f"; {outcome}" if outcome else ""
    if code == _FULL:
        return StoreFull(
            f"{store}: the disk holding the store is full{then}; free some space and try again"
        )
    if code in (_READONLY, _PERM):
        return StoreReadOnly(
            f"{store}: the store is read-only (its file, folder or disk cannot be "
            f"written){then}; copy it to a writable place or change its permissions"
        )
    if code in (_BUSY, _LOCKED):
        return StoreLocked(
            f"{store}: another program is using the store{then}; try again when it has finished"
        )
    if code == _NOTADB:
        return StoreDamaged(
            f"{store}: cannot open the store: the file is not a SQLite database (not a store, "
            f"or a store whose first page is damaged){then}"
        )
    if code == _CORRUPT:
        return StoreDamaged(
            f"{store}: the store file is damaged ({detail}){then}; run auditviewer verify "
            "--full on it and restore it from a backup if verify finds entries damaged"
        )
    if code == _IOERR:
        return StoreError(
            f"{store}: the disk reported an error while the store was used ({detail}){then}; "
            "check the disk and try again"
        )
    if code == _CANTOPEN:
        return StoreError(
            f"{store}: the store file cannot be opened ({detail}){then}; check that its "
            "folder exists and can be written"
        )
    return None
