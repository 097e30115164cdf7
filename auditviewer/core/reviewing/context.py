"""The context around an entry: the entries just before and after it in time, filter set aside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from auditviewer.core.querying.columns import columns
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryQuery, EntryRow
from auditviewer.core.reviewing.errors import ReviewError
from auditviewer.core.store.connection import Store

OLDEST_FIRST: Final = Sort("time", descending=False)
MAX_AROUND: Final = 1000


@dataclass(frozen=True, slots=True)
class EntryContext:
    """Up to ``around`` entries before and after the anchor in time, oldest first;
    ``rows[anchor_index]`` is the anchor itself."""

    anchor_seq: int
    rows: tuple[EntryRow, ...]
    anchor_index: int


def surrounding(store: Store, seq: int, around: int = 10) -> EntryContext:
    """The ``around`` entries before and after entry ``seq`` in time (ties by seq), whatever
    the filter; raises :class:`ReviewError` when there is no such entry."""
    around = max(0, min(int(around), MAX_AROUND))
    snapshot = columns(store)
    at = snapshot.positions_of(np.asarray([seq], dtype=np.int64))
    if not at.size:
        raise ReviewError(f"{store.path}: there is no entry seq {seq}")
    order = snapshot.order(OLDEST_FIRST)
    place = int(np.flatnonzero(order == at[0])[0])
    first = max(0, place - around)
    chosen = tuple(int(s) for s in snapshot.seq[order[first : place + around + 1]])
    with EntryQuery(store, Filter(seqs=chosen), OLDEST_FIRST) as query:
        rows = tuple(query.window(0, len(chosen)))
    anchor = next(index for index, row in enumerate(rows) if row.seq == seq)
    return EntryContext(seq, rows, anchor)
