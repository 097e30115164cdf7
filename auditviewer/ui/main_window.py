"""The main window: menus, drag and drop, the welcome view or the entry browser, the status bar.

The window is built from light parts only, so that it can be shown before SQLAlchemy and the
store are imported; :meth:`MainWindow.open_store` brings in the heavy parts afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import auditviewer
from auditviewer.core.wording import counted
from auditviewer.ui.plain_text import menu_text, plain_label, plain_message_box, visible
from auditviewer.ui.review.review_controller import ReviewController
from auditviewer.ui.review.saved_views import ViewsController
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table import COPY_AS_JSON, COPY_AS_JSON_TIP
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.runner import TaskRunner
from auditviewer.ui.tasks.task_progress import TaskProgress, human_bytes
from auditviewer.ui.tasks.view_jobs import ARCHIVE_JOB, VIEW_JOB, archive_job, view_job
from auditviewer.ui.view_banner import ViewBanner, viewed_name

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_views import FileView
    from auditviewer.ui.dialogs.activity_view import ActivityView
    from auditviewer.ui.dialogs.coverage_dialog import CoverageDialog
    from auditviewer.ui.dialogs.evidence_pack_dialog import EvidencePackDialog
    from auditviewer.ui.dialogs.import_report_dialog import ImportReportDialog
    from auditviewer.ui.dialogs.query_syntax_window import QuerySyntaxWindow
    from auditviewer.ui.dialogs.signing_key_dialog import KeySource, SigningKeyDialog
    from auditviewer.ui.dialogs.sync_controller import SyncController
    from auditviewer.ui.dialogs.verify_dialog import VerifyDialog
    from auditviewer.ui.dialogs.welcome_view import WelcomeView
    from auditviewer.ui.entry_browser import EntryBrowser
    from auditviewer.ui.tasks.jobs import ExportOutcome, ExportRequest, ImportOutcome

log = logging.getLogger(__name__)

APP_TITLE = "auditviewer"
EXPORT_FILTERS = "Audit-log exports (*.json *.jsonl *.ndjson *.gz);;All files (*)"
STORE_FILTERS = "auditviewer stores (*.sqlite *.db);;All files (*)"
# The jobs whose progress shows in the status bar with a Cancel button.
FOREGROUND_JOBS = ("import", "export", "sync", VIEW_JOB, ARCHIVE_JOB)
PANELS = (
    ("controls", "Filter Co&ntrols"),
    ("timeline", "&Timeline"),
    ("facets", "&Facets"),
    ("side", "&Side Panel"),
)


class MainWindow(QMainWindow):
    """The application window over one store: the archive, or the view of opened files.

    ``view_folder`` is where views of opened files are kept (the user cache folder unless
    given); the archive is the store last opened with :meth:`open_store`.
    """

    def __init__(
        self,
        settings: UiSettings,
        parent: QWidget | None = None,
        *,
        view_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store: Store | None = None
        self.archive_path: Path | None = None
        self.view_folder = view_folder
        # The files the shown view holds; empty while the archive is shown.
        self.viewed_files: tuple[Path, ...] = ()
        self.archive_store: Store | None = None
        self.browser: EntryBrowser | None = None
        self.welcome: WelcomeView | None = None
        self.report_dialog: ImportReportDialog | None = None
        self.sync_controller: SyncController | None = None
        self.verify_dialog: VerifyDialog | None = None
        self.query_syntax_window: QuerySyntaxWindow | None = None
        self.evidence_dialog: EvidencePackDialog | None = None
        self.signing_key_dialog: SigningKeyDialog | None = None
        self.activity_view: ActivityView | None = None
        self.coverage_dialog: CoverageDialog | None = None
        # Where the evidence signing key is kept (None: the user's own; tests give their own).
        self.key_source: KeySource | None = None
        # The moment the coverage report is computed for (None: now; tests fix it).
        self.coverage_now: Callable[[], int] | None = None
        self.tasks = TaskRunner(self)
        self.tasks.job_started.connect(self._on_job_started)
        self.tasks.job_finished.connect(self._on_job_finished)
        self.tasks.busy_changed.connect(self._update_actions)
        self.tasks.entries_added.connect(self.refresh_entries)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.pages = QStackedWidget(self)
        self.loading = plain_label("Opening the store…")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.loading)
        self.banner = ViewBanner(self)
        self.banner.hide()
        self.banner.add_requested.connect(self.add_to_archive)
        self.review = ReviewController(self.tasks, settings, self)
        self.review.message.connect(self._show_message)
        self.review.marked.connect(self._on_marked)
        self.views = ViewsController(self.tasks, settings, self)
        self.views.message.connect(self._show_message)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.review.bar)
        column.addWidget(self.review.context_banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.status_label = plain_label("")
        self.statusBar().addWidget(self.status_label, 1)
        self.task_progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.task_progress)
        self.task_progress.cancel_requested.connect(self.cancel_task)
        self.index_progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.index_progress)
        self.index_progress.cancel_requested.connect(self.tasks.stop_indexing)

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
            "&Open File…", self.choose_files_to_view, QKeySequence.StandardKey.Open
        )
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.sample_action = self._action("View &Sample Data", self.load_sample)
        file_menu.addAction(self.sample_action)
        self.back_action = self._action("&Back to Archive", self.back_to_archive)
        file_menu.addAction(self.back_action)
        self.remove_views_action = self._action("Re&move Cached Views…", self.remove_cached_views)
        file_menu.addAction(self.remove_views_action)
        file_menu.addSeparator()
        self.import_action = self._action("&Import into Archive…", self.choose_files, "Ctrl+I")
        file_menu.addAction(self.import_action)
        self.sync_action = self._action("S&ync…", self.show_sync_dialog)
        file_menu.addAction(self.sync_action)
        self.open_store_action = self._action("Open S&tore…", self.choose_store)
        file_menu.addAction(self.open_store_action)
        self.new_store_action = self._action("&New Store…", self.choose_new_store)
        file_menu.addAction(self.new_store_action)
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
            COPY_AS_JSON, self.copy_entries, QKeySequence.StandardKey.Copy
        )
        self.copy_action.setToolTip(COPY_AS_JSON_TIP)
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
        self.sort_menu = view_menu.addMenu("Sort &By")
        self.sort_menu.aboutToShow.connect(self._fill_sort_menu)
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

        self.views.utc = self.utc_action.isChecked()
        self.views.utc_requested.connect(self.utc_action.setChecked)
        self.utc_action.toggled.connect(lambda on: setattr(self.views, "utc", on))
        views_menu = bar.addMenu("V&iews")
        self.views.fill_menu(views_menu)

        review_menu = bar.addMenu("&Review")
        self.review.fill_menu(review_menu)

        help_menu = bar.addMenu("&Help")
        self.query_syntax_action = self._action(
            "&Query Syntax", self.show_query_syntax, QKeySequence.StandardKey.HelpContents
        )
        help_menu.addAction(self.query_syntax_action)
        help_menu.addAction(self.review.keys_action)
        self.about_action = self._action("&About auditviewer", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)
        self._build_evidence_menus(file_menu, view_menu, help_menu)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        for path in recent:
            action = self.recent_menu.addAction(menu_text(path, 120))
            action.triggered.connect(lambda _=False, path=path: self.open_files([path]))
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

    def _fill_sort_menu(self) -> None:
        self.sort_menu.clear()
        if self.browser is None:
            return
        self.browser.table.fill_sort_menu(self.sort_menu)

    def _update_actions(self) -> None:
        has_store = self.store is not None
        # A read-only store can be browsed and exported, never added to.
        writable = has_store and not (self.store is not None and self.store.read_only)
        busy = self.busy
        viewing = bool(self.viewed_files)
        browsing = self.browser is not None
        for action in (self.open_action, self.sample_action, self.open_store_action):
            action.setEnabled(not busy)
        self.new_store_action.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        self.back_action.setEnabled(viewing and not busy)
        self.remove_views_action.setEnabled(not self.tasks.running(VIEW_JOB))
        self.import_action.setEnabled(not busy and (writable or viewing))
        self.banner.add_button.setEnabled(not busy)
        self.sync_action.setEnabled(writable and not viewing and not busy)
        self.export_action.setEnabled(browsing and not busy)
        self.verify_action.setEnabled(has_store)
        for action in (self.copy_action, self.find_action, self.clear_filter_action):
            action.setEnabled(browsing)
        self.columns_menu.setEnabled(browsing)
        self.sort_menu.setEnabled(browsing)
        self._update_evidence_actions()
        self.review.update_actions()
        self.views.update_actions()
        if self.welcome is not None:
            self.welcome.open_button.setEnabled(writable)
            self.welcome.sync_button.setEnabled(writable and not busy)

    # --- the store ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether work runs that the store on screen must stay open for."""
        return any(
            self.tasks.running(name) for name in (*FOREGROUND_JOBS, "verify", "evidence pack")
        )

    def open_store(self, path: Path, *, create: bool = True) -> bool:
        """Opens (or, with ``create``, creates) the store as the archive and shows its entries
        in place of what was shown; False (and nothing changes) if it cannot be used."""
        store = self._open(path, create=create, title="Cannot open the store")
        if store is None:
            return False
        self.archive_path = path
        self._show_store(store, ())
        return True

    def _open(self, path: Path, *, create: bool, title: str) -> Store | None:
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.store.connection import Store

        try:
            return Store.open(path, create=create)
        except AuditViewerError as exc:
            if self.store is None:
                self.loading.setText(visible(f"{title}: {exc}", 2000))
            self._error(title, str(exc))
            return None

    def _show_store(self, store: Store, viewed_files: tuple[Path, ...]) -> None:
        """Shows ``store`` (the archive, or the view of ``viewed_files``) in the window."""
        from auditviewer.core.querying.columns import preload
        from auditviewer.core.reference import ActionReference
        from auditviewer.ui.entry_browser import EntryBrowser

        self._close_store()
        self.store = store
        self.viewed_files = viewed_files
        # The column cache loads while the widgets are built; the first query waits for it.
        preload(store)
        self._update_title()
        if viewed_files:
            self.banner.show_files(viewed_files)
        else:
            self.banner.hide()
        browser = EntryBrowser(store, ActionReference.load(), self.settings, self)
        browser.status_changed.connect(self._show_status)
        browser.copy_requested.connect(self.copy_entries)
        browser.export_selected_requested.connect(self.export_selected)
        browser.syntax_help_requested.connect(self.show_query_syntax)
        browser.panel_toggled.connect(self._show_panel_checked)
        for key, action in self.panel_actions.items():
            browser.set_panel_visible(key, action.isChecked())
        browser.set_utc(self.utc_action.isChecked())
        self.browser = browser
        browser.table.share_copy_action(self.copy_action)
        self.pages.addWidget(browser)
        self.review.attach(store, browser)
        self.views.attach(store, browser)
        self._show_page()
        self._update_actions()
        self.tasks.set_store(store)

    def _close_store(self) -> None:
        """Closes the store on screen and what was built over it (the window stays)."""
        if self.store is None:
            return
        self.tasks.shutdown()
        self.tasks.store = None
        self.review.detach()
        self.views.detach()
        self.index_progress.finish()
        self._close_evidence_dialogs()
        for dialog in (self.verify_dialog, self.report_dialog):
            if dialog is not None:
                dialog.close()
                dialog.deleteLater()
        self.verify_dialog = None
        self.report_dialog = None
        if self.browser is not None:
            self.browser.save_state()
            self.browser.shutdown()
            self.pages.removeWidget(self.browser)
            self.browser.deleteLater()
            self.browser = None
        self.pages.setCurrentWidget(self.loading)
        self.store.close()
        self.store = None
        self.viewed_files = ()

    def _update_title(self) -> None:
        """ "export.json (view) — auditviewer" or "store.sqlite — auditviewer": the store once."""
        if self.store is None:
            self.setWindowTitle(APP_TITLE)
            return
        if self.viewed_files:
            name = f"{viewed_name(self.viewed_files)} (view)"
        else:
            read_only = " (read-only)" if self.store.read_only else ""
            name = f"{visible(self.store.path.name, 80)}{read_only}"
        # "[*]" in a title is Qt's placeholder for the modified mark; doubled it is shown as is.
        self.setWindowTitle(f"{name.replace('[*]', '[*][*]')} — {APP_TITLE}")

    def _show_status(self, text: str) -> None:
        self.status_label.setText(visible(text, 400))

    def _show_page(self) -> None:
        if self.browser is None:
            return
        if self.browser.total_count == 0:
            if self.welcome is None:
                from auditviewer.ui.dialogs.welcome_view import WelcomeView

                self.welcome = WelcomeView(self)
                self.welcome.open_requested.connect(self.choose_files)
                self.welcome.view_requested.connect(self.choose_files_to_view)
                self.welcome.sample_requested.connect(self.load_sample)
                self.welcome.sync_requested.connect(self.show_sync_dialog)
                self._update_actions()
                self.pages.addWidget(self.welcome)
            self.pages.setCurrentWidget(self.welcome)
        else:
            self.pages.setCurrentWidget(self.browser)

    # --- import ------------------------------------------------------------------------------

    def choose_files(self) -> None:
        """File > Import into Archive…: asks for export files and imports them into the archive
        (from a view, the archive is shown first)."""
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Import into Archive — the imported entries are kept in the archive for good",
            self.settings.last_folder,
            EXPORT_FILTERS,
        )
        if not names:
            return
        self.settings.last_folder = str(Path(names[0]).parent)
        if self.viewed_files and not self.back_to_archive():
            return
        self.import_files([Path(name) for name in names])

    def load_sample(self) -> None:
        """Opens the bundled sample export as a view (it never enters the archive)."""
        from auditviewer.ui.dialogs.welcome_view import sample_export_path

        path = sample_export_path()
        if path is None:
            self._error("No sample data", "This build of auditviewer has no sample export.")
            return
        self.open_files([path], remember=False)

    def import_files(self, paths: list[Path], *, remember: bool = True) -> None:
        """Imports files in the background (queued while the store opens or another writes)."""
        if remember:
            for path in paths:
                self.settings.add_recent_file(path)
        self.tasks.import_files(list(paths))

    # --- views of opened files ---------------------------------------------------------------

    def choose_files_to_view(self) -> None:
        """File > Open File…: asks for export files and shows them in a view."""
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Open File — shown in a view, not added to your archive",
            self.settings.last_folder,
            EXPORT_FILTERS,
        )
        if names:
            self.settings.last_folder = str(Path(names[0]).parent)
            self.open_files([Path(name) for name in names])

    def view_cache_folder(self) -> Path:
        """Where views are kept: the folder given to the window, else the user cache folder."""
        if self.view_folder is None:
            from auditviewer.core.paths import view_cache_folder

            self.view_folder = view_cache_folder()
        return self.view_folder

    def open_files(self, paths: list[Path], *, remember: bool = True) -> bool:
        """Shows ``paths`` in one view of their own, built in the background (or reused); the
        archive is not touched. False when other work must end first."""
        if not paths or self.busy:
            if paths:
                self._show_message("Wait until the running task has finished, then open the file.")
            return False
        if remember:
            for path in paths:
                self.settings.add_recent_file(path)
        return self.tasks.start(view_job(self.view_cache_folder(), list(paths)))

    def _on_view_finished(self, job: Job) -> None:
        view: FileView | None = job.result
        if job.error is not None or job.cancelled or view is None:
            if job.error is not None:
                self._error(
                    "The file could not be opened",
                    f"{job.error}\n\nNothing was added to your archive.",
                )
            else:
                self._show_message("Opening cancelled; nothing was added to your archive.")
            if self.store is None and self.archive_path is not None:
                self.open_store(self.archive_path)
            return
        store = self._open(view.path, create=False, title="The view could not be opened")
        if store is None:
            return
        self._show_store(store, view.files)
        name = viewed_name(view.files, 80)
        if view.reused:
            self._show_message(f"Viewing {name}; it is not in your archive.")
        else:
            entries = sum(report.parsed for report in view.reports)
            self._show_message(
                f"Viewing {name}: {entries:,} entr{'y' if entries == 1 else 'ies'} read; "
                "nothing was added to your archive."
            )

    def back_to_archive(self) -> bool:
        """File > Back to Archive: shows the archive in place of the view."""
        if self.archive_path is None or self.busy:
            return False
        return self.open_store(self.archive_path)

    def add_to_archive(self) -> None:
        """The banner's "Add to Archive…": after a confirmation naming the archive, imports the
        viewed files into it in the background; the view stays on screen."""
        if not self.viewed_files or self.archive_path is None or self.busy:
            return
        files = self.viewed_files
        box = plain_message_box(
            self,
            QMessageBox.Icon.Question,
            "Add to Archive",
            f"Add {viewed_name(files)} to your archive?\n\n"
            f"Archive: {visible(self.archive_path, 1000)}\n\n"
            "The archive keeps every entry it is given for good: they cannot be removed from "
            "it later.",
        )
        add_button = box.addButton("Add to Archive", QMessageBox.ButtonRole.AcceptRole)
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _result: (
                self._import_into_archive(files) if box.clickedButton() is add_button else None
            )
        )
        self.archive_box = box
        box.open()

    def _import_into_archive(self, files: tuple[Path, ...]) -> None:
        if self.archive_path is None or self.busy or self.archive_store is not None:
            return
        archive = self._open(
            self.archive_path, create=True, title="The archive could not be opened"
        )
        if archive is None:
            return
        self.archive_store = archive
        if not self.tasks.start(archive_job(archive, list(files))):
            self._close_archive_store()

    def _close_archive_store(self) -> None:
        if self.archive_store is not None:
            self.archive_store.close()
            self.archive_store = None

    def _on_archive_finished(self, job: Job) -> None:
        self._close_archive_store()
        outcome: ImportOutcome = job.result
        archive = visible(self.archive_path, 1000)
        if outcome.failures:
            message = "\n\n".join(message for _, message in outcome.failures)
            self._error("Nothing was added to the archive", message)
            return
        if outcome.cancelled or not outcome.reports:
            self._show_message("Adding to the archive was cancelled; the archive is unchanged.")
            return
        added = sum(report.imported for report in outcome.reports)
        known = sum(report.duplicates for report in outcome.reports)
        already = f" ({known:,} were in it already)" if known else ""
        box = plain_message_box(
            self,
            QMessageBox.Icon.Information,
            "Added to the archive",
            f"{added:,} entr{'y' if added == 1 else 'ies'} of {viewed_name(outcome.paths)} "
            f"added to the archive {archive}{already}.\n\nSwitch to the archive now?",
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda result: (
                self.back_to_archive() if result == QMessageBox.StandardButton.Yes else None
            )
        )
        self.switch_box = box
        box.open()

    def remove_cached_views(self) -> None:
        """File > Remove Cached Views…: deletes the views kept in the cache folder (the one on
        screen stays); the files they were made from and the archive are not touched."""
        from auditviewer.core.store.file_views import ViewCache

        cache = ViewCache(self.view_cache_folder())
        shown = self.store.path if self.viewed_files and self.store is not None else None
        others = [view for view in cache.views() if view.path != shown]
        folder = visible(cache.folder, 1000)
        if not others:
            self._show_message(f"No cached views to remove in {folder}.")
            return
        size = human_bytes(sum(view.size_bytes for view in others))
        count = f"{len(others):,} cached view{'s' if len(others) != 1 else ''}"
        kept = "\n\nThe view on screen is kept." if shown is not None else ""
        box = plain_message_box(
            self,
            QMessageBox.Icon.Question,
            "Remove Cached Views",
            f"Remove {count} ({size}) from {folder}?\n\nViews only hold copies of files you "
            f"opened: the files themselves and your archive are not touched, and opening a "
            f"file again builds its view anew.{kept}",
        )
        remove_button = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def remove(_result: int) -> None:
            if box.clickedButton() is remove_button:
                freed = cache.remove(keep=shown)
                self._show_message(f"Removed {count}; {human_bytes(freed)} freed.")

        box.finished.connect(remove)
        self.remove_box = box
        box.open()

    # --- switching archives ------------------------------------------------------------------

    def choose_store(self) -> None:
        """File > Open Store…: switches to another archive, which the next start opens too."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open Store", self._store_folder(), STORE_FILTERS
        )
        if name:
            self.switch_store(Path(name), create=False)

    def choose_new_store(self) -> None:
        """File > New Store…: creates a new, empty archive and switches to it."""
        name, _ = QFileDialog.getSaveFileName(
            self,
            "New Store",
            str(Path(self._store_folder()) / "store.sqlite"),
            STORE_FILTERS,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:
            self.switch_store(Path(name), create=True)

    def switch_store(self, path: Path, *, create: bool) -> bool:
        """Shows the store at ``path`` as the archive and remembers it for the next start.

        A new store is never made over an existing file: an existing store is opened, any
        other file is refused and left as it is.
        """
        if self.busy:
            self._show_message("Wait until the running task has finished, then switch stores.")
            return False
        if create and path.exists() and not _holds_store(path):
            self._error(
                "Cannot create the store",
                f"{path}: this file exists and is not an auditviewer store; it was left as it "
                "is. Choose another name for the new store.",
            )
            return False
        if not self.open_store(path, create=create):
            return False
        self.settings.last_store = path
        return True

    def _store_folder(self) -> str:
        if self.archive_path is not None:
            return str(self.archive_path.parent)
        return self.settings.last_folder

    # --- background jobs ---------------------------------------------------------------------

    def _on_job_started(self, job: Job) -> None:
        if job.name in FOREGROUND_JOBS:
            self.task_progress.start(job.title)
            job.progressed.connect(self._on_task_progress)
        elif job.name == "index":
            job.progressed.connect(self._on_index_progress)

    def _on_task_progress(self, text: str, done: int, total: int) -> None:
        if not self.task_progress.cancel_button.isEnabled():
            return  # cancelling: keep saying so
        self.task_progress.update_progress(text, done, total)

    def _on_index_progress(self, text: str, done: int, total: int) -> None:
        if not self.index_progress.isVisible():
            self.index_progress.start("Indexing text…")
        self.index_progress.update_progress(text, done, total)

    def _on_job_finished(self, job: Job) -> None:
        if job.name in FOREGROUND_JOBS:
            self.task_progress.finish()
        if job.name == "index":
            self.index_progress.finish()
            if job.error is not None:
                message = f"Text indexing stopped: {job.error}"
                self.statusBar().showMessage(visible(message, 300), 8000)
        elif job.name == "import":
            self.refresh_entries()
            self._on_import_finished(job.result)
        elif job.name == "export":
            self._on_export_finished(job)
        elif job.name == VIEW_JOB:
            self._on_view_finished(job)
        elif job.name == ARCHIVE_JOB:
            self._on_archive_finished(job)
        elif job.name in ("sync", "verify"):
            self.refresh_entries()
        self._after_custody_change(job)

    def _on_marked(self, facets: dict[str, list[object]] | None) -> None:
        """Marks were stored: the review column, the facets and the details show them."""
        browser = self.browser
        if browser is None:
            return
        if browser.current_filter.has_review_terms or browser.model.sort_order.column == "review":
            browser.refresh()  # the rows a review term matches, or their order, change with marks
            return
        browser.model.refresh_marks()
        if facets is not None:
            browser.facets.set_facets(facets)
        else:
            browser.facets.set_updating(True)
            browser.aggregates.request(browser.current_filter)
        browser.show_details_now()

    def cancel_task(self) -> None:
        """Asks the running import, export or sync to stop."""
        self.tasks.cancel(*FOREGROUND_JOBS)

    def refresh_entries(self) -> None:
        """Shows entries added to the store in the background (an import, a page of a sync)."""
        if self.browser is not None:
            self.browser.refresh()
        self._show_page()

    # --- import ------------------------------------------------------------------------------

    def _on_import_finished(self, outcome: ImportOutcome) -> None:
        if outcome.reports or outcome.cancelled:
            self._show_import_report(outcome)
        elif outcome.failures:
            from auditviewer.core.wording import rejection

            count = len(outcome.failures)
            title = (
                "The file was not imported" if count == 1 else f"{count} files were not imported"
            )
            message = "\n\n".join(rejection(message) for _, message in outcome.failures)
            self._error(title, message)

    def _show_import_report(self, outcome: ImportOutcome) -> None:
        from auditviewer.ui.dialogs.import_report_dialog import ImportReportDialog

        dialog = ImportReportDialog(outcome.reports, outcome.failures, outcome.cancelled, self)
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

    # --- sync --------------------------------------------------------------------------------

    @property
    def syncing(self) -> bool:
        """Whether a sync from the API is running."""
        return self.tasks.running("sync") is not None

    def show_sync_dialog(self) -> None:
        """File > Sync…: asks where to sync from, then syncs in the background."""
        if self.store is None:
            return
        if self.sync_controller is None:
            from auditviewer.ui.dialogs.sync_controller import SyncController

            self.sync_controller = SyncController(self.tasks, self.settings, self)
            self.sync_controller.status_message.connect(self._show_message)
        self.sync_controller.open_dialog()

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(visible(text, 400), 10000)

    # --- verify ------------------------------------------------------------------------------

    @property
    def verifying(self) -> bool:
        """Whether the store is being checked or its indexes rebuilt (no other write starts)."""
        return self.tasks.running("verify") is not None

    def show_verify_dialog(self) -> None:
        """File > Verify Store…: checks the store in the background; offers to rebuild indexes."""
        if self.store is None:
            return
        if self.verify_dialog is None:
            from auditviewer.ui.dialogs.verify_dialog import VerifyDialog

            self.verify_dialog = VerifyDialog(self.store, self.tasks, self)
        self.verify_dialog.show()
        self.verify_dialog.raise_()
        if not self.verify_dialog.running and self.verify_dialog.report is None:
            self.verify_dialog.start_check()

    # --- export and copy ---------------------------------------------------------------------

    def export_entries(self) -> None:
        """Asks what to export and where, then exports in the background."""
        self._open_export_dialog(selected=False)

    def export_selected(self) -> None:
        """The table's Export Selected…: the export dialog with the selected entries chosen."""
        self._open_export_dialog(selected=True)

    def _open_export_dialog(self, *, selected: bool) -> None:
        if self.browser is None or self.store is None or self.tasks.running("export"):
            return
        from auditviewer.ui.dialogs.export_dialog import ExportDialog

        selection = self.browser.selection_count()
        dialog = ExportDialog(selection, self.browser.match_count, self.settings.last_folder, self)
        if selected and selection:
            dialog.selected_radio.setChecked(True)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        request = dialog.request()
        if request is not None:
            self.start_export(request)

    def start_export(self, request: ExportRequest) -> None:
        """Exports in the background what ``request`` asks for."""
        if self.browser is None or self.store is None or self.tasks.running("export"):
            return
        from auditviewer.ui.tasks.jobs import export_job

        self.settings.last_folder = str(request.path.parent)
        seqs = self.browser.selected_seqs() if request.selected_only else None
        self.tasks.start(export_job(self.store, request, self.browser.current_filter, seqs))

    def _on_export_finished(self, job: Job) -> None:
        if job.error is not None:
            self._error("The export failed", job.error)
        elif job.cancelled:
            self.statusBar().showMessage("Export cancelled; no file was written.", 8000)
        else:
            outcome: ExportOutcome = job.result
            path = job.subject
            redacted = ", redacted," if outcome.redacted else ""
            text = f"Exported {counted(outcome.entries, 'entry')}{redacted} to {path}"
            if not outcome.logged:
                text += (
                    ". Not recorded in the store's custody log: the store is read-only "
                    "(or another program kept it busy)"
                )
            self.statusBar().showMessage(visible(text, 400), 12000)

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

    def _show_panel_checked(self, key: str, on: bool) -> None:
        """Ticks a panel's View menu item when the browser showed or hid the panel itself."""
        action = self.panel_actions.get(key)
        if action is not None:
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)

    def show_query_syntax(self) -> None:
        """Help > Query Syntax: the window listing every query term, beside the entries."""
        if self.query_syntax_window is None:
            from auditviewer.ui.dialogs.query_syntax_window import QuerySyntaxWindow

            self.query_syntax_window = QuerySyntaxWindow(self)
        self.query_syntax_window.show()
        self.query_syntax_window.raise_()
        self.query_syntax_window.activateWindow()

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

    # --- evidence: packs, the signing key, the custody log, coverage ---------------------------

    def _build_evidence_menus(self, file_menu: QMenu, view_menu: QMenu, help_menu: QMenu) -> None:
        self.evidence_action = self._action("Export Evidence &Pack…", self.show_evidence_dialog)
        actions = file_menu.actions()
        after_verify = actions[actions.index(self.verify_action) + 1]
        file_menu.insertAction(after_verify, self.evidence_action)
        view_menu.addSeparator()
        self.activity_action = self._action("&Activity", self.show_activity)
        view_menu.addAction(self.activity_action)
        self.coverage_action = self._action("C&overage…", self.show_coverage)
        view_menu.addAction(self.coverage_action)
        self.signing_key_action = self._action("&Signing Key…", self.show_signing_key)
        help_menu.insertAction(self.about_action, self.signing_key_action)

    def _update_evidence_actions(self) -> None:
        has_store = self.store is not None
        self.evidence_action.setEnabled(self.browser is not None and not self.busy)
        self.activity_action.setEnabled(has_store)
        self.coverage_action.setEnabled(has_store)

    def _key_source(self) -> KeySource:
        if self.key_source is None:
            from auditviewer.ui.dialogs.signing_key_dialog import KeySource

            self.key_source = KeySource.default()
        return self.key_source

    def show_evidence_dialog(self) -> None:
        """File > Export Evidence Pack…: a signed pack of the selection or of the filter."""
        if self.browser is None or self.store is None:
            return
        if self.evidence_dialog is not None and self.evidence_dialog.running:
            self.evidence_dialog.show()
            self.evidence_dialog.raise_()
            return
        from auditviewer.ui.dialogs.evidence_pack_dialog import EvidencePackDialog

        if self.evidence_dialog is not None:
            self.evidence_dialog.deleteLater()
        browser = self.browser
        self.evidence_dialog = EvidencePackDialog(
            self.store,
            self.tasks,
            self.settings,
            self._key_source(),
            self._pack_selection,
            (browser.selection_count(), browser.match_count),
            self,
            active_review=None if self.review.review is None else self.review.review.id,
        )
        self.evidence_dialog.show()

    def _pack_selection(self, selected_only: bool) -> tuple[Filter | None, list[int] | None]:
        if self.browser is None:
            return None, []
        seqs = self.browser.selected_seqs() if selected_only else None
        return self.browser.current_filter, seqs

    def show_signing_key(self) -> None:
        """Help > Signing Key…: the fingerprint, where the key is kept, the public key."""
        if self.signing_key_dialog is None:
            from auditviewer.ui.dialogs.signing_key_dialog import SigningKeyDialog

            self.signing_key_dialog = SigningKeyDialog(self._key_source(), self.tasks, self)
        else:
            self.signing_key_dialog.refresh()
        self.signing_key_dialog.show()
        self.signing_key_dialog.raise_()

    def show_activity(self) -> None:
        """View > Activity: the custody log, newest first."""
        if self.store is None:
            return
        if self.activity_view is None:
            from auditviewer.ui.dialogs.activity_view import ActivityView

            self.activity_view = ActivityView(
                self.store, self.tasks, utc=self.utc_action.isChecked(), parent=self
            )
            self.utc_action.toggled.connect(self.activity_view.set_utc)
        self.activity_view.refresh()
        self.activity_view.show()
        self.activity_view.raise_()

    def show_coverage(self) -> None:
        """View > Coverage…: one bar per source, the gaps, overlaps and the retention horizon."""
        if self.store is None:
            return
        if self.coverage_dialog is None:
            from auditviewer.ui.dialogs.coverage_dialog import CoverageDialog

            self.coverage_dialog = CoverageDialog(
                self.store,
                self.tasks,
                utc=self.utc_action.isChecked(),
                now=self.coverage_now,
                parent=self,
            )
            self.utc_action.toggled.connect(self.coverage_dialog.set_utc)
        self.coverage_dialog.refresh()
        self.coverage_dialog.show()
        self.coverage_dialog.raise_()

    def _after_custody_change(self, job: Job) -> None:
        """Reads the custody log (and the coverage) again after what records into it."""
        coverage = self.coverage_dialog
        if job.name in ("import", "sync") and coverage is not None and coverage.isVisible():
            coverage.refresh()
        activity = self.activity_view
        recorded = ("import", "sync", "export", "verify", "evidence pack")
        if job.name in recorded and activity is not None and activity.isVisible():
            activity.refresh()

    def _close_evidence_dialogs(self) -> None:
        if self.activity_view is not None:
            self.utc_action.toggled.disconnect(self.activity_view.set_utc)
        if self.coverage_dialog is not None:
            self.utc_action.toggled.disconnect(self.coverage_dialog.set_utc)
        for dialog in (self.evidence_dialog, self.activity_view, self.coverage_dialog):
            if dialog is not None:
                dialog.worker = None
                dialog.close()
                dialog.deleteLater()
        self.evidence_dialog = None
        self.activity_view = None
        self.coverage_dialog = None

    def _error(self, title: str, message: str) -> None:
        box = plain_message_box(self, QMessageBox.Icon.Warning, title, visible(message, 4000))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    # --- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        files = _local_files(event)
        if files and not self.busy:
            event.acceptProposedAction()
            what = visible(files[0].name, 80) if len(files) == 1 else f"{len(files)} files"
            self.statusBar().showMessage(
                f"Drop to view {what} — it is not added to your archive", 10000
            )
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.statusBar().clearMessage()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = _local_files(event)
        if files and not self.busy:
            event.acceptProposedAction()
            self.statusBar().clearMessage()
            # Open once the drop has returned to the source application.
            QTimer.singleShot(0, lambda: self.open_files(files))
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
        self.tasks.shutdown()
        if self.browser is not None:
            self.browser.shutdown()
        if self.store is not None:
            self.store.close()
            self.store = None
        self._close_archive_store()
        super().closeEvent(event)


def _holds_store(path: Path) -> bool:
    """Whether ``path`` is an auditviewer store (read without changing it)."""
    from auditviewer.core.errors import AuditViewerError
    from auditviewer.core.store.connection import Store

    try:
        Store.open(path, create=False).close()
    except AuditViewerError:
        return False
    return True


def _local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
