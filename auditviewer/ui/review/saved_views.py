"""The Views menu: saved views (query, sort, visible columns, UTC) kept in the store, and the
search box's query history kept in the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from auditviewer.ui.plain_text import menu_text, plain_message_box, visible
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import VIEWS_JOB, view_write_job

if TYPE_CHECKING:
    from auditviewer.core.reviewing.views import SavedView
    from auditviewer.core.store.connection import Store
    from auditviewer.ui.entry_browser import EntryBrowser
    from auditviewer.ui.settings import UiSettings
    from auditviewer.ui.tasks.runner import TaskRunner

HISTORY_KEY = "query/history"


class ViewsController(QObject):
    """Save Current View…, the store's views to apply, Delete View…; the query history."""

    message = Signal(str)
    utc_requested = Signal(bool)  # a view asks for times in UTC (True) or local time

    def __init__(self, tasks: TaskRunner, settings: UiSettings, window: QWidget) -> None:
        super().__init__(window)
        self.tasks = tasks
        self.settings = settings
        self.window = window
        self.store: Store | None = None
        self.browser: EntryBrowser | None = None
        self.utc = False
        self.dialog: QInputDialog | None = None
        self.box: QMessageBox | None = None
        self.save_action = QAction("&Save Current View…", window)
        self.save_action.triggered.connect(self.ask_save)
        self.delete_menu = QMenu("&Delete View", window)
        self.delete_menu.aboutToShow.connect(self._fill_delete_menu)
        self.menu: QMenu | None = None
        tasks.job_finished.connect(self._on_job_finished)

    def fill_menu(self, menu: QMenu) -> None:
        """Builds the Views menu; the store's views are listed each time it opens."""
        self.menu = menu
        menu.aboutToShow.connect(self._fill_views)
        self._fill_views()

    def _fill_views(self) -> None:
        if self.menu is None:
            return
        self.menu.clear()
        self.menu.addAction(self.save_action)
        self.menu.addSeparator()
        views = self.views()
        for view in views:
            action = self.menu.addAction(menu_text(view.name, 80))
            action.setToolTip(visible(view.query or "every entry", 300))
            action.triggered.connect(lambda _=False, v=view: self.apply(v))
        if not views:
            self.menu.addAction("No saved views").setEnabled(False)
        self.menu.addSeparator()
        self.menu.addMenu(self.delete_menu)
        self.delete_menu.setEnabled(bool(views))

    def _fill_delete_menu(self) -> None:
        self.delete_menu.clear()
        for view in self.views():
            action = self.delete_menu.addAction(menu_text(view.name, 80))
            action.triggered.connect(lambda _=False, name=view.name: self.delete(name))

    def update_actions(self) -> None:
        """Saving needs a writable store and no other writer."""
        writable = self.store is not None and not self.store.read_only
        self.save_action.setEnabled(writable and not self.tasks.writer_busy)
        self.delete_menu.setEnabled(writable)

    # --- the store -----------------------------------------------------------------------------

    def attach(self, store: Store, browser: EntryBrowser) -> None:
        """The store on screen: its views; the search box gets the query history."""
        self.store = store
        self.browser = browser
        bar = browser.filter_bar
        bar.set_history([str(q) for q in self._stored_history()])
        bar.history_changed.connect(self._keep_history)
        self.update_actions()

    def detach(self) -> None:
        self.store = None
        self.browser = None
        self.update_actions()

    def _stored_history(self) -> list[object]:
        value = self.settings.qsettings.value(HISTORY_KEY, [])
        if isinstance(value, str):  # one item comes back from an INI file as a string
            return [value]
        return list(value) if isinstance(value, list) else []

    def _keep_history(self, queries: list[str]) -> None:
        self.settings.qsettings.setValue(HISTORY_KEY, list(queries))

    # --- views ---------------------------------------------------------------------------------

    def views(self) -> list[SavedView]:
        """The store's saved views, by name."""
        from auditviewer.core.reviewing.views import list_views

        return list_views(self.store) if self.store is not None else []

    def current_view(self, name: str) -> SavedView:
        """What the table shows now, as a view called ``name``."""
        from auditviewer.core.querying.language import format_query
        from auditviewer.core.reviewing.views import SavedView
        from auditviewer.ui.table.entry_table_model import COLUMNS

        assert self.browser is not None
        header = self.browser.table.horizontalHeader()
        shown = tuple(
            COLUMNS[header.logicalIndex(visual)].key
            for visual in range(header.count())
            if not header.isSectionHidden(header.logicalIndex(visual))
        )
        query = format_query(self.browser.current_filter)
        return SavedView(name, query, self.browser.model.sort_order, shown, self.utc)

    def ask_save(self) -> None:
        """Save Current View…: asks for the name, then saves the table's query, sort, columns
        and time zone under it (replacing a view of that name)."""
        if self.browser is None:
            return
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Save Current View")
        dialog.setLabelText("Name of the view (a view of the same name is replaced):")
        dialog.textValueSelected.connect(self.save)
        self.dialog = dialog
        dialog.open()

    def save(self, name: str) -> None:
        """Saves the current view as ``name`` in the background."""
        from auditviewer.core.reviewing.views import save_view

        if self.store is None or self.browser is None or not name.strip():
            return
        try:
            view = self.current_view(name)
        except ValueError as exc:
            self._refuse("The view was not saved", f"{self.store.path}: {exc}")
            return
        job = view_write_job(self.store, "Saving the view…", lambda s: save_view(s, view))
        job.setProperty("done_text", f"Saved the view {visible(view.name, 100)}.")
        self._run(job)

    def delete(self, name: str) -> None:
        """Deletes the saved view ``name``."""
        from auditviewer.core.reviewing.views import delete_view

        if self.store is None:
            return
        job = view_write_job(self.store, "Deleting the view…", lambda s: delete_view(s, name))
        job.setProperty("done_text", f"Deleted the view {visible(name, 100)}.")
        self._run(job)

    def apply(self, view: SavedView) -> None:
        """Shows a saved view: its query, sort, visible columns and time zone."""
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.querying.language import parse_query
        from auditviewer.ui.table.entry_table_model import COLUMN_INDEX, COLUMNS

        browser = self.browser
        if browser is None:
            return
        try:
            filter_ = parse_query(view.query)
        except AuditViewerError as exc:
            self._refuse("The view cannot be shown", f"{visible(view.name, 100)}: {exc}")
            return
        table = browser.table
        if view.columns:
            wanted = {COLUMN_INDEX[key] for key in view.columns if key in COLUMN_INDEX}
            for column in range(len(COLUMNS)):
                table.set_column_visible(column, True)
            for column in range(len(COLUMNS)):
                if column not in wanted:
                    table.set_column_visible(column, False)
        sort_columns = [n for n, info in enumerate(COLUMNS) if info.sort == view.sort.column]
        if sort_columns:
            order = (
                Qt.SortOrder.DescendingOrder
                if view.sort.descending
                else Qt.SortOrder.AscendingOrder
            )
            table.sortByColumn(sort_columns[0], order)
        browser.set_filter(filter_)
        self.utc_requested.emit(view.utc)
        self.message.emit(f"Showing the view {visible(view.name, 100)}.")

    # --- jobs ----------------------------------------------------------------------------------

    def _refuse(self, title: str, text: str) -> None:
        box = plain_message_box(self.window, QMessageBox.Icon.Warning, title, text)
        self.box = box
        box.open()

    def _run(self, job: Job) -> None:
        if not self.tasks.start(job):
            where = self.store.path if self.store is not None else "The store"
            self._refuse(
                "The store is busy",
                f"{where}: another change is being written; try again when it has finished.",
            )

    def _on_job_finished(self, job: Job) -> None:
        if job.name != VIEWS_JOB:
            return
        if job.error is not None:
            self._refuse("The view was not changed", visible(job.error, 1000))
        else:
            self.message.emit(str(job.property("done_text")))
        self._fill_views()
