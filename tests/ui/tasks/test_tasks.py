"""The window's runner of background work: one writer, queue, progress, cancel, completion."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.store.connection import Store
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.tasks.job import Job, JobContext, Kind, LatestRead
from auditviewer.ui.tasks.jobs import ImportOutcome, import_job
from auditviewer.ui.tasks.runner import TaskRunner
from tests.conftest import make_entry, write_json

WAIT = 20_000


class Journal:
    """What happened, in order, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[str] = []

    def add(self, event: str) -> None:
        with self._lock:
            self.events.append(event)


@pytest.fixture
def runner(qtbot: Any, store: Store) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    runner.store = store
    yield runner
    runner.shutdown()


def held_job(name: str, kind: Kind, release: threading.Event, journal: Journal) -> Job:
    """A job that runs until ``release`` is set or it is cancelled."""

    def work(context: JobContext) -> str:
        journal.add(f"{name} runs")
        while not release.is_set():
            if context.cancelled:
                journal.add(f"{name} stops")
                return "stopped"
            time.sleep(0.005)
        journal.add(f"{name} ends")
        return "ended"

    return Job(name, kind, f"{name}…", work)


def stored_count(store: Store) -> int:
    with EntryQuery(store, Filter()) as query:
        return query.count()


def track(runner: TaskRunner, journal: Journal) -> None:
    runner.job_started.connect(lambda job: journal.add(f"started {job.name}"))
    runner.job_finished.connect(lambda job: journal.add(f"finished {job.name}"))


def test_a_second_writer_is_refused_while_one_writes(
    qtbot: Any, runner: TaskRunner, tmp_path: Path
) -> None:
    release, journal = threading.Event(), Journal()
    track(runner, journal)
    first = held_job("sync", Kind.WRITE, release, journal)
    assert runner.start(first)
    assert runner.writer_busy
    assert not runner.start(held_job("rebuild", Kind.WRITE, release, journal))
    # An import asked for meanwhile waits instead of being refused.
    path = write_json(tmp_path / "later.json", [make_entry(n) for n in range(1, 6)])
    assert runner.import_files([path]) is None
    assert runner.queued_files == [path]
    assert runner.start_indexing() is None
    release.set()
    qtbot.waitUntil(lambda: "started import" in journal.events, timeout=WAIT)
    assert runner.queued_files == []
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    assert stored_count(runner.store) == 5  # type: ignore[arg-type]
    assert "rebuild runs" not in journal.events


def test_a_store_check_holds_writers_off_but_not_reads(qtbot: Any, runner: TaskRunner) -> None:
    release, journal = threading.Event(), Journal()
    assert runner.start(held_job("verify", Kind.CHECK, release, journal))
    assert not runner.start(held_job("sync", Kind.WRITE, release, journal))
    assert runner.start(held_job("export", Kind.READ, release, journal))
    release.set()
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)


def test_indexing_stops_before_a_writer_starts(qtbot: Any, runner: TaskRunner) -> None:
    journal = Journal()
    never, release = threading.Event(), threading.Event()
    index = held_job("index", Kind.INDEX, never, journal)
    assert runner.start(index)
    qtbot.waitUntil(lambda: "index runs" in journal.events, timeout=WAIT)
    writer = held_job("import", Kind.WRITE, release, journal)
    assert runner.start(writer)
    assert runner.running("index") is None
    release.set()
    qtbot.waitUntil(lambda: "import ends" in journal.events, timeout=WAIT)
    assert journal.events.index("index stops") < journal.events.index("import runs")


def test_after_a_writer_the_queued_files_then_indexing(
    qtbot: Any, runner: TaskRunner, tmp_path: Path
) -> None:
    release, journal = threading.Event(), Journal()
    track(runner, journal)
    assert runner.start(held_job("sync", Kind.WRITE, release, journal))
    first = write_json(tmp_path / "a.json", [make_entry(n) for n in range(1, 4)])
    second = write_json(tmp_path / "b.json", [make_entry(n) for n in range(4, 6)])
    runner.import_files([first])
    runner.import_files([second])
    release.set()
    qtbot.waitUntil(lambda: "finished index" in journal.events, timeout=WAIT)
    order = [event for event in journal.events if event.startswith(("started", "finished"))]
    assert order == [
        "started sync",
        "finished sync",
        "started import",
        "finished import",
        "started index",
        "finished index",
    ]
    assert stored_count(runner.store) == 5  # type: ignore[arg-type]


def test_an_import_reports_progress_in_words_then_completes_once(
    qtbot: Any, runner: TaskRunner, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "audit.json", [make_entry(n) for n in range(1, 40)])
    job = runner.import_files([path])
    assert job is not None
    texts: list[str] = []
    ends: list[Job] = []
    job.progressed.connect(lambda text, done, total: texts.append(text))
    job.done.connect(ends.append)
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    assert ends == [job]
    assert texts
    assert all("audit.json" in text for text in texts)
    assert "39 entries" in texts[-1]
    outcome: ImportOutcome = job.result
    assert [report.imported for report in outcome.reports] == [39]
    assert not outcome.failures
    assert not outcome.cancelled


def test_a_cancelled_import_stores_nothing(
    qtbot: Any, runner: TaskRunner, store: Store, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "audit.json", [make_entry(n) for n in range(1, 40)])
    job = import_job(store, [path])
    job.cancel()
    assert runner.start(job)
    qtbot.waitUntil(lambda: not job.running, timeout=WAIT)
    outcome: ImportOutcome = job.result
    assert outcome.cancelled
    assert outcome.reports == []
    assert stored_count(store) == 0


def test_cancel_reaches_only_the_named_jobs(qtbot: Any, runner: TaskRunner) -> None:
    release, journal = threading.Event(), Journal()
    export = held_job("export", Kind.READ, release, journal)
    check = held_job("connection check", Kind.READ, release, journal)
    runner.start(export)
    runner.start(check)
    runner.cancel("export")
    qtbot.waitUntil(lambda: not export.running, timeout=WAIT)
    assert export.result == "stopped"
    assert check.running
    release.set()
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    assert check.result == "ended"


def test_failures_are_reported_in_words(qtbot: Any, runner: TaskRunner, tmp_path: Path) -> None:
    def refused(context: JobContext) -> None:
        raise AuditViewerError("audit.json: entry 3 has no time; fix the export and retry")

    def buggy(context: JobContext) -> None:
        raise ValueError("boom")

    words = Job("export", Kind.READ, "Exporting…", refused)
    bug = Job("verify", Kind.CHECK, "Checking…", buggy, subject="store.sqlite")
    runner.start(words)
    runner.start(bug)
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    assert words.error == "audit.json: entry 3 has no time; fix the export and retry"
    assert bug.error == "store.sqlite: unexpected error (ValueError: boom)"
    assert not words.cancelled
    assert not bug.cancelled

    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": 1,', encoding="utf-8")
    job = runner.import_files([broken])
    assert job is not None
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    outcome: ImportOutcome = job.result
    assert len(outcome.failures) == 1
    message = outcome.failures[0][1]
    assert "broken.json" in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_a_newer_read_replaces_the_queued_one(qtbot: Any) -> None:
    reads = LatestRead()
    gate = threading.Event()
    answers: list[tuple[int, object]] = []
    reads.answered.connect(lambda ticket, answer: answers.append((ticket, answer)))
    reads.request(lambda: gate.wait(10) and "first")
    reads.request(lambda: "second")
    third = reads.request(lambda: "third")
    gate.set()
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=WAIT)
    reads.wait()
    assert answers == [(1, "first"), (third, "third")]


def test_the_window_shows_a_job_and_cancel_stops_it(qtbot: Any, window: MainWindow) -> None:
    release, journal = threading.Event(), Journal()
    job = held_job("sync", Kind.WRITE, release, journal)
    assert window.tasks.start(job)
    assert window.task_progress.isVisible()
    assert not window.sync_action.isEnabled()
    assert not window.export_action.isEnabled()
    window.task_progress.cancel_button.click()
    qtbot.waitUntil(lambda: window.tasks.running("sync") is None, timeout=WAIT)
    assert job.result == "stopped"
    assert not window.task_progress.isVisible()
    assert window.sync_action.isEnabled()


def test_the_browser_tells_the_window_when_it_hides_the_controls(
    qtbot: Any, window: MainWindow
) -> None:
    browser = window.browser
    assert isinstance(browser, EntryBrowser)
    action = window.panel_actions["controls"]
    action.setChecked(True)
    browser.filter_bar.controls_toggled.emit(False)
    assert not action.isChecked()
    assert not browser.controls.isVisibleTo(browser)
    browser.filter_bar.controls_toggled.emit(True)
    assert action.isChecked()


def test_entries_stored_by_a_writer_show_at_once_then_at_a_bounded_rate(
    qtbot: Any, runner: TaskRunner
) -> None:
    shown: list[float] = []
    runner.entries_added.connect(lambda: shown.append(time.monotonic()))

    def pages(context: JobContext) -> None:
        for _ in range(40):
            context.stored()
            time.sleep(0.01)

    job = Job("sync", Kind.WRITE, "Syncing…", pages)
    assert runner.start(job)
    qtbot.waitUntil(lambda: not runner.jobs, timeout=WAIT)
    assert 1 <= len(shown) <= 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(shown)]
    assert all(gap >= 0.35 for gap in gaps)
