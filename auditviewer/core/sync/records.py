"""The plain records a sync hands out: progress while it runs, its report, a scope's status."""

from __future__ import annotations

from dataclasses import dataclass

from auditviewer.core.records import Counts


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncProgress(Counts):
    """Where a sync run is.

    ``phase``: ``fetching`` (a request for ``page`` is about to go out), ``waiting`` (a retry or
    a rate-limit wait; ``message`` says why and how long), ``fetched`` (the page arrived and is
    valid, not yet stored), ``stored`` (the page and the bookmark are committed), ``done``.
    Counts are for this run so far.
    """

    phase: str
    page: int
    pages: int
    page_count: int | None
    retries: int
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport(Counts):
    """What a sync run stored: the counts of an import's report (``parsed`` = ``imported`` +
    duplicates + conflicts + quarantined).

    ``accepted``: the server answered at least one page with the token, which is when a typed
    token may be kept.
    """

    source_id: int | None
    location: str
    pages: int
    retries: int
    rate_limited: int
    passes: int
    resumed: bool
    complete: bool
    seconds: float
    accepted: bool = False


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The bookmark of one scope, for display ("last synced ...")."""

    last_success_utc: int | None
    complete_through_utc: int | None
    in_progress: bool
    resume_offset: int | None
