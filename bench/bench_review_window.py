"""Times a bulk mark in the window: 10,000 selected rows marked (the count confirmed), until the
review column, the review bar's progress and the disposition and tag facets show it.

Usage: ``QT_QPA_PLATFORM=offscreen python bench/bench_review_window.py STORE [RUNS]``, where
STORE is a store of the size to measure (e.g. an import of ``bench/synthetic.py``'s export);
a review over every entry is started in it. The event loop waits in 2 ms slices, as the window
does, so the marking thread is not starved.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QItemSelection, QItemSelectionModel, QSettings, QTimer
from PySide6.QtWidgets import QMessageBox

from auditviewer.core.reviewing.reviews import start_review
from auditviewer.core.store.connection import Store
from auditviewer.ui.app import create_application
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings

SELECTED = 10_000


def wait_until(done: Callable[[], bool], timeout: float = 120) -> None:
    end = time.perf_counter() + timeout
    while not done() and time.perf_counter() < end:
        loop = QEventLoop()
        QTimer.singleShot(2, loop.quit)
        loop.exec()


def main(path: Path, runs: int) -> None:
    create_application()
    with Store.open(path, create=False) as store:
        review = start_review(store, "window benchmark", reviewer="Benchmark")
    folder = Path(tempfile.mkdtemp())
    settings = UiSettings(QSettings(str(folder / "ui.ini"), QSettings.Format.IniFormat))
    settings.qsettings.setValue("review/reviewer", "Benchmark")
    window = MainWindow(settings)
    window.show()
    window.open_store(path)
    browser = window.browser
    assert browser is not None
    wait_until(lambda: not browser.aggregates.pending)
    window.review.open_review(review.id)
    wait_until(lambda: all(job.name == "index" for job in window.tasks.jobs))
    wait_until(lambda: not browser.aggregates.pending)
    times = []
    for run in range(runs):
        window.tasks.stop_indexing(wait=True)
        top = 2 * SELECTED * run + 1000
        rows = QItemSelection(
            browser.model.index(top, 0), browser.model.index(top + SELECTED - 1, 0)
        )
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        browser.table.selectionModel().select(rows, flags)
        window.review.mark_selected("ok" if run % 2 == 0 else "flagged")
        box = window.review.box
        assert box is not None
        started = time.perf_counter()
        box.button(QMessageBox.StandardButton.Yes).click()
        wait_until(lambda: not any(job.name.startswith("review") for job in window.tasks.jobs))
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        print(f"run {run + 1}: {elapsed * 1000:.0f} ms — {window.review.bar.progress_label.text()}")
    median, largest = statistics.median(times) * 1000, max(times) * 1000
    print(f"{SELECTED:,} marked: median {median:.0f} ms, largest {largest:.0f} ms")
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5)
