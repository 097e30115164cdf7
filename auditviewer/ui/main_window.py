"""The main window: menus, drag and drop, the welcome view or the entry browser, the status bar.

The window is built from light parts only, so that it can be shown before SQLAlchemy and the
store are imported; :meth:`MainWindow.open_store` brings in the heavy parts afterwards.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

import auditviewer
from auditviewer.ui.plain_text import menu_text, plain_label, plain_message_box, visible
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.task_progress import TaskProgress, human_bytes

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store
    from auditviewer.ui.entry_browser import EntryBrowser
    from auditviewer.ui.export_worker import ExportRequest, ExportWorker
    from auditviewer.ui.import_report_dialog import ImportReportDialog
    from auditviewer.ui.import_worker import ImportWorker
    from auditviewer.ui.index_worker import IndexWorker
    from auditviewer.ui.sync_worker import SyncController
    from auditviewer.ui.verify_dialog import VerifyDialog
    from auditviewer.ui.welcome_view import WelcomeView

log = logging.getLogger(__name__)

APP_TITLE = "auditviewer"
EXPORT_FILTERS = "Audit-log exports (*.json *.jsonl *.ndjson *.gz);;All files (*)"
PANELS = (
    ("controls", "Filter &Controls"),
    ("timeline", "&Timeline"),
    ("facets", "&Facets"),
    ("side", "&Side Panel"),
)


class MainWindow(QMainWindow):
    """The application window over one store."""

    def __init__(self, settings: UiSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store: Store | None = None
        self.browser: EntryBrowser | None = None
        self.welcome: WelcomeView | None = None
        self.import_worker: ImportWorker | None = None
        self.export_worker: ExportWorker | None = None
        self.report_dialog: ImportReportDialog | None = None
        self.index_worker: IndexWorker | None = None
        self.sync_controller: SyncController | None = None
        self.verify_dialog: VerifyDialog | None = None
        self._queued_files: list[Path] = []
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.pages = QStackedWidget(self)
        self.loading = plain_label("Opening the store…")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.loading)
        self.setCentralWidget(self.pages)

        self.status_label = plain_label("")
        self.statusBar().addWidget(self.status_label, 1)
        self.task_progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.task_progress)
        self.task_progress.cancel_requested.connect(self.cancel_task)
        self.index_progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.index_progress)
        self.index_progress.cancel_requested.connect(self.stop_indexing)

        self._build_menus()
        geometry = settings.state("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._update_actions()

    # --- menus -------------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open Export…", self.choose_files, QKeySequence.StandardKey.Open
        )
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.sample_action = self._action("Load &Sample Data", self.load_sample)
        file_menu.addAction(self.sample_action)
        self.sync_action = self._action("S&ync…", self.show_sync_dialog)
        file_menu.addAction(self.sync_action)
        file_menu.addSeparator()
        self.export_action = self._action("&Export…", self.export_entries, "Ctrl+E")
        file_menu.addAction(self.export_action)
        self.verify_action = self._action("&Verify Store…", self.show_verify_dialog)
        file_menu.addAction(self.verify_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        self.copy_action = self._action(
            "&Copy Entries as JSON", self.copy_entries, QKeySequence.StandardKey.Copy
        )
        # Only while the table has focus: text fields keep their own Ctrl+C.
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        edit_menu.addAction(self.copy_action)
        self.find_action = self._action("&Find…", self.focus_search, QKeySequence.StandardKey.Find)
        edit_menu.addAction(self.find_action)
        self.clear_filter_action = self._action("C&lear Filter", self.clear_filter)
        edit_menu.addAction(self.clear_filter_action)

        view_menu = bar.addMenu("&View")
        self.columns_menu = view_menu.addMenu("&Columns")
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.utc_action = QAction("Times in &UTC", self)
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(self.settings.utc_times)
        self.utc_action.toggled.connect(self._set_utc)
        view_menu.addAction(self.utc_action)
        view_menu.addSeparator()
        self.panel_actions: dict[str, QAction] = {}
        for key, title in PANELS:
            action = QAction(title, self)
            action.setCheckable(True)
            action.setChecked(self.settings.visible(key))
            action.toggled.connect(lambda on, key=key: self._set_panel_visible(key, on))
            view_menu.addAction(action)
            self.panel_actions[key] = action

        help_menu = bar.addMenu("&Help")
        self.about_action = self._action("&About auditviewer", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        for path in recent:
            action = self.recent_menu.addAction(menu_text(path, 120))
            action.triggered.connect(lambda _=False, path=path: self.import_files([path]))
        if not recent:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
            return
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent Files", self.settings.clear_recent_files)

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        if self.browser is None:
            return
        self.browser.table.fill_columns_menu(self.columns_menu)

    def _update_actions(self) -> None:
        has_store = self.store is not None
        # A read-only store can be browsed and exported, never added to.
        writable = has_store and not (self.store is not None and self.store.read_only)
        busy = (
            self.import_worker is not None
            or self.export_worker is not None
            or self.syncing
            or self.verifying
        )
        browsing = self.browser is not None
        for action in (self.open_action, self.sample_action):
            action.setEnabled(writable)
        self.recent_menu.setEnabled(writable)
        self.sync_action.setEnabled(writable and not busy)
        self.export_action.setEnabled(browsing and not busy)
        self.verify_action.setEnabled(has_store)
        for action in (self.copy_action, self.find_action, self.clear_filter_action):
            action.setEnabled(browsing)
        self.columns_menu.setEnabled(browsing)
        if self.welcome is not None:
            self.welcome.open_button.setEnabled(writable)
            self.welcome.sync_button.setEnabled(writable and not busy)

    # --- the store ---------------------------------------------------------------------------

    def open_store(self, path: Path) -> bool:
        """Opens (or creates) the store and shows its entries; False if it cannot be used."""
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.querying.columns import preload
        from auditviewer.core.reference import ActionReference
        from auditviewer.core.store.connection import Store
        from auditviewer.ui.entry_browser import EntryBrowser

        try:
            store = Store.open(path)
        except AuditViewerError as exc:
            self.loading.setText(visible(f"Cannot open the store: {exc}", 2000))
            self._error("Cannot open the store", str(exc))
            return False
        self.store = store
        # The column cache loads while the widgets are built; the first query waits for it.
        preload(store)
        read_only = " (read-only)" if store.read_only else ""
        self.setWindowTitle(f"{APP_TITLE} — {visible(path.name, 80)}{read_only}")
        browser = EntryBrowser(store, ActionReference.load(), self.settings, self)
        browser.status_changed.connect(self._show_status)
        browser.copy_requested.connect(self.copy_entries)
        for key, action in self.panel_actions.items():
            browser.set_panel_visible(key, action.isChecked())
        browser.set_utc(self.utc_action.isChecked())
        self.browser = browser
        browser.table.addAction(self.copy_action)
        self.pages.addWidget(browser)
        self._show_page()
        self._update_actions()
        if self._queued_files:
            queued, self._queued_files = self._queued_files, []
            self.import_files(queued)
        else:
            self.start_indexing()
        return True

    def _show_status(self, text: str) -> None:
        self.status_label.setText(visible(text, 400))

    def _show_page(self) -> None:
        if self.browser is None:
            return
        if self.browser.total_count == 0:
            if self.welcome is None:
                from auditviewer.ui.welcome_view import WelcomeView

                self.welcome = WelcomeView(self)
                self.welcome.open_requested.connect(self.choose_files)
                self.welcome.sample_requested.connect(self.load_sample)
                self.welcome.sync_requested.connect(self.show_sync_dialog)
                self._update_actions()
                self.pages.addWidget(self.welcome)
            self.pages.setCurrentWidget(self.welcome)
        else:
            self.pages.setCurrentWidget(self.browser)

    # --- import ------------------------------------------------------------------------------

    def choose_files(self) -> None:
        """Asks for export files and imports them."""
        names, _ = QFileDialog.getOpenFileNames(
            self, "Open audit-log export", self.settings.last_folder, EXPORT_FILTERS
        )
        if names:
            self.settings.last_folder = str(Path(names[0]).parent)
            self.import_files([Path(name) for name in names])

    def load_sample(self) -> None:
        """Imports the bundled sample export."""
        from auditviewer.ui.welcome_view import sample_export_path

        path = sample_export_path()
        if path is None:
            self._error("No sample data", "This build of auditviewer has no sample export.")
            return
        self.import_files([path], remember=False)

    def import_files(self, paths: list[Path], *, remember: bool = True) -> None:
        """Imports files in the background (queued while the store opens or another runs)."""
        if remember:
            for path in paths:
                self.settings.add_recent_file(path)
        if self.store is None or self.import_worker is not None or self.syncing or self.verifying:
            self._queued_files.extend(paths)
            return
        from auditviewer.ui.import_worker import ImportWorker

        # One writer at a time: the import waits for no index chunk, and indexing resumes after.
        self.stop_indexing(wait=True)
        worker = ImportWorker(self.store, list(paths), self)
        worker.progressed.connect(self._on_import_progress)
        worker.finished.connect(self._on_import_finished)
        self.import_worker = worker
        self.task_progress.start(f"Importing {visible(paths[0].name, 60)}…")
        self._update_actions()
        worker.start()

    def _on_import_progress(self, index: int, count: int, done: int, total: int, n: int) -> None:
        worker = self.import_worker
        if worker is None:
            return
        name = visible(worker.paths[index].name, 60)
        prefix = f"File {index + 1} of {count}: " if count > 1 else ""
        text = f"{prefix}{name} — {human_bytes(done)} of {human_bytes(total)}, {n:,} entries"
        self.task_progress.update_progress(text, done, total)

    def _on_import_finished(self) -> None:
        worker = self.import_worker
        self.import_worker = None
        self.task_progress.finish()
        self._update_actions()
        if worker is None:
            return
        worker.deleteLater()
        if self.browser is not None:
            self.browser.refresh()
        self._show_page()
        if worker.reports or worker.cancelled:
            self._show_import_report(worker)
        elif worker.failures:
            message = "\n\n".join(message for _, message in worker.failures)
            self._error("The file could not be imported", message)
        if self._queued_files:
            queued, self._queued_files = self._queued_files, []
            self.import_files(queued, remember=False)
        else:
            self.start_indexing()

    # --- full-text index ---------------------------------------------------------------------

    def start_indexing(self) -> None:
        """Indexes new entries for text search in the background."""
        if (
            self.store is None
            or self.store.read_only
            or self.index_worker is not None
            or self.import_worker is not None
            or self.verifying
        ):
            return
        from auditviewer.ui.index_worker import IndexWorker

        worker = IndexWorker(self.store, self)
        worker.progressed.connect(self._on_index_progress)
        worker.finished.connect(self._on_index_finished)
        self.index_worker = worker
        worker.start()

    def _on_index_progress(self, done: int, total: int) -> None:
        if not self.index_progress.isVisible():
            self.index_progress.start("Indexing text…")
        self.index_progress.update_progress(
            f"Indexing text for search: {done:,} of {total:,}", done, total
        )

    def _on_index_finished(self) -> None:
        worker = self.index_worker
        self.index_worker = None
        self.index_progress.finish()
        if worker is None:
            return
        worker.deleteLater()
        if worker.error is not None:
            self.statusBar().showMessage(
                visible(f"Text indexing stopped: {worker.error}", 300), 8000
            )

    def stop_indexing(self, *, wait: bool = False) -> None:
        """Stops indexing after its current chunk (what was indexed is kept)."""
        worker = self.index_worker
        if worker is None:
            return
        worker.cancel()
        if wait:
            worker.finished.disconnect(self._on_index_finished)
            worker.wait()
            self._on_index_finished()

    def _show_import_report(self, worker: ImportWorker) -> None:
        from auditviewer.ui.import_report_dialog import ImportReportDialog

        dialog = ImportReportDialog(worker.reports, worker.failures, worker.cancelled, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show_entries.connect(self._show_sources)
        dialog.finished.connect(self._forget_report)
        self.report_dialog = dialog
        dialog.open()

    def _forget_report(self) -> None:
        self.report_dialog = None

    def _show_sources(self, source_ids: tuple[int, ...], quarantined: bool) -> None:
        if self.browser is not None:
            self.browser.show_sources(source_ids, quarantined=quarantined)
            self._show_page()

    def cancel_task(self) -> None:
        """Asks the running import or export to stop."""
        if self.import_worker is not None:
            self.import_worker.cancel()
        if self.sync_controller is not None:
            self.sync_controller.cancel()
        if self.export_worker is not None:
            self.export_worker.cancel()

    # --- sync --------------------------------------------------------------------------------

    @property
    def syncing(self) -> bool:
        """Whether a sync from the API is running."""
        return self.sync_controller is not None and self.sync_controller.running

    def show_sync_dialog(self) -> None:
        """File > Sync…: asks where to sync from, then syncs in the background."""
        if self.store is None:
            return
        if self.sync_controller is None:
            from auditviewer.ui.sync_worker import SyncController

            self.sync_controller = SyncController(self)
            self.sync_controller.running_changed.connect(self._update_actions)
        self.sync_controller.open_dialog()

    def refresh_entries(self) -> None:
        """Shows entries added to the store in the background (e.g. a page of a sync)."""
        if self.browser is not None:
            self.browser.refresh()
        self._show_page()

    def sync_finished(self) -> None:
        """After a sync: the last refresh, then queued imports or indexing."""
        self.refresh_entries()
        self._update_actions()
        if self._queued_files:
            queued, self._queued_files = self._queued_files, []
            self.import_files(queued, remember=False)
        else:
            self.start_indexing()

    # --- verify ------------------------------------------------------------------------------

    @property
    def verifying(self) -> bool:
        """Whether the store is being checked or its indexes rebuilt (no other write starts)."""
        return self.verify_dialog is not None and self.verify_dialog.running

    def show_verify_dialog(self) -> None:
        """File > Verify Store…: checks the store in the background; offers to rebuild indexes."""
        if self.store is None:
            return
        if self.verify_dialog is None:
            from auditviewer.ui.verify_dialog import VerifyDialog

            self.verify_dialog = VerifyDialog(self.store, self._may_rebuild, self)
            self.verify_dialog.work_started.connect(self._update_actions)
            self.verify_dialog.work_finished.connect(self._on_verify_finished)
        self.verify_dialog.show()
        self.verify_dialog.raise_()
        if not self.verify_dialog.running and self.verify_dialog.report is None:
            self.verify_dialog.start_check()

    def _on_verify_finished(self) -> None:
        """After a check or a rebuild: the imports that waited, or text indexing, run now."""
        self.sync_finished()

    def _may_rebuild(self) -> bool:
        """Whether indexes may be rebuilt now; stops text indexing, which resumes afterwards."""
        if self.import_worker is not None or self.syncing:
            return False
        self.stop_indexing(wait=True)
        return True

    # --- export and copy ---------------------------------------------------------------------

    def export_entries(self) -> None:
        """Asks what to export and where, then exports in the background."""
        if self.browser is None or self.store is None or self.export_worker is not None:
            return
        from auditviewer.ui.export_dialog import ExportDialog

        dialog = ExportDialog(
            self.browser.selection_count(),
            self.browser.match_count,
            self.settings.last_folder,
            self,
        )
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        request = dialog.request()
        if request is not None:
            self.start_export(request)

    def start_export(self, request: ExportRequest) -> None:
        """Exports in the background what ``request`` asks for."""
        if self.browser is None or self.store is None or self.export_worker is not None:
            return
        from auditviewer.ui.export_worker import ExportWorker

        self.settings.last_folder = str(request.path.parent)
        seqs = self.browser.selected_seqs() if request.selected_only else None
        worker = ExportWorker(self.store, request, self.browser.current_filter, seqs, self)
        worker.progressed.connect(self._on_export_progress)
        worker.finished.connect(self._on_export_finished)
        self.export_worker = worker
        self.task_progress.start(f"Exporting to {visible(request.path.name, 60)}…")
        self._update_actions()
        worker.start()

    def _on_export_progress(self, done: int, total: int) -> None:
        self.task_progress.update_progress(f"Exporting: {done:,} of {total:,} entries", done, total)

    def _on_export_finished(self) -> None:
        worker = self.export_worker
        self.export_worker = None
        self.task_progress.finish()
        self._update_actions()
        if worker is None:
            return
        worker.deleteLater()
        if worker.error is not None:
            self._error("The export failed", worker.error)
        elif worker.cancelled:
            self.statusBar().showMessage("Export cancelled; no file was written.", 8000)
        else:
            self.statusBar().showMessage(
                visible(f"Exported {worker.written:,} entries to {worker.request.path}", 300),
                8000,
            )

    def copy_entries(self) -> None:
        """Copies the selected entries as a JSON array of their original texts."""
        if self.browser is not None:
            self.browser.copy_selection()

    def focus_search(self) -> None:
        """Puts the cursor in the search box."""
        if self.browser is not None:
            self.pages.setCurrentWidget(self.browser)
            self.browser.focus_search()

    def clear_filter(self) -> None:
        """Shows every entry again."""
        if self.browser is not None:
            self.browser.clear_filter()

    # --- view --------------------------------------------------------------------------------

    def _set_utc(self, on: bool) -> None:
        self.settings.utc_times = on
        if self.browser is not None:
            self.browser.set_utc(on)

    def _set_panel_visible(self, key: str, on: bool) -> None:
        self.settings.set_visible(key, on)
        if self.browser is not None:
            self.browser.set_panel_visible(key, on)

    def show_about(self) -> None:
        """The About box, with the version."""
        box = plain_message_box(
            self,
            QMessageBox.Icon.Information,
            "About auditviewer",
            f"auditviewer {auditviewer.__version__}\n\n"
            "An offline archive and viewer for Memfault organization audit logs.\n\n"
            f"Store: {self.store.path if self.store is not None else '(none)'}",
        )
        box.open()
        self._about_box = box

    def _error(self, title: str, message: str) -> None:
        box = plain_message_box(self, QMessageBox.Icon.Warning, title, visible(message, 4000))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    # --- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event) and self.store is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = _local_files(event)
        if files and self.store is not None:
            event.acceptProposedAction()
            # Import once the drop has returned to the source application.
            QTimer.singleShot(0, lambda: self.import_files(files))
        else:
            event.ignore()

    # --- closing -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_state("geometry", self.saveGeometry())
        if self.browser is not None:
            self.browser.save_state()
        self.settings.sync()
        if self.sync_controller is not None:
            self.sync_controller.shutdown()
        if self.verify_dialog is not None:
            self.verify_dialog.shutdown()
        for worker in (self.import_worker, self.export_worker, self.index_worker):
            if worker is not None:
                worker.cancel()
                worker.wait()
        if self.browser is not None:
            self.browser.shutdown()
        if self.store is not None:
            self.store.close()
            self.store = None
        super().closeEvent(event)


def _local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
