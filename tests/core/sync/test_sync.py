"""Sync against the emulator: full, incremental, arrivals mid-sync, resume, faults."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from auditviewer.core.records import CancelToken
from auditviewer.core.store.connection import Store
from auditviewer.core.sync import (
    SyncAuthError,
    SyncCancelled,
    SyncConfig,
    SyncConfigError,
    SyncMalformedPage,
    SyncNetworkError,
    SyncNotFound,
    SyncProgress,
    SyncRateLimited,
    SyncRedirectRefused,
    SyncServerError,
    SyncStateConflict,
    check_connection,
    sync,
    sync_status,
)
from tests.core.sync.conftest import (
    ENTRIES,
    PER_PAGE,
    TOKEN,
    Sleeps,
    bookmark,
    fast_config,
    server_identity,
    stored_identity,
)
from tests.support.emulator import MALFORMED_KINDS, AuditLogEmulator, generate_entry

PAGES = -(-ENTRIES // PER_PAGE)


def entry_count(store: Store) -> int:
    with store.raw() as connection:
        return int(connection.execute("SELECT count(*) FROM entry_view").fetchone()[0])


# --- the happy paths ------------------------------------------------------------------------------


def test_first_sync_stores_every_entry_with_its_exact_text(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    report = sync(store, config, TOKEN)

    counts = (report.imported, report.duplicates, report.conflicts, report.quarantined)
    assert counts == (ENTRIES, 0, 0, 0)
    assert report.complete
    assert report.source_id is not None
    with store.raw() as connection:
        raws = sorted(row[0] for row in connection.execute("SELECT raw FROM entry_view"))
        kind, location, finished = connection.execute(
            "SELECT kind, location, finished_utc FROM sources WHERE id = ?", (report.source_id,)
        ).fetchone()
    assert raws == sorted(emulator.entry_texts())
    assert kind == "sync"
    assert location == f"{emulator.base_url}/api/v0/organizations/acme/audit-log"
    assert finished is not None
    state = sync_status(store, config)
    assert state.last_success_utc is not None
    assert not state.in_progress
    assert all(r.authorized for r in emulator.requests)
    assert [r.page for r in emulator.requests[:PAGES]] == list(range(1, PAGES + 1))


def test_incremental_sync_reads_only_the_head_of_the_log(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    emulator.add_entries(7)
    emulator.requests.clear()

    report = sync(store, config, TOKEN)

    assert report.imported == 7
    assert stored_identity(store) == server_identity(emulator)
    # Page 1 holds the 7 new entries and 18 known ones (past the 10 of overlap): no page 2.
    assert {r.page for r in emulator.requests} == {1}


def test_sync_with_nothing_new_stores_nothing(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    report = sync(store, config, TOKEN)
    assert report.imported == 0
    assert report.duplicates > 0
    assert entry_count(store) == ENTRIES


def test_a_sync_run_counts_the_entries_it_re_delivered_from_the_run_before(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    from auditviewer.core.querying.coverage import coverage

    sync(store, config, TOKEN)
    emulator.add_entries(7)
    report = sync(store, config, TOKEN)

    with store.raw() as connection:
        counted = connection.execute(
            "SELECT source_id, earlier_source_id, entries FROM source_shared"
        ).fetchall()
    assert counted == [(2, 1, report.duplicates)]
    assert report.duplicates > 0
    (overlap,) = [o for o in coverage(store).overlaps if (o.earlier, o.later) == (1, 2)]
    assert overlap.shared == report.duplicates
    assert overlap.continuity_proven


def test_overlap_reaches_past_the_known_head(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    emulator.add_entries(20)
    emulator.requests.clear()
    # 20 new + 5 known on page 1; an overlap of 10 needs 5 more from page 2.
    report = sync(store, fast_config(emulator, overlap=10), TOKEN)
    assert report.imported == 20
    assert [r.page for r in emulator.requests][:2] == [1, 2]


def test_late_entry_older_than_the_head_is_caught_by_the_overlap(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    # An entry committed late: its time is older than the newest already synced.
    late = json.loads(generate_entry(ENTRIES - 2))
    late["id"] = 99_999
    emulator.add_raw(json.dumps(late), below=2)
    report = sync(store, config, TOKEN)
    assert report.imported == 1
    assert stored_identity(store) == server_identity(emulator)


def test_entries_arriving_during_a_sync_end_up_stored_once(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    emulator.arrive_before_page(2, 12)
    emulator.arrive_before_page(4, 30)

    report = sync(store, config, TOKEN)

    assert stored_identity(store) == server_identity(emulator)
    assert entry_count(store) == ENTRIES + 42
    assert report.imported == ENTRIES + 42
    assert report.conflicts == 0
    assert report.passes >= 2


def test_entries_arriving_during_an_incremental_sync(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    emulator.add_entries(40)
    emulator.arrive_before_page(2, 25)
    sync(store, config, TOKEN)
    assert stored_identity(store) == server_identity(emulator)


def test_project_filter_is_sent_and_recorded(store: Store, emulator: AuditLogEmulator) -> None:
    config = fast_config(emulator, project="gateway")
    report = sync(store, config, TOKEN)
    assert stored_identity(store) == server_identity(emulator, "gateway")
    assert {r.project for r in emulator.requests} == {"gateway"}
    assert report.location.endswith("/audit-log?project=gateway")


def test_changed_entry_is_a_conflict_and_bad_entry_is_quarantined(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    sync(store, config, TOKEN)
    changed = json.loads(generate_entry(ENTRIES))
    changed["action"] = "project.delete"
    emulator.rewrite_entry(ENTRIES, json.dumps(changed))
    emulator.add_raw('{"id": "x-1", "note": "no action here"}', "[1, 2]")

    report = sync(store, config, TOKEN)

    assert (report.conflicts, report.quarantined) == (1, 2)
    assert entry_count(store) == ENTRIES + 3


def test_server_capping_the_page_size_is_followed(store: Store) -> None:
    with AuditLogEmulator(entries=70, max_per_page=20) as server:
        sync(store, fast_config(server, per_page=25), TOKEN)
        assert stored_identity(store) == server_identity(server)
        assert {r.per_page for r in server.requests} == {20}


def test_progress_reports_each_page(store: Store, config: SyncConfig) -> None:
    seen: list[SyncProgress] = []
    sync(store, config, TOKEN, progress=seen.append)
    stored = [p for p in seen if p.phase == "stored"]
    assert [p.page for p in stored][:PAGES] == list(range(1, PAGES + 1))
    assert stored[PAGES - 1].imported == ENTRIES
    assert seen[-1].phase == "done"


def test_check_connection_returns_the_total(emulator: AuditLogEmulator, config: SyncConfig) -> None:
    assert check_connection(config, TOKEN) == ENTRIES
    assert emulator.requests[-1].per_page == 1


# --- cancel, kill and resume ----------------------------------------------------------------------


@pytest.fixture
def reference(
    emulator: AuditLogEmulator, config: SyncConfig, new_store: Callable[[str], Store]
) -> list[tuple[str, str]]:
    """The store a clean, uninterrupted run produces."""
    clean = new_store("clean")
    sync(clean, config, TOKEN)
    return stored_identity(clean)


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, nothing handles it."""


@pytest.mark.parametrize("phase", ["fetching", "fetched", "stored"])
def test_cancel_at_every_page_boundary_then_resume(
    phase: str,
    config: SyncConfig,
    reference: list[tuple[str, str]],
    new_store: Callable[[str], Store],
) -> None:
    for page in range(1, PAGES + 1):
        store = new_store(f"{phase}-{page}")
        cancel = CancelToken()

        def stop_at(progress: SyncProgress, page: int = page, cancel: CancelToken = cancel) -> None:
            if progress.phase == phase and progress.page == page:
                cancel.cancel()

        stored_pages = page if phase == "stored" else page - 1
        if stored_pages == PAGES:  # cancelled once all the work was committed: a success
            sync(store, config, TOKEN, progress=stop_at, cancel=cancel)
            assert stored_identity(store) == reference
            continue
        with pytest.raises(SyncCancelled) as caught:
            sync(store, config, TOKEN, progress=stop_at, cancel=cancel)
        assert caught.value.report is not None
        assert caught.value.report.pages == stored_pages
        assert entry_count(store) == stored_pages * PER_PAGE
        expected_offset = stored_pages * PER_PAGE if stored_pages else None
        assert sync_status(store, config).resume_offset == expected_offset

        report = sync(store, config, TOKEN)
        assert report.resumed == (0 < stored_pages < PAGES)
        assert stored_identity(store) == reference


def test_a_cancelled_first_sync_resumes_near_where_it_stopped_while_entries_arrive(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    cancel = CancelToken()

    def stop_after_page_3(progress: SyncProgress) -> None:
        if progress.phase == "stored" and progress.page == 3:
            cancel.cancel()

    with pytest.raises(SyncCancelled):
        sync(store, config, TOKEN, progress=stop_after_page_3, cancel=cancel)
    assert entry_count(store) == 3 * PER_PAGE
    emulator.add_entries(30)  # the pages the first run read have moved down by 30 entries
    emulator.requests.clear()
    report = sync(store, config, TOKEN)
    assert report.resumed
    resumed_pages = [r.page for r in emulator.requests if r.page is not None]
    # It goes on from its bookmark (the shift makes it re-read stored entries, never skip one),
    # then reads the new head.
    assert resumed_pages[0] > 1, resumed_pages
    assert len(resumed_pages) < PAGES + 2, resumed_pages
    assert stored_identity(store) == server_identity(emulator)


@pytest.mark.parametrize("phase", ["fetched", "stored"])
def test_abrupt_stop_at_every_page_boundary_then_resume(
    phase: str,
    config: SyncConfig,
    reference: list[tuple[str, str]],
    new_store: Callable[[str], Store],
) -> None:
    for page in range(1, PAGES + 1):
        store = new_store(f"kill-{phase}-{page}")

        def die_at(progress: SyncProgress, page: int = page) -> None:
            if progress.phase == phase and progress.page == page:
                raise Killed

        with pytest.raises(Killed):
            sync(store, config, TOKEN, progress=die_at)
        sync(store, config, TOKEN)
        assert stored_identity(store) == reference


def test_resume_with_another_page_size(
    config: SyncConfig, reference: list[tuple[str, str]], store: Store, emulator: AuditLogEmulator
) -> None:
    cancel = CancelToken()

    def stop(progress: SyncProgress) -> None:
        if progress.phase == "stored" and progress.page == 2:
            cancel.cancel()

    with pytest.raises(SyncCancelled):
        sync(store, config, TOKEN, progress=stop, cancel=cancel)
    emulator.add_entries(3)  # and the log moved on meanwhile
    sync(store, fast_config(emulator, per_page=20), TOKEN)
    assert stored_identity(store) == server_identity(emulator)


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from auditviewer.core.store.connection import Store
    from auditviewer.core.sync import SyncConfig, sync
    base, path, phase, page = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    def die(progress):
        if progress.phase == phase and progress.page == page:
            os.kill(os.getpid(), signal.SIGKILL)
    store = Store.open(path)
    sync(store, SyncConfig(org="acme", base_url=base, per_page=25, overlap=10), sys.argv[5],
         progress=die)
    """
)


@pytest.mark.parametrize(("phase", "page"), [("fetched", 3), ("stored", 2)])
def test_sigkill_mid_sync_then_resume(
    phase: str,
    page: int,
    emulator: AuditLogEmulator,
    config: SyncConfig,
    reference: list[tuple[str, str]],
    tmp_path: Path,
) -> None:
    path = tmp_path / "killed.sqlite"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, emulator.base_url, str(path), phase, str(page), TOKEN],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    with Store.open(path) as store:
        expected_pages = page if phase == "stored" else page - 1
        assert entry_count(store) == expected_pages * PER_PAGE
        report = sync(store, config, TOKEN)
        assert report.resumed
        assert stored_identity(store) == reference


# --- faults ---------------------------------------------------------------------------------------


def test_wrong_token_is_refused_without_retrying(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig, sleeps: Sleeps
) -> None:
    with pytest.raises(SyncAuthError, match="refused the token") as caught:
        sync(store, config, "not-the-token", sleep=sleeps)
    assert caught.value.status == 401
    assert len(emulator.requests) == 1
    assert sleeps == []
    assert entry_count(store) == 0
    assert bookmark(store, config) is None


def test_token_without_permission_says_so(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    emulator.forbid = True
    with pytest.raises(SyncAuthError, match="permission") as caught:
        sync(store, config, TOKEN)
    assert caught.value.status == 403
    assert len(emulator.requests) == 1


def test_unknown_organization_points_at_the_slug(store: Store, emulator: AuditLogEmulator) -> None:
    with pytest.raises(SyncNotFound, match="check the organization slug / endpoint"):
        sync(store, fast_config(emulator, org="acne"), TOKEN)


@pytest.mark.parametrize("retry_after", ["2", "HTTP-DATE"])
def test_rate_limit_honours_retry_after(
    retry_after: str,
    store: Store,
    emulator: AuditLogEmulator,
    sleeps: Sleeps,
    reference: list[tuple[str, str]],
) -> None:
    # The longest wait the answer asks for, and the shortest it may still be when read: an
    # HTTP date counts whole seconds, and a busy machine may take seconds to get there.
    longest, shortest = 2.0, 1.0
    if retry_after == "HTTP-DATE":
        from datetime import UTC, datetime, timedelta
        from email.utils import format_datetime

        longest, shortest = 8.0, 3.0
        retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=8), usegmt=True)
    emulator.rate_limit(retry_after, page=2, times=2)
    report = sync(store, fast_config(emulator, max_retry_after=10), TOKEN, sleep=sleeps)
    assert len(sleeps) == 2
    assert all(shortest <= s <= longest for s in sleeps), sleeps
    assert report.rate_limited == 2
    assert report.retries == 2
    assert stored_identity(store) == reference


def test_rate_limit_wait_is_capped_and_bounded(
    store: Store, emulator: AuditLogEmulator, sleeps: Sleeps
) -> None:
    emulator.rate_limit("86400", times=10)
    config = fast_config(emulator, max_retry_after=7, max_rate_limited=3)
    with pytest.raises(SyncRateLimited, match="429"):
        sync(store, config, TOKEN, sleep=sleeps)
    assert sleeps == [7, 7, 7]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_jittered_backoff(
    status: int, store: Store, emulator: AuditLogEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(status, page=3, times=3)
    config = fast_config(emulator, backoff_base=1.0, backoff_cap=30.0, max_retry_after=60)
    report = sync(store, config, TOKEN, sleep=sleeps, rng=lambda: 0.5)
    assert report.retries == 3
    assert report.complete
    assert sleeps == [0.75, 1.5, 3.0]  # half the ceiling plus half of it times rng
    assert stored_identity(store) == server_identity(emulator)


def test_persistent_server_error_stops_after_the_retries(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig, sleeps: Sleeps
) -> None:
    emulator.fail(503, page=2, times=100)
    with pytest.raises(SyncServerError, match=r"page 2: the server failed \(503\)") as caught:
        sync(store, config, TOKEN, sleep=sleeps)
    assert len(sleeps) == config.max_retries
    assert [r.page for r in emulator.requests].count(2) == config.max_retries + 1
    assert entry_count(store) == PER_PAGE  # page 1 is kept
    assert caught.value.report is not None
    assert caught.value.report.pages == 1


def test_stalled_server_times_out_and_is_retried(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig, sleeps: Sleeps
) -> None:
    emulator.stall(5.0, page=2)
    report = sync(store, config, TOKEN, sleep=sleeps)
    assert report.retries == 1
    assert stored_identity(store) == server_identity(emulator)


def test_server_that_never_answers_is_a_network_error(
    store: Store, emulator: AuditLogEmulator, sleeps: Sleeps
) -> None:
    emulator.stall(5.0, times=10)
    with pytest.raises(
        SyncNetworkError, match=f"the server 127.0.0.1:{emulator.port} did not answer in time"
    ):
        sync(store, fast_config(emulator, max_retries=1), TOKEN, sleep=sleeps)


def test_connection_dropped_mid_body_is_retried(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig, sleeps: Sleeps
) -> None:
    emulator.drop(page=2, times=2)
    report = sync(store, config, TOKEN, sleep=sleeps)
    assert report.retries == 2
    assert stored_identity(store) == server_identity(emulator)


def test_connection_refused_is_a_network_error(store: Store, sleeps: Sleeps) -> None:
    server = AuditLogEmulator(entries=1)
    port = server.port
    server.stop()  # the port is now closed
    config = SyncConfig(org="acme", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(SyncNetworkError, match=f"cannot connect to the server 127.0.0.1:{port}"):
        sync(store, config, TOKEN, sleep=sleeps)


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_malformed_page_stores_nothing_of_it_and_keeps_the_bookmark(
    kind: str,
    store: Store,
    emulator: AuditLogEmulator,
    config: SyncConfig,
    reference: list[tuple[str, str]],
) -> None:
    emulator.malformed(kind, page=3)
    with pytest.raises(SyncMalformedPage, match=r"^page 3 of the audit log is malformed") as caught:
        sync(store, config, TOKEN)
    assert caught.value.page == 3
    assert entry_count(store) == 2 * PER_PAGE
    state = bookmark(store, config)
    assert state is not None
    assert state["crawl"]["offset"] == 2 * PER_PAGE

    report = sync(store, config, TOKEN)
    assert report.resumed
    assert stored_identity(store) == reference


def test_redirect_to_another_host_does_not_carry_the_token(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    try:
        other = AuditLogEmulator(entries=5, host="127.0.0.2")
    except OSError:  # no 127.0.0.2 here: the same address under another name
        other = AuditLogEmulator(entries=5, host="127.0.0.1")
    with other:
        target = other.base_url.replace("127.0.0.1", "localhost")
        emulator.redirect(target, page=1)
        with pytest.raises(SyncRedirectRefused, match="another host"):
            sync(store, config, TOKEN)
        emulator.redirect(target, page=1)
        with pytest.raises(SyncRedirectRefused):
            check_connection(config, TOKEN)
    assert not any(r.had_authorization for r in other.requests)
    assert entry_count(store) == 0


def test_redirect_on_the_same_host_is_followed(
    store: Store, emulator: AuditLogEmulator, config: SyncConfig
) -> None:
    emulator.redirect(emulator.base_url, page=2)
    sync(store, config, TOKEN)
    assert stored_identity(store) == server_identity(emulator)


def test_netrc_credentials_are_ignored_and_only_named_proxy_variables_are_read(
    store: Store,
    emulator: AuditLogEmulator,
    config: SyncConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKS_PROXY", "http://127.0.0.1:9")  # not a variable sync reads
    sync(store, config, TOKEN)
    assert all(r.authorized for r in emulator.requests)
    # HTTP_PROXY (the endpoint is http://) is read: nothing listens there, and the message
    # names the proxy and where it came from.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    emulator.add_entries(1)
    with pytest.raises(SyncNetworkError, match=r"through the proxy http://127.0.0.1:9 \(from"):
        sync(store, replace(config, max_retries=0), TOKEN)


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://api.memfault.com", "only allowed for this machine"),
        ("https://user:secret@api.memfault.com", "must not carry credentials"),
        ("https://api.memfault.com/?token=x", "query string"),
        ("ftp://api.memfault.com", "scheme and host"),
    ],
)
def test_unsafe_base_urls_are_refused(base_url: str, reason: str, store: Store) -> None:
    with pytest.raises(SyncConfigError, match=reason) as caught:
        sync(store, SyncConfig(org="acme", base_url=base_url), TOKEN)
    assert "secret" not in str(caught.value)


def test_plain_http_is_allowed_for_loopback_names() -> None:
    for base in ("http://localhost:8765", "http://127.0.0.5", "http://[::1]:80"):
        SyncConfig(org="acme", base_url=base).validated()


def test_cancel_during_a_rate_limit_wait(store: Store, emulator: AuditLogEmulator) -> None:
    emulator.rate_limit("30", page=1)
    cancel = CancelToken()

    def on_progress(progress: SyncProgress) -> None:
        if progress.phase == "waiting":
            cancel.cancel()

    config = fast_config(emulator, max_retry_after=30)
    with pytest.raises(SyncCancelled):
        sync(store, config, TOKEN, progress=on_progress, cancel=cancel)  # real, cancellable sleep


def test_a_concurrent_change_of_the_bookmark_is_detected(store: Store, config: SyncConfig) -> None:
    def meddle(progress: SyncProgress) -> None:
        if progress.phase == "fetched" and progress.page == 2:
            with store.write() as connection:
                connection.execute(
                    "UPDATE meta SET value = '{}' WHERE key = ?", (config.validated().state_key,)
                )

    with pytest.raises(SyncStateConflict, match="another sync"):
        sync(store, config, TOKEN, progress=meddle)


def test_no_sleep_is_real_by_default_when_nothing_fails(
    store: Store, config: SyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda _s: pytest.fail("slept"))
    sync(store, config, TOKEN)
