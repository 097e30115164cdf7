"""The column cache: the narrow entry columns in memory, for counts, facets, histograms and sorts.

The store is append-only, so the cache is only ever extended with new seqs (loaded from the
``column_blocks`` of the transactions that added them, or from the narrow rows where a block is
missing), never invalidated. A :class:`Columns` snapshot pins down the first ``size`` entries
and the conflicts known when it was taken; every query answers against one snapshot, so its
count, its rows and its facets agree while the store grows.

Everything here is vectorised numpy over whole columns: a filter is a boolean mask built from
per-term lookup tables (so matching is by dictionary value, case-insensitive, wildcards
included), a sort order is one stable argsort per column, cached and reused under any filter.
SQLite answers the text search (see :mod:`.fulltext`) and the rows of a window.
"""

from __future__ import annotations

import bisect
import logging
import re
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from auditviewer.core.querying import fulltext, review_terms
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.records import now_micros
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.column_blocks import (
    COLUMNS,
    NO_TIME,
    Arrays,
    arrays_from_rows,
    decode,
    narrow_rows,
)
from auditviewer.core.store.connection import Store
from auditviewer.core.timestamps import MICROS_PER_DAY
from auditviewer.core.vocabulary import (
    ANOMALY,
    CONFLICT,
    DIMENSION_BY_NAME,
    DIMENSIONS,
    NAIVE_TIME,
    PAST_RETENTION,
    QUARANTINED,
    SORT_DIMENSIONS,
    UNKNOWN_ACTION,
)

_T = TypeVar("_T")
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Positions = npt.NDArray[np.signedinteger[Any]]


@dataclass(frozen=True)
class Complement:
    """Every entry but those at ``positions`` (a selection that holds most entries)."""

    positions: Positions


# Entries chosen from the columns: their positions, or all but some positions.
Chosen = Positions | Complement

log = logging.getLogger(__name__)

_TEXT_CACHE_SIZE: Final = 16
_LUT_CACHE_SIZE: Final = 256
_WILDCARDS_PER_PASS: Final = 256
_MAX_HISTOGRAM_BINS: Final = 5_000_000
# Filter masks and sort orders kept per snapshot (a mask is 1 byte, an order 4 bytes per entry).
_RECENT_MASKS: Final = 8
_RECENT_ORDERS: Final = 3


def wildcard_pattern(patterns: Iterable[str]) -> re.Pattern[str]:
    """One expression that matches a whole text when any of the ``*`` patterns does.

    Each ``*`` between two pieces is an atomic lazy step: the next piece is taken at its first
    occurrence and never reconsidered. That is enough for ``*`` wildcards, and keeps the time
    linear in the text for any pattern (plain ``.*`` backtracks exponentially on ``*a*a*a*x``).
    """
    alternatives = []
    for pattern in patterns:
        first, *middle, last = pattern.split("*")
        steps = "".join(f"(?>.*?{re.escape(part)})" for part in middle if part)
        alternatives.append(f"{re.escape(first)}{steps}.*{re.escape(last)}")
    return re.compile("(?:" + "|".join(alternatives) + ")", re.S)


class TermTable:
    """The terms of one dimension: id -> value, and their case-insensitive groups.

    Values that differ only in case are one *group*: they match the same filter terms, sort
    together and are counted together in facets.
    """

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self.group_of: list[int] = [0]
        self.group_values: list[str | None] = [None]
        self._group_by_folded: dict[str, int] = {}
        self._folded: list[str] = [""]
        self._sorted: tuple[list[str], list[int]] = ([], [])

    @property
    def size(self) -> int:
        """How many ids there are, counting the 0 of "no value"."""
        return len(self.values)

    def add(self, term_id: int, value: str) -> None:
        """Records a term; ids arrive in increasing order from 1."""
        while len(self.values) < term_id:  # a gap (never written by this program)
            self.add(len(self.values), "")
        folded = value.casefold()
        group = self._group_by_folded.get(folded)
        if group is None:
            group = self._group_by_folded[folded] = len(self.group_values)
            self.group_values.append(value)
            self._folded.append(folded)
        self.values.append(value)
        self.group_of.append(group)

    def lookup(self, values: tuple[str, ...], size: int) -> BoolArray:
        """Which of the first ``size`` ids match any of ``values`` (``*`` a wildcard)."""
        groups = np.zeros(len(self.group_values), dtype=np.bool_)
        wildcards: list[str] = []
        for value in values:
            folded = value.casefold()
            if "*" not in folded:
                group = self._group_by_folded.get(folded)
                if group is not None:
                    groups[group] = True
            elif folded.index("*") == len(folded) - 1:
                groups[self._starting_with(folded[:-1])] = True
            else:
                wildcards.append(folded)
        # The other patterns are matched a batch at a time: one pass over the terms per batch.
        for start in range(0, len(wildcards), _WILDCARDS_PER_PASS):
            matches = wildcard_pattern(wildcards[start : start + _WILDCARDS_PER_PASS]).fullmatch
            hits = [group for group, text in enumerate(self._folded) if group and matches(text)]
            groups[np.asarray(hits, dtype=np.intp)] = True
        return groups[np.asarray(self.group_of[:size], dtype=np.intp)]

    def _starting_with(self, prefix: str) -> list[int]:
        """The groups whose folded value starts with ``prefix``, found in the sorted values."""
        texts, ids = self._sorted
        if len(texts) != len(self._folded) - 1:
            order = sorted(range(1, len(self._folded)), key=self._folded.__getitem__)
            texts, ids = self._sorted = ([self._folded[g] for g in order], order)
        found = []
        for index in range(bisect.bisect_left(texts, prefix), len(texts)):
            if not texts[index].startswith(prefix):
                break
            found.append(ids[index])
        return found

    def group_ids(self, size: int) -> Positions:
        """Each of the first ``size`` ids' group."""
        return np.asarray(self.group_of[:size], dtype=np.intp)

    def group_ranks(self) -> npt.NDArray[np.uint32]:
        """Each group's position in case-insensitive order; "no value" (group 0) last."""
        order = sorted(range(1, len(self._folded)), key=lambda g: (self._folded[g], g))
        ranks = np.empty(len(self._folded), dtype=np.uint32)
        ranks[np.asarray(order, dtype=np.intp)] = np.arange(len(order), dtype=np.uint32)
        ranks[0] = len(order)
        return ranks


@dataclass(frozen=True, eq=False)
class Columns:
    """The first ``size`` entries' columns, and what a query may say about them.

    ``max_source`` bounds the conflicts that count (those found by imports up to it).
    """

    size: int
    max_source: int
    seq: npt.NDArray[np.uint32]
    created: IntArray
    stored_flags: npt.NDArray[np.uint8]
    source: npt.NDArray[np.uint32]
    terms: dict[str, npt.NDArray[np.unsignedinteger[Any]]]
    term_sizes: dict[str, int]
    conflict_positions: IntArray
    conflict_sources: IntArray
    cache: ColumnCache
    _memo: dict[object, object] = field(default_factory=dict)
    _recent: OrderedDict[object, Any] = field(default_factory=OrderedDict)
    _orders: OrderedDict[object, Any] = field(default_factory=OrderedDict)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def last_seq(self) -> int:
        """The highest seq in the snapshot (0 when it is empty)."""
        return int(self.seq[-1]) if self.size else 0

    @property
    def dense(self) -> bool:
        """Whether entry seqs are exactly 1..size (position = seq - 1)."""
        return self.last_seq == self.size

    def positions_of(self, seqs: IntArray) -> Positions:
        """The positions of the given seqs that are in this snapshot."""
        seqs = np.asarray(seqs, dtype=np.int64)
        if self.dense:
            kept = seqs[(seqs >= 1) & (seqs <= self.size)]
            return (kept - 1).astype(np.intp)
        index = np.searchsorted(self.seq, seqs)
        index = np.clip(index, 0, max(self.size - 1, 0))
        return index[self.seq[index] == seqs].astype(np.intp) if self.size else index[:0]

    # --- filtering ---------------------------------------------------------------------------

    def lut(self, dimension: str, values: tuple[str, ...]) -> BoolArray:
        """Lookup table over a dimension's term ids: which ids match any of ``values``."""
        size = self.term_sizes[dimension]
        return self.cache.lookup(dimension, values, size)

    def _match(self, dimension: str, values: tuple[str, ...]) -> BoolArray:
        matched: BoolArray = self.lut(dimension, values)[self.terms[dimension]]
        return matched

    def _actor_match(self, values: tuple[str, ...]) -> BoolArray:
        # An email is a label, never an actor id.
        emails = tuple(v for v in values if "@" in v)
        others = tuple(v for v in values if "@" not in v)
        result = np.zeros(self.size, dtype=np.bool_)
        if emails:
            result |= self._match("actor", emails)
        if others:
            result |= self._match("actor", others)
            result |= self._match("actor_key", others)
        return result

    def has_time(self) -> BoolArray:
        """Entries with a time (all but quarantined ones)."""
        return self._memoized("has_time", lambda: self.created != NO_TIME)

    def conflicts(self) -> BoolArray:
        """Entries whose id arrived with more than one content (by imports up to max_source)."""

        def compute() -> BoolArray:
            mask = np.zeros(self.size, dtype=np.bool_)
            counted = self.conflict_sources <= self.max_source
            mask[self.conflict_positions[counted]] = True
            return mask

        return self._memoized("conflicts", compute)

    def unknown_actions(self) -> BoolArray:
        """Entries whose action the (current) reference does not list."""
        return self._memoized(
            "unknown",
            lambda: self.cache.unknown_lut(self.term_sizes["action"])[self.terms["action"]],
        )

    def anomalies(self) -> BoolArray:
        """Entries created before their action's first "logged since" date."""

        def compute() -> BoolArray:
            since = self.cache.since_lut(self.term_sizes["action"])
            early: BoolArray = self.created < since[self.terms["action"]]
            return early & self.has_time()

        return self._memoized("anomalies", compute)

    def past_retention(self, now: int) -> BoolArray:
        """Entries older than the service keeps them (one year before ``now``)."""
        limit = now - ActionReference.shared().retention_days * MICROS_PER_DAY
        return (self.created < limit) & self.has_time()

    def quarantined(self) -> BoolArray:
        """Entries kept with their raw text only."""
        return np.asarray((self.stored_flags & QUARANTINED.bit) != 0, dtype=np.bool_)

    def text_matches(self, phrase: str) -> BoolArray:
        """Entries whose text contains ``phrase`` (see :mod:`.fulltext`)."""
        seqs = self.cache.text_hits(phrase, self.last_seq)
        mask = np.zeros(self.size, dtype=np.bool_)
        mask[self.positions_of(seqs)] = True
        return mask

    def mask(self, flt: Filter) -> BoolArray | None:
        """Which entries ``flt`` lets through; None when it lets every entry through."""
        if flt.is_empty:
            return None
        if flt.has_review_terms:
            return self._review_mask(flt)
        key = ("mask", flt)
        cached = self._recently(key, self._recent)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        terms: list[BoolArray] = []
        negated: list[BoolArray] = []
        for values, negative, dimension in (
            (flt.actions, flt.not_actions, "action"),
            (flt.actor_types, flt.not_actor_types, "actor_type"),
            (flt.projects, flt.not_projects, "project"),
            (flt.entities, flt.not_entities, "entity_type"),
            (flt.entity_ids, flt.not_entity_ids, "entity_key"),
        ):
            if values:
                terms.append(self._match(dimension, values))
            if negative:
                negated.append(self._match(dimension, negative))
        if flt.actors:
            terms.append(self._actor_match(flt.actors))
        if flt.not_actors:
            negated.append(self._actor_match(flt.not_actors))
        if flt.after is not None:
            terms.append(self.created >= flt.after)
        if flt.before is not None:
            terms.append((self.created < flt.before) & self.has_time())
        for wanted, compute in (
            (flt.conflicts, self.conflicts),
            (flt.quarantined, self.quarantined),
            (flt.unknown_action, self.unknown_actions),
            (flt.anomalies, self.anomalies),
        ):
            if wanted is not None:
                (terms if wanted else negated).append(compute())
        if flt.sources:
            terms.append(np.isin(self.source, np.asarray(flt.sources, dtype=np.int64)))
        if flt.seqs:
            chosen = np.zeros(self.size, dtype=np.bool_)
            chosen[self.positions_of(np.asarray(flt.seqs, dtype=np.int64))] = True
            terms.append(chosen)
        result = np.ones(self.size, dtype=np.bool_)
        for term in terms:
            result &= term
        for term in negated:
            result &= ~term
        self._apply_text(result, flt)
        self._remember(key, result, self._recent, _RECENT_MASKS)
        return result

    def _review_mask(self, flt: Filter) -> BoolArray:
        """:meth:`mask` of a filter with review terms: the rest of it (kept as usual), narrowed
        by the marks as they are now (read afresh: marks change without new entries)."""
        rest = self.mask(flt.without_review_terms())
        result = np.ones(self.size, dtype=np.bool_) if rest is None else rest.copy()
        for seqs, wanted, inverted in self.cache.review_hits(flt):
            named = np.zeros(self.size, dtype=np.bool_)
            named[self.positions_of(seqs)] = True
            if inverted:
                named = ~named
            result &= named if wanted else ~named
        return result

    def _apply_text(self, result: BoolArray, flt: Filter) -> None:
        """Narrows ``result`` by the text terms, one search each, while any entry is left.

        The searches come last and stop once nothing is left, so a query of many words costs
        only as many searches as it takes to rule every entry out.
        """
        for phrase, wanted in (
            *((phrase, True) for phrase in dict.fromkeys(flt.text)),
            *((phrase, False) for phrase in dict.fromkeys(flt.not_text)),
        ):
            if not result.any():
                return
            found = self.text_matches(phrase)
            result &= found if wanted else ~found

    # --- ordering ----------------------------------------------------------------------------

    def flag_bits(
        self, positions: Positions | None = None, now: int | None = None
    ) -> npt.NDArray[np.uint8]:
        """The current flag bits of the entries at ``positions`` (all when None)."""
        now = now_micros() if now is None else now

        def take(values: BoolArray) -> BoolArray:
            return values if positions is None else values[positions]

        stored = self.stored_flags if positions is None else self.stored_flags[positions]
        bits = stored & np.uint8(QUARANTINED.bit | NAIVE_TIME.bit)
        for flag, values in (
            (CONFLICT, self.conflicts()),
            (UNKNOWN_ACTION, self.unknown_actions()),
            (ANOMALY, self.anomalies()),
        ):
            bits |= take(values).astype(np.uint8) * np.uint8(flag.bit)
        bits |= take(self.past_retention(now)).astype(np.uint8) * np.uint8(PAST_RETENTION.bit)
        return bits

    def _time_order(self) -> Positions:
        """Positions by (time, seq) ascending; entries without a time first."""
        return self._memoized(
            "order:time", lambda: np.argsort(self.created, kind="stable").astype(np.int32)
        )

    def _split_order(self, key: npt.NDArray[np.generic], nulls: int, descending: bool) -> Positions:
        """Positions ordered by ``key`` then (time, seq), both in the same direction.

        The ``nulls`` entries without a value carry the highest key, so they end the
        ascending order; descending, each part is reversed on its own to keep them last.
        """
        base = self._time_order()
        ordered = base[np.argsort(key[base], kind="stable")]
        if not descending:
            return ordered
        if not nulls:
            return ordered[::-1]
        split = self.size - nulls
        return np.concatenate((ordered[:split][::-1], ordered[split:][::-1]))

    def order(self, sort: Sort) -> Positions:
        """Every position in ``sort``'s order (cached per sort, and per marks for the review
        column: marks change without new entries)."""
        if sort.column == "review":
            version, seqs, ranks = self.cache.review_ranks()
            key: object = (sort, version)
            cached = self._recently(key, self._orders)
            if cached is None:
                cached = self._review_order(seqs, ranks, sort.descending)
                self._remember(key, cached, self._orders, _RECENT_ORDERS)
            return cached  # type: ignore[no-any-return]
        cached = self._recently(sort, self._orders)
        if cached is None:
            cached = self._compute_order(sort)
            self._remember(sort, cached, self._orders, _RECENT_ORDERS)
        return cached  # type: ignore[no-any-return]

    def _review_order(self, seqs: IntArray, ranks: IntArray, descending: bool) -> Positions:
        """Positions by current disposition (unreviewed, ok, flagged, follow-up), then time."""
        key = np.zeros(self.size, dtype=np.int8)
        # Entries are never removed: a marked seq up to the snapshot's last is in it.
        kept = seqs <= self.last_seq
        key[self.positions_of(seqs[kept])] = ranks[kept]
        return self._split_order(key, 0, descending)

    def _compute_order(self, sort: Sort) -> Positions:
        descending = sort.descending
        if sort.column == "seq":
            ordered = np.arange(self.size, dtype=np.int32)
            return ordered[::-1] if descending else ordered
        if sort.column == "time":
            # Entries without a time have the smallest key: they begin the time order.
            base = self._time_order()
            untimed = self.size - int(np.count_nonzero(self.has_time()))
            kept, last = base[untimed:], base[:untimed]
            if descending:
                kept, last = kept[::-1], last[::-1]
            return np.concatenate((kept, last))
        if sort.column == "flags":
            return self._split_order(self.flag_bits(), 0, descending)
        dimension = SORT_DIMENSIONS[sort.column]
        ids = self.terms[dimension.name]
        ranks = self.cache.ranks(dimension.name, self.term_sizes[dimension.name])
        rank_of = ranks[ids]
        return self._split_order(rank_of, int(np.count_nonzero(ids == 0)), descending)

    def ordered(self, mask: BoolArray | None, sort: Sort) -> Positions:
        """The positions ``mask`` lets through, in ``sort``'s order."""
        order = self.order(sort)
        if mask is None:
            return order
        return order[mask[order]]

    # --- aggregates --------------------------------------------------------------------------

    def selection(self, flt: Filter) -> Chosen | None:
        """What ``flt`` lets through, as index into the columns; None for every entry.

        A result holding at most half the entries is their positions, which aggregates gather
        from each column (one scan of the mask for all of them); a bigger one is the
        :class:`Complement` of the rest, counted and subtracted from the store-wide counts.
        """
        mask = self.mask(flt)
        if mask is None:
            return None
        if flt.has_review_terms:
            dense = np.count_nonzero(mask) * 2 > self.size
            return Complement(np.flatnonzero(~mask)) if dense else np.flatnonzero(mask)
        key = ("selection", flt)
        cached = self._recently(key, self._recent)
        if cached is None:
            dense = np.count_nonzero(mask) * 2 > self.size
            cached = Complement(np.flatnonzero(~mask)) if dense else np.flatnonzero(mask)
            self._remember(key, cached, self._recent, _RECENT_MASKS)
        return cached  # type: ignore[no-any-return]

    def facet(self, chosen: Chosen | None, dimension: str) -> list[tuple[str | None, int]]:
        """(value, count) of each case-insensitive group of a dimension among the entries at
        ``chosen`` (a :meth:`selection`; None: every entry)."""
        if chosen is None:  # the store-wide counts are asked again and again: kept
            return list(self._memoized(("facet", dimension), lambda: self._facet(None, dimension)))
        return self._facet(chosen, dimension)

    def _facet(self, chosen: Chosen | None, dimension: str) -> list[tuple[str | None, int]]:
        column = self.terms[dimension]
        size = self.term_sizes[dimension]
        everything = self._memoized(
            ("ids", dimension), lambda: np.bincount(column, minlength=size)[:size]
        )
        if chosen is None:
            per_id = everything
        elif isinstance(chosen, Complement):
            per_id = everything - np.bincount(column[chosen.positions], minlength=size)[:size]
        else:
            per_id = np.bincount(column[chosen], minlength=size)[:size]
        table = self.cache.term_table(dimension)
        groups = table.group_ids(size)
        per_group = np.bincount(groups, weights=per_id, minlength=int(groups.max(initial=0)) + 1)
        present = np.flatnonzero(per_group)
        return [(table.group_values[g], int(per_group[g])) for g in present]

    def histogram(self, chosen: Chosen | None, width: int) -> list[tuple[int, int]]:
        """(bin start, count) of the entries at ``chosen`` that have a time, per ``width``
        microseconds (``chosen``: a :meth:`selection`; None: every entry)."""
        if chosen is None:
            return list(self._memoized(("histogram", width), lambda: self._histogram(None, width)))
        return self._histogram(chosen, width)

    def _histogram(self, chosen: Chosen | None, width: int) -> list[tuple[int, int]]:
        whole = self._memoized(("bins", width), lambda: self._bins(self.created, width))
        if whole is None:  # times spread too far for one count per bin (absurd dates)
            return self._sparse_histogram(chosen, width)
        low, everything = whole
        if chosen is None:
            counts = everything
        elif isinstance(chosen, Complement):
            left_out = self._bins(self.created[chosen.positions], width, low, len(everything))
            counts = everything - (left_out[1] if left_out else 0)
        else:
            mine = self._bins(self.created[chosen], width, low, len(everything))
            counts = mine[1] if mine else everything[:0]
        present = np.flatnonzero(counts)
        return [((low + int(b)) * width, int(counts[b])) for b in present]

    def _sparse_histogram(self, chosen: Chosen | None, width: int) -> list[tuple[int, int]]:
        if isinstance(chosen, Complement):
            keep = np.ones(self.size, dtype=np.bool_)
            keep[chosen.positions] = False
            created = self.created[keep]
        else:
            created = self.created if chosen is None else self.created[chosen]
        bins = created[created != NO_TIME] // width
        starts, counts = np.unique(bins, return_counts=True)
        return [(int(s) * width, int(c)) for s, c in zip(starts, counts, strict=True)]

    @staticmethod
    def _bins(
        created: IntArray, width: int, low: int | None = None, span: int | None = None
    ) -> tuple[int, IntArray] | None:
        """(first bin, counts per bin) of the times in ``created`` (entries without one left
        out); ``low`` and ``span`` fix the bins, to subtract one count from another. None when
        the times span more bins than a dense count should hold."""
        bins = created[created != NO_TIME] // width
        if low is None:
            low = int(bins.min()) if bins.size else 0
        if span is None:
            span = int(bins.max()) - low + 1 if bins.size else 0
            if span > _MAX_HISTOGRAM_BINS:
                return None
        return low, np.bincount(bins - low, minlength=span)

    def _recently(self, key: object, kept: OrderedDict[object, Any]) -> Any:
        with self._recent_lock:
            value = kept.get(key)
            if value is not None:
                kept.move_to_end(key)
            return value

    def _remember(
        self, key: object, value: object, kept: OrderedDict[object, Any], limit: int
    ) -> None:
        with self._recent_lock:
            kept[key] = value
            while len(kept) > limit:
                kept.popitem(last=False)

    def _memoized(self, key: object, compute: Callable[[], _T]) -> _T:
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = compute()
        return value  # type: ignore[return-value]


class ColumnCache:
    """The columns of one store, extended as the store grows. Thread-safe."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        """Forgets everything loaded (a new cache, or the store file was replaced)."""
        self._size = 0
        self._capacity = 0
        self._arrays: dict[str, npt.NDArray[np.generic]] = {}
        self._seq: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)
        self._conflict_positions: IntArray = np.zeros(0, dtype=np.int64)
        self._conflict_sources: IntArray = np.zeros(0, dtype=np.int64)
        self._conflict_keys = -1
        self._max_source = 0
        self._tables: dict[str, TermTable] = {d.name: TermTable() for d in DIMENSIONS}
        self._luts: OrderedDict[object, BoolArray] = OrderedDict()
        self._ranks: dict[str, tuple[int, npt.NDArray[np.unsignedinteger[Any]]]] = {}
        self._texts: OrderedDict[object, IntArray] = OrderedDict()
        self._snapshot: Columns | None = None
        for name, dtype in COLUMNS:
            self._arrays[name] = np.zeros(0, dtype=dtype)

    # --- loading -----------------------------------------------------------------------------

    def snapshot(self) -> Columns:
        """The columns as the store holds them now (refreshed from the store)."""
        with self._lock, self._store.snapshot() as connection:
            changed = self._refresh(connection)
            if changed or self._snapshot is None:
                self._snapshot = self._make_snapshot()
            return self._snapshot

    def _make_snapshot(self) -> Columns:
        n = self._size
        return Columns(
            size=n,
            max_source=self._max_source,
            seq=self._seq[:n],
            created=self._arrays["created"][:n],  # type: ignore[arg-type]
            stored_flags=self._arrays["flags"][:n],  # type: ignore[arg-type]
            source=self._arrays["source"][:n],  # type: ignore[arg-type]
            terms={d.name: self._arrays[d.name][:n] for d in DIMENSIONS},  # type: ignore[misc]
            term_sizes={name: table.size for name, table in self._tables.items()},
            conflict_positions=self._conflict_positions,
            conflict_sources=self._conflict_sources,
            cache=self,
        )

    def _refresh(self, connection: sqlite3.Connection) -> bool:
        head = connection.execute(
            "SELECT (SELECT max(seq) FROM entries), (SELECT max(id) FROM sources), "
            "(SELECT count(*) FROM conflict_keys)"
        ).fetchone()
        last_seq, max_source, conflict_keys = int(head[0] or 0), int(head[1] or 0), int(head[2])
        loaded_last = int(self._seq[self._size - 1]) if self._size else 0
        if last_seq < loaded_last:
            self._clear()  # the file was replaced: start again
            loaded_last = 0
        changed = False
        if last_seq > loaded_last:
            self._load_terms(connection)
            self._fit_types()
            self._load_entries(connection, loaded_last)
            changed = True
        if conflict_keys != self._conflict_keys or changed:
            self._load_conflicts(connection)
            self._conflict_keys = conflict_keys
            changed = True
        if max_source != self._max_source:
            self._max_source = max_source
            changed = True
        return changed

    def _load_terms(self, connection: sqlite3.Connection) -> None:
        for name, table in self._tables.items():
            for term_id, value in connection.execute(
                "SELECT id, value FROM terms WHERE dimension = ? AND id >= ? ORDER BY id",
                (name, table.size),
            ):
                table.add(int(term_id), value)

    def _load_entries(self, connection: sqlite3.Connection, after_seq: int) -> None:
        # One block at a time: a block's blob is copied into the arrays and let go.
        (blocked,) = connection.execute(
            "SELECT coalesce(sum(count), 0) FROM column_blocks WHERE first_seq > ?", (after_seq,)
        ).fetchone()
        self._reserve(self._size + int(blocked))
        next_seq = after_seq + 1
        for first_seq, count, blob in connection.execute(
            "SELECT first_seq, count, data FROM column_blocks WHERE first_seq > ? "
            "ORDER BY first_seq",
            (after_seq,),
        ):
            if first_seq != next_seq:
                break  # a hole in the blocks: read the rest from the rows
            self._append(
                np.arange(first_seq, first_seq + count, dtype=np.int64), decode(blob, count)
            )
            next_seq = first_seq + count
        for chunk in narrow_rows(connection, next_seq - 1):
            seqs = np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk))
            self._append(seqs, arrays_from_rows(chunk))

    def _append(self, seqs: IntArray, arrays: Arrays) -> None:
        at = self._size
        end = at + len(seqs)
        self._reserve(end)
        self._seq[at:end] = seqs
        for name, _ in COLUMNS:
            # Term ids fit the column's (possibly narrower) type: see _fit_types.
            self._arrays[name][at:end] = arrays[name]
        self._size = end

    def _column_type(self, name: str, stored: np.dtype[np.generic]) -> np.dtype[np.generic]:
        """A term column in the narrowest unsigned type its ids (with room to grow) fit."""
        table = self._tables.get(name)
        if table is None:
            return stored
        return np.dtype(np.min_scalar_type(max(2 * table.size, 255)))

    def _fit_types(self) -> None:
        """Widens a term column whose dictionary has outgrown its type (ids only grow)."""
        for name, stored in COLUMNS:
            table = self._tables.get(name)
            array = self._arrays[name]
            if table is not None and table.size - 1 > np.iinfo(array.dtype).max:  # type: ignore[type-var]
                self._arrays[name] = array.astype(self._column_type(name, stored))

    def _reserve(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, int(self._capacity * 1.5), 1024)
        n = self._size

        def grown(old: npt.NDArray[np.generic], dtype: np.dtype[np.generic]) -> Any:
            new = np.zeros(capacity, dtype=dtype)
            if n:
                new[:n] = old[:n]
            return new

        self._seq = grown(self._seq, np.dtype(np.uint32))
        for name, stored in COLUMNS:
            old = self._arrays[name]
            wanted = self._column_type(name, stored) if n == 0 else old.dtype
            self._arrays[name] = grown(old, wanted)
        self._capacity = capacity

    def _load_conflicts(self, connection: sqlite3.Connection) -> None:
        positions = np.zeros(0, dtype=np.int64)
        sources = np.zeros(0, dtype=np.int64)
        rows = connection.execute(
            # CROSS JOIN keeps this order: the few conflict keys, each looked up by key.
            "SELECT x.seq, c.first_source_id FROM conflict_keys AS c "
            "CROSS JOIN entry_texts AS x ON x.entry_key = c.entry_key"
        ).fetchall()
        if rows and self._size:
            seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            firsts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
            seq_view = self._seq[: self._size]
            index = np.clip(np.searchsorted(seq_view, seqs), 0, self._size - 1)
            found = seq_view[index] == seqs
            positions, sources = index[found].astype(np.int64), firsts[found]
        # Conflicts are few: kept as (position, source that found it) pairs.
        self._conflict_positions = positions
        self._conflict_sources = sources

    # --- per-term tables ---------------------------------------------------------------------

    def term_table(self, dimension: str) -> TermTable:
        """The terms of a dimension (grows; index only below a snapshot's term size)."""
        return self._tables[dimension]

    def lookup(self, dimension: str, values: tuple[str, ...], size: int) -> BoolArray:
        """Cached :meth:`TermTable.lookup`."""
        key = (dimension, values, size)
        with self._lock:
            cached = self._luts.get(key)
            if cached is None:
                cached = self._tables[dimension].lookup(values, size)
                self._luts[key] = cached
                if len(self._luts) > _LUT_CACHE_SIZE:
                    self._luts.popitem(last=False)
            else:
                self._luts.move_to_end(key)
            return cached

    def ranks(self, dimension: str, size: int) -> npt.NDArray[np.unsignedinteger[Any]]:
        """Each of the first ``size`` term ids' case-insensitive sort rank; id 0 last.

        In the narrowest unsigned type that holds them: numpy's stable sort is a radix sort
        for 8- and 16-bit keys, several times faster than the merge sort of wider ones.
        """
        with self._lock:
            known = self._ranks.get(dimension)
            table = self._tables[dimension]
            if known is None or known[0] != table.size:
                ranks = table.group_ranks()[table.group_ids(table.size)]
                narrow = np.min_scalar_type(int(ranks.max(initial=0)))
                known = (table.size, ranks.astype(narrow))
                self._ranks[dimension] = known
            return known[1][:size]

    def unknown_lut(self, size: int) -> BoolArray:
        """Per action term id: the current reference does not list the action."""
        reference = ActionReference.shared()
        values = self._tables["action"].values[:size]
        return np.fromiter(
            (v is not None and not reference.is_known(v) for v in values),
            dtype=np.bool_,
            count=size,
        )

    def since_lut(self, size: int) -> IntArray:
        """Per action term id: the action's first "logged since" time (or the smallest time)."""
        reference = ActionReference.shared()
        values = self._tables["action"].values[:size]
        lowest = int(np.iinfo(np.int64).min)
        return np.fromiter(
            (
                (reference.first_logged_micros(v) or lowest) if v is not None else lowest
                for v in values
            ),
            dtype=np.int64,
            count=size,
        )

    def review_ranks(self) -> tuple[int, IntArray, IntArray]:
        """The marks' version and each marked entry's disposition rank, read afresh."""
        with self._store.snapshot() as connection:
            version = review_terms.marks_version(connection)
            seqs, ranks = review_terms.disposition_ranks(connection)
        return version, seqs, ranks

    def review_hits(self, flt: Filter) -> list[tuple[IntArray, bool, bool]]:
        """The review terms of ``flt`` as the marks are now (see :mod:`.review_terms`)."""
        with self._store.snapshot() as connection:
            return review_terms.review_terms(connection, flt, wildcard_pattern)

    def text_hits(self, phrase: str, last_seq: int) -> IntArray:
        """The seqs up to ``last_seq`` whose text contains ``phrase`` (cached)."""
        key = (phrase, last_seq)
        with self._lock:
            cached = self._texts.get(key)
            if cached is not None:
                self._texts.move_to_end(key)
                return cached
        with self._store.snapshot() as connection:
            fulltext.prepare_connection(connection)
            hits = fulltext.matching_seqs(connection, phrase, last_seq)
        with self._lock:
            self._texts[key] = hits
            if len(self._texts) > _TEXT_CACHE_SIZE:
                self._texts.popitem(last=False)
        return hits


_CACHES: weakref.WeakKeyDictionary[Store, ColumnCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def column_cache(store: Store) -> ColumnCache:
    """The column cache of an open store (one per :class:`Store` object)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = ColumnCache(store)
        return cache


def preload(store: Store) -> threading.Thread:
    """Starts loading the store's column cache in a background thread.

    The first query waits for it instead of loading it itself; an error is left for that query
    to raise, where its caller reports it.
    """

    def load() -> None:
        try:
            column_cache(store).snapshot()
        except Exception:  # the caller's own query raises it again, with its context
            log.debug("preloading the column cache failed", exc_info=True)

    thread = threading.Thread(target=load, name="column-cache", daemon=True)
    thread.start()
    return thread


def columns(store: Store) -> Columns:
    """A snapshot of the store's columns as they are now."""
    return column_cache(store).snapshot()


__all__ = ["DIMENSION_BY_NAME", "ColumnCache", "Columns", "column_cache", "columns"]
