"""``auditviewer --self-test``: proves that an installed or frozen build really works.

It runs the whole path once, headless, in temporary files: the shipped resources load, Qt starts
on its "offscreen" platform plugin, a store opens (SQLite through SQLAlchemy), the bundled sample
is parsed in a spawned process and imported, the main window paints its table, a query filters
it, the selected rows are exported and the export re-imports into an empty store with identical
raw texts and hashes; the selection is written as a signed evidence pack that checks out, and a
signed review's report is written as a PDF. In a PyInstaller build this is what shows that
nothing was left out.

Each check prints one line; the first failure skips the checks after it. Nothing outside a
temporary folder is touched (the window's settings go to a file in it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditviewer.ui.waiting import DEFAULT_TIMEOUT_MS, wait_until

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from auditviewer.core.store.connection import Store
    from auditviewer.ui.main_window import MainWindow

SAMPLE = "sample-export.json"
REFERENCE = "actions.json"
ICONS = ("icons/auditviewer.svg", "icons/auditviewer.png")
# Matches part of the sample, not all of it, so that the check sees the table change.
QUERY = "action:release.* -action:release.update"
SELECTED_ROWS = 5
TIMEOUT_MS = DEFAULT_TIMEOUT_MS


class CheckFailed(Exception):
    """A check saw something other than what a working build gives."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class _Run:
    """What the checks hand on to each other."""

    folder: Path
    app: QApplication | None = None
    store: Store | None = None
    window: MainWindow | None = None
    sample_entries: int = 0
    exported: Path | None = None
    selected: list[int] = field(default_factory=list)
    closers: list[Callable[[], object]] = field(default_factory=list)


def paint_counter(widget: Any) -> Callable[[], int]:
    """Counts the paint events ``widget`` receives; returns a function giving the count."""
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        def __init__(self) -> None:
            super().__init__(widget)
            self.count = 0

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = PaintCounter()
    widget.installEventFilter(counter)
    return lambda: counter.count


def temporary_settings(folder: Path) -> Any:
    """QSettings in a file under ``folder``: the user's own settings stay untouched."""
    from PySide6.QtCore import QSettings

    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


# --- the checks, in order; each returns what its line says -------------------------------------


def check_version(_run: _Run) -> str:
    from importlib.metadata import version

    import auditviewer

    installed = version("auditviewer")  # raises when the build lacks the package metadata
    _require(installed == auditviewer.__version__, f"metadata {installed} != package")
    return f"auditviewer {installed}, Python {sys.version.split()[0]}, frozen={_frozen()}"


def check_resources(_run: _Run) -> str:
    from auditviewer.core.reference import ActionReference
    from auditviewer.core.resources import resource_path, resources_dir

    missing = [name for name in (SAMPLE, REFERENCE, *ICONS) if not resource_path(name).is_file()]
    _require(not missing, f"missing in {resources_dir()}: {', '.join(missing)}")
    reference = ActionReference.load()
    _require(len(reference.rows) > 0, "the action reference is empty")
    return f"{len(reference.rows)} reference rows, sample and icons in {resources_dir()}"


def check_qt(run: _Run) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from auditviewer.core.resources import resource_path
    from auditviewer.ui.app import create_application

    existing = QApplication.instance()
    run.app = create_application([sys.argv[0] if sys.argv else "auditviewer"])
    platform = run.app.platformName()
    if existing is None:
        _require(platform == "offscreen", f"platform plugin {platform!r}, not 'offscreen'")
    for name in ICONS:  # the SVG needs the imageformats/qsvg plugin
        image = QImage(str(resource_path(name)))
        _require(not image.isNull(), f"Qt cannot read {name}")
    return f"PySide6 {pyside_version}, platform plugin {platform!r}, SVG and PNG icons load"


def check_store(run: _Run) -> str:
    import sqlite3

    from auditviewer.core.store.connection import Store

    run.store = Store.open(run.folder / "store.sqlite")
    run.closers.append(run.store.close)
    with run.store.raw() as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    dialect = run.store.engine.dialect
    return f"{dialect.name}+{dialect.driver} (SQLite {sqlite3.sqlite_version}), journal {mode}"


def check_parser_process(run: _Run) -> str:
    from auditviewer.core.reading import parse_process
    from auditviewer.core.resources import resource_path

    # Large files are parsed in a process started with "spawn"; a frozen build needs
    # multiprocessing.freeze_support() in its entry script for that child to start. The sample
    # is small, so the size threshold is lowered for this one call.
    saved = parse_process.PARALLEL_MIN_BYTES
    parse_process.PARALLEL_MIN_BYTES = 0
    try:
        started = time.perf_counter()
        batches = parse_process.prepared_batches(resource_path(SAMPLE), 100)
        try:
            entries = sum(len(batch) for batch, _ in batches)
        finally:
            batches.close()
    finally:
        parse_process.PARALLEL_MIN_BYTES = saved
    _require(entries > 0, "the parsing process sent no entries")
    run.sample_entries = entries
    return f"{entries} elements parsed in a spawned process ({_ms(started)})"


def check_import(run: _Run) -> str:
    from auditviewer.core.resources import resource_path
    from auditviewer.core.store.file_import import import_file
    from auditviewer.core.wording import counted

    assert run.store is not None
    report = import_file(run.store, resource_path(SAMPLE))
    _require(report.parsed == run.sample_entries, f"parsed {report.parsed} of the sample")
    _require(report.imported > 0, "nothing was imported")
    return (
        f"{report.imported} imported, {report.quarantined} quarantined, "
        f"{counted(report.conflicts, 'conflict')} ({report.seconds * 1000:.0f} ms)"
    )


def check_window(run: _Run) -> str:
    from auditviewer.ui.main_window import MainWindow
    from auditviewer.ui.settings import UiSettings

    assert run.store is not None
    started = time.perf_counter()
    window = MainWindow(UiSettings(temporary_settings(run.folder)))
    run.window = window
    run.closers.append(window.close)
    window.show()
    _require(window.open_store(run.store.path), "the window could not open the store")
    browser = window.browser
    assert browser is not None
    painted = paint_counter(browser.table.viewport())
    _require(
        wait_until(lambda: painted() > 0 and browser.isVisible()),
        f"the table was not painted within {TIMEOUT_MS} ms",
    )
    rows = browser.model.rowCount()
    _require(rows == browser.total_count > 0, f"{rows} rows of {browser.total_count}")
    return f"main window shown, table painted with {rows} rows ({_ms(started)})"


def check_filter(run: _Run) -> str:
    from auditviewer.core.querying.language import parse_query
    from auditviewer.core.querying.window import EntryQuery

    assert run.window is not None
    assert run.window.browser is not None
    assert run.store is not None
    browser = run.window.browser
    query = parse_query(QUERY)
    with EntryQuery(run.store, query) as direct:
        expected = direct.count()
    painted = paint_counter(browser.table.viewport())
    browser.set_filter(query)
    rows = browser.model.rowCount()
    _require(rows == expected, f"the table shows {rows} rows, the query matches {expected}")
    _require(0 < rows < browser.total_count, f"{rows} of {browser.total_count} rows match")
    _require(wait_until(lambda: painted() > 0), "the filtered table was not repainted")
    return f"{QUERY!r}: {rows} of {browser.total_count} rows"


def check_export(run: _Run) -> str:
    from PySide6.QtCore import QItemSelectionModel

    from auditviewer.core.exporting.export import export_json

    assert run.window is not None
    assert run.window.browser is not None
    assert run.store is not None
    browser = run.window.browser
    model = browser.model
    count = min(SELECTED_ROWS, model.rowCount())
    selection = browser.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(count):
        selection.select(model.index(row, 0), flags)
    run.selected = browser.selected_seqs()
    _require(len(run.selected) == count, f"{len(run.selected)} of {count} rows selected")
    run.exported = run.folder / "selection.json"
    report = export_json(run.store, run.exported, seqs=run.selected)
    _require(report.entries == count, f"{report.entries} entries written, {count} selected")
    json.loads(run.exported.read_bytes())  # a well-formed JSON document
    return f"{report.entries} selected entries, {report.bytes_written} bytes"


def check_round_trip(run: _Run) -> str:
    from auditviewer.core.querying.window import EntryQuery, get_entries
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_import import import_file

    assert run.store is not None
    assert run.exported is not None
    second = Store.open(run.folder / "round-trip.sqlite")
    run.closers.append(second.close)
    report = import_file(second, run.exported)
    _require(report.imported == len(run.selected), f"{report.imported} re-imported")
    with EntryQuery(second) as query:
        seqs = list(query.iter_seqs())

    def fingerprints(store: Store, wanted: list[int]) -> list[tuple[str, str, str]]:
        return sorted((e.raw_sha256, e.content_sha256, e.raw) for e in get_entries(store, wanted))

    original = fingerprints(run.store, run.selected)
    copy = fingerprints(second, seqs)
    _require(len(copy) == len(original), f"{len(copy)} entries back, {len(original)} sent")
    _require(copy == original, "raw texts or hashes differ after the round trip")
    return f"{len(copy)} entries re-imported with identical raw texts and hashes"


def check_evidence_pack(run: _Run) -> str:
    from auditviewer.core.packs.pack import write_evidence_pack
    from auditviewer.core.packs.pack_check import check_pack
    from auditviewer.core.packs.signing import signing_key

    assert run.store is not None
    # A key of its own in the temporary folder: the user's signing key is never touched.
    key = signing_key(run.folder / "signing-key.pem", use_keyring=False)
    folder = run.folder / "evidence-pack"
    report = write_evidence_pack(run.store, folder, key=key, seqs=run.selected)
    checked = check_pack(folder, expected_fingerprint=key.fingerprint)
    _require(checked.ok, f"the pack does not check out: {checked.summary()}")
    return f"{report.entries} entries packed, signed with Ed25519, and checked"


def check_review_report(run: _Run) -> str:
    from auditviewer.core.reviewing.marks import mark
    from auditviewer.core.reviewing.report import build_report
    from auditviewer.core.reviewing.reviews import sign_review, start_review
    from auditviewer.ui.reports.review_pdf import write_report_pdf

    assert run.store is not None
    review = start_review(run.store, "Self-test", reviewer="self-test")
    mark(run.store, review.id, run.selected[:1], "flagged", note="<b>plain</b>")
    sign_review(run.store, review.id, by="self-test", statement="Checked by the self-test.")
    path = run.folder / "review.pdf"
    size = write_report_pdf(build_report(run.store, review.id), path)
    _require(path.read_bytes().startswith(b"%PDF-"), "the review report is not a PDF")
    return f"a signed review's report written as PDF, {size} bytes"


def check_keyring(_run: _Run) -> str:
    from importlib.metadata import entry_points

    import keyring

    # keyring finds its backends through package metadata at run time.
    backends = entry_points(group="keyring.backends")
    _require(len(backends) > 0, "no keyring backends are registered")
    for backend in backends:
        backend.load()
    active = keyring.get_keyring()
    return f"{len(backends)} backends load; active: {type(active).__module__}"


def check_tls(_run: _Run) -> str:
    import ssl

    import certifi
    import httpx
    import truststore
    from cryptography import __version__ as cryptography_version

    from auditviewer.core.sync.network import ssl_context

    # The bundled list (certifi's cacert.pem) must be inside the build, and the sync client's
    # context (the system's trust store through truststore, plus that list) must build.
    bundled = ssl.create_default_context(cafile=certifi.where())
    certificates = len(bundled.get_ca_certs())
    _require(certificates > 0, "no CA certificates in the bundled list")
    ssl_context()
    return (
        f"httpx {httpx.__version__}, truststore {truststore.__version__}, cryptography "
        f"{cryptography_version}, {certificates} CA certificates"
    )


CHECKS: tuple[tuple[str, Callable[[_Run], str]], ...] = (
    ("version", check_version),
    ("resources", check_resources),
    ("qt", check_qt),
    ("store", check_store),
    ("parser process", check_parser_process),
    ("import", check_import),
    ("window", check_window),
    ("filter", check_filter),
    ("export", check_export),
    ("round trip", check_round_trip),
    ("evidence pack", check_evidence_pack),
    ("review report", check_review_report),
    ("keyring", check_keyring),
    ("tls", check_tls),
)


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"


@contextmanager
def _offscreen() -> Iterator[None]:
    saved = os.environ.get("QT_QPA_PLATFORM")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("QT_QPA_PLATFORM", None)
        else:
            os.environ["QT_QPA_PLATFORM"] = saved


def _close(run: _Run) -> None:
    for close in reversed(run.closers):
        try:
            close()
        except Exception:  # cleaning up must not hide the verdict
            traceback.print_exc()
    if run.app is not None:
        run.app.processEvents()
    if run.window is not None:
        run.window.deleteLater()
        if run.app is not None:
            run.app.processEvents()


def run_self_test(out: Any = None) -> int:
    """Runs every check, one line each on ``out`` (stdout); 0 if all passed, else 1."""
    stream = out if out is not None else sys.stdout
    failed = False
    started = time.perf_counter()
    with (
        _offscreen(),
        tempfile.TemporaryDirectory(prefix="auditviewer-selftest-") as folder,
    ):
        run = _Run(Path(folder))
        try:
            for name, check in CHECKS:
                if failed:
                    print(f"skip  {name}", file=stream)
                    continue
                try:
                    detail = check(run)
                except Exception as exc:
                    failed = True
                    print(f"FAIL  {name}: {type(exc).__name__}: {exc}", file=stream)
                    if not isinstance(exc, CheckFailed):
                        traceback.print_exc()
                else:
                    print(f"ok    {name}: {detail}", file=stream)
                stream.flush()
        finally:
            _close(run)
    verdict = "FAILED" if failed else "passed"
    print(f"self-test {verdict} ({_ms(started)})", file=stream)
    return 1 if failed else 0


# --- start-up probe (packaging/measure_startup.py) ---------------------------------------------


def run_startup_probe() -> int:
    """Starts the viewer as ``run_gui`` does, on a new empty store, offscreen, and quits.

    Prints one JSON line of wall-clock times (``time.time()``): ``first_paint`` (the window's
    first paint event) and ``ready`` (the store is open and its page painted), so that the
    caller can measure them from the moment it started the process.
    """
    with _offscreen(), tempfile.TemporaryDirectory(prefix="auditviewer-probe-") as folder:
        from PySide6.QtCore import QEvent, QObject, QTimer

        from auditviewer.ui.app import create_application, start_window

        app = create_application([sys.argv[0] if sys.argv else "auditviewer"])
        times: dict[str, float] = {}
        holder: dict[str, Any] = {}

        class FirstPaint(QObject):
            def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    now = time.time()
                    times.setdefault("first_paint", now)
                    window = holder.get("window")
                    if window is not None and window.store is not None and "ready" not in times:
                        times["ready"] = now
                        QTimer.singleShot(0, app.quit)
                return False

        watcher = FirstPaint()
        app.installEventFilter(watcher)
        store_path = Path(folder) / "store.sqlite"
        window = start_window(store_path, [], temporary_settings(Path(folder)))
        holder["window"] = window
        QTimer.singleShot(TIMEOUT_MS, app.quit)
        app.exec()
        app.removeEventFilter(watcher)
        window.close()
        del window, holder["window"]
    print(json.dumps(times), flush=True)
    return 0 if "ready" in times else 1


if __name__ == "__main__":
    raise SystemExit(run_self_test())
