"""Incremental, resumable sync of the audit log into the store.

How a run works
---------------
The API pages the log newest first with page numbers. A *crawl* walks it from the head
(page 1) downwards. Each page is committed in one transaction together with the bookmark
(``meta`` key :attr:`SyncConfig.state_key`), so the store always holds whole pages and a
bookmark that says exactly how far they go.

* **Bookmark.** ``complete_through`` is the creation time of the newest entry at the start of
  the last *completed* crawl: everything at or below it was fetched. ``crawl`` is the crawl in
  progress: ``offset`` (entries already walked from the head), ``head`` (its newest entry's time)
  and how far it has got into the already-synced region.
* **Incremental.** A crawl stops once it reaches entries at or below ``complete_through`` and
  has read ``overlap`` entries past that point (to pick up entries committed late, whose time is
  older than the head of the previous crawl), or at the end of the log.
* **Resume.** A killed or cancelled run leaves ``crawl`` in the bookmark; the next run continues
  from its offset. Entries are only ever added at the head of the log, so an entry not yet walked
  is never at a smaller offset than before: continuing from the offset cannot skip one (it can
  re-read a few, which deduplicate by id + content hash).
* **Entries arriving during a sync** land at the head, above what the crawl has seen. When a
  crawl stored anything new and the server's ``total_count`` grew while it ran (or the server
  gives no total), another crawl starts from page 1 and stops at the previous head plus the
  overlap; this repeats (at most ``max_passes``) until a crawl finds nothing new.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from auditviewer.core.errors import StoreError
from auditviewer.core.reading.prepared import prepare_entry
from auditviewer.core.records import CancelToken, now_micros
from auditviewer.core.store.connection import Store
from auditviewer.core.store.entry_writer import (
    EntryWriter,
    WriteCounts,
    begin_source,
    record_counts,
)
from auditviewer.core.sync.client import AuditLogClient, Sleep
from auditviewer.core.sync.config import SyncConfig
from auditviewer.core.sync.errors import (
    SyncError,
    SyncMalformedPage,
    SyncStateConflict,
    SyncStoreFailed,
)
from auditviewer.core.sync.network import ProxyChoice
from auditviewer.core.sync.page import Page
from auditviewer.core.sync.records import SyncProgress, SyncReport, SyncStatus

STATE_VERSION = 1
# A server that ignores the page parameter would hand back the same page for ever.
_MAX_SAME_PAGE = 2


ProgressCallback = Callable[[SyncProgress], None]


@dataclass
class _Crawl:
    id: str
    offset: int = 0
    head: int | None = None
    reached: bool = False
    overlap_seen: int = 0
    started_utc: int = 0
    first_total: int | None = None


@dataclass
class _State:
    complete_through: int | None = None
    last_success_utc: int | None = None
    crawl: _Crawl | None = None

    def to_json(self) -> str:
        crawl = None
        if self.crawl is not None:
            crawl = {f.name: getattr(self.crawl, f.name) for f in fields(_Crawl)}
        return json.dumps(
            {
                "version": STATE_VERSION,
                "complete_through": self.complete_through,
                "last_success_utc": self.last_success_utc,
                "crawl": crawl,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> _State:
        if text is None:
            return cls()
        try:
            raw = json.loads(text)
            if raw.get("version") != STATE_VERSION:
                raise ValueError("version")
            crawl_raw = raw.get("crawl")
            crawl = None
            if crawl_raw is not None:
                crawl = _Crawl(
                    id=str(crawl_raw["id"]),
                    offset=_int(crawl_raw["offset"]) or 0,
                    head=_int(crawl_raw.get("head")),
                    reached=bool(crawl_raw.get("reached")),
                    overlap_seen=_int(crawl_raw.get("overlap_seen")) or 0,
                    started_utc=_int(crawl_raw.get("started_utc")) or 0,
                    first_total=_int(crawl_raw.get("first_total")),
                )
            return cls(
                complete_through=_int(raw.get("complete_through")),
                last_success_utc=_int(raw.get("last_success_utc")),
                crawl=crawl,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            # An unreadable bookmark only costs a full re-read, which deduplicates.
            return cls()


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _read_state(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def sync_status(store: Store, config: SyncConfig) -> SyncStatus:
    """The bookmark of ``config``'s scope in ``store``."""
    with store.raw() as connection:
        state = _State.from_json(_read_state(connection, config.validated().state_key))
    return SyncStatus(
        last_success_utc=state.last_success_utc,
        complete_through_utc=state.complete_through,
        in_progress=state.crawl is not None,
        resume_offset=None if state.crawl is None else state.crawl.offset,
    )


def check_connection(
    config: SyncConfig,
    token: str,
    *,
    cancel: CancelToken | None = None,
    proxy: ProxyChoice | None = None,
) -> int | None:
    """Fetches one entry to check the URL, organization and token; returns the total count.

    Raises the same errors as :func:`sync`; retries are limited to one.
    """
    from dataclasses import replace

    quick = replace(config, max_retries=min(config.max_retries, 1), max_rate_limited=1)
    with AuditLogClient(quick, token, cancel=cancel, proxy=proxy) as client:
        page = client.fetch_page(1, 1)
    return page.total_count


def _add_counts(total: WriteCounts, part: WriteCounts) -> WriteCounts:
    firsts = [v for v in (total.first_created, part.first_created) if v is not None]
    lasts = [v for v in (total.last_created, part.last_created) if v is not None]
    return WriteCounts(
        parsed=total.parsed + part.parsed,
        imported=total.imported + part.imported,
        duplicates=total.duplicates + part.duplicates,
        conflicts=total.conflicts + part.conflicts,
        quarantined=total.quarantined + part.quarantined,
        naive_times=total.naive_times + part.naive_times,
        first_created=min(firsts) if firsts else None,
        last_created=max(lasts) if lasts else None,
        quarantine=(total.quarantine + part.quarantine)[:1000],
    )


def _stored(counts: WriteCounts) -> int:
    return counts.imported + counts.conflicts + counts.quarantined


@dataclass
class _Run:
    store: Store
    config: SyncConfig
    progress: ProgressCallback | None
    started: float = field(default_factory=time.perf_counter)
    counts: WriteCounts = field(default_factory=WriteCounts)
    source_id: int | None = None
    pages: int = 0
    passes: int = 0
    resumed: bool = False
    complete: bool = False
    accepted: bool = False
    client: AuditLogClient | None = None
    _saved: str | None = None
    _last_page_digest: bytes = b""
    _same_page: int = 0
    _page: int = 0
    _page_count: int | None = None
    _log_grew: bool = True

    # --- the loop -----------------------------------------------------------------------------

    def execute(self, client: AuditLogClient) -> SyncReport:
        self.client = client
        key = self.config.state_key
        with self.store.raw() as connection:
            self._saved = _read_state(connection, key)
        state = _State.from_json(self._saved)
        self.resumed = state.crawl is not None
        per_page = self.config.per_page
        per_page_adopted = False
        while True:
            if state.crawl is None:
                state.crawl = _Crawl(id=secrets.token_hex(8), started_utc=now_micros())
            self.passes += 1
            stored_before = _stored(self.counts)
            self._last_page_digest, self._same_page = b"", 0
            while state.crawl is not None:
                crawl = state.crawl
                page_no = crawl.offset // per_page + 1
                skip = crawl.offset - (page_no - 1) * per_page
                self._page = page_no
                self._emit("fetching")
                page = client.fetch_page(page_no, per_page)
                if page.page is not None and page.page != page_no:
                    raise SyncMalformedPage(
                        page_no, f"the server answered with page {page.page} instead"
                    )
                if page.per_page is not None and page.per_page != per_page:
                    if per_page_adopted or page.per_page < 1:
                        raise SyncMalformedPage(
                            page_no,
                            f"paging.per_page is {page.per_page}, but {per_page} was asked for",
                        )
                    # The server caps the page size: walk on with its size from the same offset.
                    per_page = page.per_page
                    per_page_adopted = True
                    continue
                self._page_count = page.page_count
                self._check_not_repeating(page_no, page)
                self.accepted = True
                self._emit("fetched")
                client.check_cancel()
                state = self._commit(state, page, page_no, per_page, skip)
                self._emit("stored")
            if (
                _stored(self.counts) == stored_before
                or not self._log_grew
                or self.passes >= self.config.max_passes
            ):
                break
        self.complete = True
        self._finish(state, detail=None)
        self._emit("done")
        return self.report()

    def _check_not_repeating(self, page_no: int, page: Page) -> None:
        digest = hashlib.sha256("\x00".join(e.text for e in page.elements).encode()).digest()
        if page.elements and digest == self._last_page_digest:
            self._same_page += 1
            if self._same_page >= _MAX_SAME_PAGE:
                raise SyncMalformedPage(
                    page_no,
                    "the server keeps returning the same entries for different pages "
                    "(does the endpoint support the page parameter?)",
                )
        else:
            self._same_page = 0
        self._last_page_digest = digest

    def _commit(self, state: _State, page: Page, page_no: int, per_page: int, skip: int) -> _State:
        assert state.crawl is not None
        crawl = _Crawl(**{f.name: getattr(state.crawl, f.name) for f in fields(_Crawl)})
        elements = page.elements[skip:]
        # Normalised and hashed once: the crawl reads the times, the writer stores the entries.
        base_index = self.counts.parsed
        prepared = [
            prepare_entry(base_index + number, None, item.text, item.value, item.duplicate_key)
            for number, item in enumerate(elements)
        ]
        created = [item.created_utc for item in prepared]
        if crawl.offset == 0:
            times = [t for t in created if t is not None]
            crawl.head = max(times) if times else None
            crawl.first_total = page.total_count
        marker = state.complete_through
        if marker is not None:
            for when in created:
                if when is not None and when <= marker:
                    crawl.reached = True
                if crawl.reached:
                    crawl.overlap_seen += 1
        crawl.offset = (page_no - 1) * per_page + len(page.elements)
        at_end = (
            not page.elements
            or len(page.elements) < per_page
            or (page.page_count is not None and page_no >= page.page_count)
        )
        done = at_end or (crawl.reached and crawl.overlap_seen >= self.config.overlap)
        if done:
            # Entries that arrived after page 1 was read sit above it: only another crawl from
            # the head finds them. The server's total says whether any arrived.
            self._log_grew = (
                crawl.first_total is None
                or page.total_count is None
                or page.total_count != crawl.first_total
            )
            heads = [v for v in (state.complete_through, crawl.head) if v is not None]
            new_state = _State(
                complete_through=max(heads) if heads else None,
                last_success_utc=state.last_success_utc,
                crawl=None,
            )
        else:
            new_state = _State(state.complete_through, state.last_success_utc, crawl)
        with self.store.write(
            undone="this page was not stored; the next sync continues after the last page stored"
        ) as connection:
            self._check_state(connection)
            if self.source_id is None:
                self.source_id = begin_source(connection, "sync", self.config.location)
            writer = EntryWriter(connection, self.source_id)
            for item in prepared:
                writer.add_prepared(item)
            writer.flush()
            counts = _add_counts(self.counts, writer.counts)
            record_counts(connection, self.source_id, counts, finished=False)
            saved = self._save_state(connection, new_state)
        self.counts = counts
        self._saved = saved
        self.pages += 1
        return new_state

    def _check_state(self, connection: sqlite3.Connection) -> None:
        if _read_state(connection, self.config.state_key) != self._saved:
            raise SyncStateConflict(
                "the sync bookmark was changed by another program: another sync of "
                f"{self.config.org!r} seems to be running; try again when it has finished"
            )

    def _save_state(self, connection: sqlite3.Connection, state: _State) -> str:
        text = state.to_json()
        connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (self.config.state_key, text),
        )
        return text

    def _finish(self, state: _State, detail: str | None) -> None:
        """Closes the run's source record (and, on success, stamps the bookmark)."""
        with self.store.write() as connection:
            if self.source_id is None:
                self.source_id = begin_source(connection, "sync", self.config.location)
            if detail is not None:
                connection.execute(
                    "UPDATE sources SET detail = ? WHERE id = ?", (detail, self.source_id)
                )
            record_counts(connection, self.source_id, self.counts, finished=True)
            if detail is None:
                self._check_state(connection)
                state.last_success_utc = now_micros()
                self._saved = self._save_state(connection, state)
        # The run's pages passed through the WAL: move them into the store file.
        self.store.checkpoint()

    def abort(self, error: SyncError) -> None:
        """Records why the run stopped on its source (if it stored anything)."""
        if self.source_id is None:
            return
        # The run's pages are committed; at worst only this note is lost.
        with contextlib.suppress(sqlite3.Error, SyncError, StoreError):
            self._finish(_State(), detail=f"incomplete: {error}"[:500])

    # --- reporting ----------------------------------------------------------------------------

    def _emit(self, phase: str, message: str = "") -> None:
        if self.progress is None:
            return
        client = self.client
        c = self.counts
        self.progress(
            SyncProgress(
                phase=phase,
                page=self._page,
                pages=self.pages,
                page_count=self._page_count,
                **c.totals(),
                retries=0 if client is None else client.retries,
                message=message,
            )
        )

    def on_wait(self, seconds: float, reason: str) -> None:
        self._emit("waiting", f"{reason} in {seconds:.1f} s")

    def report(self) -> SyncReport:
        c = self.counts
        client = self.client
        return SyncReport(
            source_id=self.source_id,
            location=self.config.location,
            pages=self.pages,
            **c.totals(),
            retries=0 if client is None else client.retries,
            rate_limited=0 if client is None else client.rate_limited,
            passes=self.passes,
            resumed=self.resumed,
            complete=self.complete,
            accepted=self.accepted,
            seconds=time.perf_counter() - self.started,
        )


def sync(
    store: Store,
    config: SyncConfig,
    token: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    sleep: Sleep | None = None,
    rng: Callable[[], float] | None = None,
    proxy: ProxyChoice | None = None,
) -> SyncReport:
    """Syncs the audit log of ``config``'s scope into ``store``; see the module docstring.

    Raises a :class:`SyncError` subclass when the run stops early; its ``report`` says what was
    stored before (all of it stays, and the next run resumes). ``sleep`` and ``rng`` replace the
    waits and the jitter (tests); the default sleep wakes up on ``cancel``. ``proxy`` is the
    proxy to use; by default the one the environment names (see :func:`choose_proxy`).
    """
    config = config.validated()
    run = _Run(store, config, progress)
    try:
        with AuditLogClient(
            config, token, cancel=cancel, sleep=sleep, rng=rng, on_wait=run.on_wait, proxy=proxy
        ) as client:
            return run.execute(client)
    except SyncError as error:
        run.abort(error)
        error.report = run.report()
        raise
    except StoreError as error:
        failure = SyncStoreFailed(str(error))
        run.abort(failure)
        failure.report = run.report()
        raise failure from error
