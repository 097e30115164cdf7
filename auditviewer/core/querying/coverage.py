"""What the archive holds and where it has holes: the coverage report.

- per source (an imported file or a sync run): its time span and counts;
- gaps: stretches longer than a threshold with no entry at all, with their dates;
- overlaps between sources: where two sources' spans meet, and how many entries of the
  earlier one the later one re-delivered (shared entries prove there is no hole between them).
  The store counts them per pair of sources (:mod:`..store.schema_shared`); for a source
  imported before it did, only its total of re-delivered entries is known, and the overlap
  says its count is not exact;
- the months of the last twelve that hold entries (retention rules ask for twelve);
- the retention horizon: the service keeps entries for one year, so the entries newer than the
  archive's newest exist only on the service, and the oldest of them disappears one year after
  that newest entry. When that comes before the next expected sync, the report says by when to
  sync or download and how many days of entries would be lost.

``now`` is a parameter, so that the report can be computed for a fixed moment.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np

from auditviewer.core.records import now_micros
from auditviewer.core.store.connection import Store
from auditviewer.core.store.schema_shared import shared_counted_from
from auditviewer.core.timestamps import iso_utc
from auditviewer.core.wording import counted

DAY: Final = 86_400 * 1_000_000
DEFAULT_GAP: Final = DAY
# The service keeps audit-log entries for one year (the vendor's documentation).
SERVICE_RETENTION: Final = 365 * DAY
# When the store's history does not say how often it is synced.
DEFAULT_SYNC_INTERVAL: Final = 30 * DAY
MONTHS_WANTED: Final = 12


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """One import or sync run: the span of the entries it delivered and its counts."""

    id: int
    kind: str
    location: str
    finished_utc: int | None
    first_utc: int | None
    last_utc: int | None
    parsed: int
    stored: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no entries between two consecutive entries ``after_utc``/``before_utc``."""

    after_utc: int
    before_utc: int

    @property
    def days(self) -> float:
        """The gap's length in days."""
        return (self.before_utc - self.after_utc) / DAY


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two sources whose spans meet; ``shared`` entries of the later one were already stored."""

    earlier: int
    later: int
    start_utc: int
    end_utc: int
    earlier_entries_within: int
    shared: int
    # Whether ``shared`` counts the earlier source's entries alone (False: every entry the
    # later source re-delivered, from any source; it was imported before they were counted).
    shared_exact: bool = True

    @property
    def continuity_proven(self) -> bool:
        """Whether the later source re-delivered the earlier one's entries: nothing fell
        between them. Never claimed from an inexact count."""
        return self.shared_exact and self.shared > 0 and self.earlier_entries_within > 0

    def proof(self) -> str:
        """What the shared entries say of the two sources' continuity, in words."""
        if self.continuity_proven:
            return (
                f"continuity proven: #{self.later} re-delivered "
                f"{counted(self.shared, 'entry')} of #{self.earlier}"
            )
        if self.shared and not self.shared_exact:
            return (
                f"continuity not proven: #{self.later} re-delivered "
                f"{counted(self.shared, 'entry')} already held, from sources not recorded "
                "(it was imported before the store counted them per source)"
            )
        return "no shared entries: continuity not proven"


@dataclass(frozen=True, slots=True)
class RetentionWarning:
    """Entries only on the service that expire before the next expected sync."""

    deadline_utc: int
    next_sync_utc: int
    days_lost: int
    already_expired: bool

    def __str__(self) -> str:
        date = iso_utc(self.deadline_utc)[:10]
        days = f"{self.days_lost} day{'s' if self.days_lost != 1 else ''} of entries"
        if self.already_expired:
            return (
                f"entries after the newest one stored began to expire on the service on {date}; "
                f"{days} may already be lost; sync or download now"
            )
        return f"sync or download before {date} or lose {days}"


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """The whole report (see the module docstring)."""

    now_utc: int
    gap_threshold: int
    entries: int
    first_utc: int | None
    last_utc: int | None
    sources: tuple[SourceCoverage, ...]
    gaps: tuple[Gap, ...]
    overlaps: tuple[Overlap, ...]
    # (YYYY-MM, entries) for each of the last twelve months, oldest first.
    months: tuple[tuple[str, int], ...]
    next_sync_utc: int
    retention: RetentionWarning | None
    undated: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def months_covered(self) -> int:
        """How many of the last twelve months hold entries."""
        return sum(1 for _, count in self.months if count)

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON values (times as ISO 8601)."""
        return {
            "now": iso_utc(self.now_utc),
            "entries": self.entries,
            "undated_entries": self.undated,
            "first": iso_utc(self.first_utc) or None,
            "last": iso_utc(self.last_utc) or None,
            "sources": [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "location": s.location,
                    "finished": iso_utc(s.finished_utc) or None,
                    "first": iso_utc(s.first_utc) or None,
                    "last": iso_utc(s.last_utc) or None,
                    "parsed": s.parsed,
                    "stored": s.stored,
                    "duplicates": s.duplicates,
                }
                for s in self.sources
            ],
            "gap_threshold_days": self.gap_threshold / DAY,
            "gaps": [
                {"after": iso_utc(g.after_utc), "before": iso_utc(g.before_utc), "days": g.days}
                for g in self.gaps
            ],
            "overlaps": [
                {
                    "earlier_source": o.earlier,
                    "later_source": o.later,
                    "from": iso_utc(o.start_utc),
                    "to": iso_utc(o.end_utc),
                    "earlier_entries_within": o.earlier_entries_within,
                    "shared_entries": o.shared,
                    "shared_entries_exact": o.shared_exact,
                    "continuity_proven": o.continuity_proven,
                }
                for o in self.overlaps
            ],
            "months": [{"month": month, "entries": count} for month, count in self.months],
            "months_covered": self.months_covered,
            "next_expected_sync": iso_utc(self.next_sync_utc),
            "retention_warning": None if self.retention is None else str(self.retention),
            "retention_deadline": None
            if self.retention is None
            else iso_utc(self.retention.deadline_utc),
        }


def coverage(
    store: Store,
    *,
    gap: int = DEFAULT_GAP,
    now: int | None = None,
    sync_interval: int | None = None,
) -> CoverageReport:
    """The coverage report of ``store`` at ``now`` (microseconds; default: the current time).

    ``gap`` is the shortest stretch without entries that counts as a gap; ``sync_interval``
    how often the archive is synced or downloaded (default: the median time between its last
    imports and sync runs, else 30 days).
    """
    moment = now_micros() if now is None else now
    with store.snapshot() as connection:
        pairs = np.array(
            connection.execute("SELECT source_id, created_utc FROM entries").fetchall(),
            dtype=np.float64,
        ).reshape(-1, 2)
        by_source = connection.execute(
            "SELECT source_id, count(*), min(created_utc), max(created_utc) FROM entries "
            "GROUP BY source_id"
        ).fetchall()
        rows = connection.execute(
            "SELECT id, kind, location, finished_utc, first_created_utc, last_created_utc, "
            "parsed, duplicates FROM sources ORDER BY id"
        ).fetchall()
        counted_from = shared_counted_from(connection)
        shared_rows = (
            connection.execute(
                "SELECT source_id, earlier_source_id, entries FROM source_shared"
            ).fetchall()
            if counted_from is not None
            else []
        )
    total = len(pairs)
    has_time = ~np.isnan(pairs[:, 1])
    dated = np.sort(pairs[has_time, 1]).astype(np.int64)
    per_source = {
        int(source): np.sort(pairs[has_time & (pairs[:, 0] == source), 1]).astype(np.int64)
        for source in np.unique(pairs[:, 0])
    }
    stored = {int(r[0]): (int(r[1]), r[2], r[3]) for r in by_source}
    sources = tuple(_source(row, stored) for row in rows)
    gaps = _gaps(dated, gap)
    shared = _SharedCounts(
        {(int(later), int(earlier)): int(count) for later, earlier, count in shared_rows},
        counted_from,
    )
    overlaps = _overlaps(sources, per_source, shared)
    next_sync = moment + (sync_interval if sync_interval is not None else _interval(sources))
    last = int(dated[-1]) if len(dated) else None
    return CoverageReport(
        now_utc=moment,
        gap_threshold=gap,
        entries=total,
        first_utc=int(dated[0]) if len(dated) else None,
        last_utc=last,
        sources=sources,
        gaps=gaps,
        overlaps=overlaps,
        months=_months(dated, moment),
        next_sync_utc=next_sync,
        retention=_retention(last, moment, next_sync),
        undated=total - len(dated),
    )


def _source(row: tuple[Any, ...], stored: dict[int, tuple[int, Any, Any]]) -> SourceCoverage:
    count, first, last = stored.get(int(row[0]), (0, None, None))
    return SourceCoverage(
        id=int(row[0]),
        kind=str(row[1]),
        location=str(row[2]),
        finished_utc=row[3],
        first_utc=row[4] if row[4] is not None else first,
        last_utc=row[5] if row[5] is not None else last,
        parsed=int(row[6]),
        stored=count,
        duplicates=int(row[7]),
    )


def _gaps(dated: np.ndarray[Any, np.dtype[np.int64]], threshold: int) -> tuple[Gap, ...]:
    if len(dated) < 2:
        return ()
    steps = np.diff(dated)
    where = np.nonzero(steps > threshold)[0]
    return tuple(Gap(int(dated[i]), int(dated[i + 1])) for i in where)


@dataclass(frozen=True, slots=True)
class _SharedCounts:
    """The shared entries the store counted: (later, earlier) -> entries, from a source on."""

    pairs: dict[tuple[int, int], int]
    counted_from: int | None

    def between(self, later: SourceCoverage, earlier: SourceCoverage) -> tuple[int, bool]:
        """The entries of ``earlier`` that ``later`` re-delivered, and whether that is exact
        (else it is all ``later`` re-delivered, from any source)."""
        if self.counted_from is not None and later.id >= self.counted_from:
            return self.pairs.get((later.id, earlier.id), 0), True
        return later.duplicates, False


def _overlaps(
    sources: tuple[SourceCoverage, ...],
    per_source: dict[int, np.ndarray[Any, np.dtype[np.int64]]],
    shared: _SharedCounts,
) -> tuple[Overlap, ...]:
    """Pairs of sources whose spans meet, with the entries of the earlier one the later one
    re-delivered (see :class:`_SharedCounts`)."""
    found = []
    spanned = [s for s in sources if s.first_utc is not None and s.last_utc is not None]
    for later_index, later in enumerate(spanned):
        for earlier in spanned[:later_index]:
            assert earlier.first_utc is not None
            assert earlier.last_utc is not None
            assert later.first_utc is not None
            assert later.last_utc is not None
            start = max(earlier.first_utc, later.first_utc)
            end = min(earlier.last_utc, later.last_utc)
            if start > end:
                continue
            count, exact = shared.between(later, earlier)
            found.append(
                Overlap(
                    earlier=earlier.id,
                    later=later.id,
                    start_utc=start,
                    end_utc=end,
                    earlier_entries_within=_within(per_source.get(earlier.id), start, end),
                    shared=count,
                    shared_exact=exact,
                )
            )
    return tuple(found)


def _within(times: np.ndarray[Any, np.dtype[np.int64]] | None, start: int, end: int) -> int:
    """How many of a source's stored entries (sorted times) lie within ``start..end``."""
    if times is None:
        return 0
    return int(np.searchsorted(times, end, side="right") - np.searchsorted(times, start))


def _interval(sources: tuple[SourceCoverage, ...]) -> int:
    finished = sorted(s.finished_utc for s in sources if s.finished_utc is not None)
    steps = [b - a for a, b in itertools.pairwise(finished) if b - a > DAY // 24]
    if not steps:
        return DEFAULT_SYNC_INTERVAL
    return int(statistics.median(steps[-6:]))


def _months(dated: np.ndarray[Any, np.dtype[np.int64]], moment: int) -> tuple[tuple[str, int], ...]:
    now = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=moment)
    keys = []
    year, month = now.year, now.month
    for _ in range(MONTHS_WANTED):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    if len(dated):
        stamps = dated.astype("datetime64[us]").astype("datetime64[M]").astype(str)
        labels, counts = np.unique(stamps, return_counts=True)
        per_month = {str(label): int(count) for label, count in zip(labels, counts, strict=True)}
    else:
        per_month = {}
    return tuple((key, per_month.get(key, 0)) for key in keys)


def _retention(last: int | None, moment: int, next_sync: int) -> RetentionWarning | None:
    """The warning for the entries newer than ``last`` that live only on the service."""
    if last is None:
        return None
    deadline = last + SERVICE_RETENTION
    if deadline >= next_sync:
        return None
    lost_until = min(next_sync, moment) if deadline <= moment else next_sync
    days = max(1, math.ceil((lost_until - deadline) / DAY))
    return RetentionWarning(
        deadline_utc=deadline,
        next_sync_utc=next_sync,
        days_lost=days,
        already_expired=deadline <= moment,
    )
