"""The dictionary of the store's dimension values (``terms``): value <-> small integer id.

Ids are dense per dimension, from 1, in order of first arrival; 0 (NULL in the ``entries``
table) means the entry has no value in that dimension.
"""

from __future__ import annotations

import sqlite3

from auditviewer.core.vocabulary import DIMENSIONS


class TermDictionary:
    """The terms of one write transaction: known ids, and the new ones to insert."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._maps: list[dict[str, int]] = [{} for _ in DIMENSIONS]
        self._next: list[int] = [1 for _ in DIMENSIONS]
        self._new: list[tuple[str, int, str]] = []
        index = {d.name: position for position, d in enumerate(DIMENSIONS)}
        for dimension, term_id, value in connection.execute(
            "SELECT dimension, id, value FROM terms"
        ):
            position = index[dimension]
            self._maps[position][value] = term_id
            if term_id >= self._next[position]:
                self._next[position] = term_id + 1

    def ids(self, values: tuple[str | None, ...]) -> list[int | None]:
        """The term id of each dimension's value (None for no value), assigning new ids."""
        result: list[int | None] = []
        for position, value in enumerate(values):
            if value is None:
                result.append(None)
                continue
            known = self._maps[position]
            term_id = known.get(value)
            if term_id is None:
                term_id = known[value] = self._next[position]
                self._next[position] = term_id + 1
                self._new.append((DIMENSIONS[position].name, term_id, value))
            result.append(term_id)
        return result

    def write_new(self, connection: sqlite3.Connection) -> None:
        """Inserts the terms assigned since the last call."""
        if self._new:
            connection.executemany(
                "INSERT INTO terms (dimension, id, value) VALUES (?, ?, ?)", self._new
            )
            self._new = []
