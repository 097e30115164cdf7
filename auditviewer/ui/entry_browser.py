"""The store-backed part of the window: filter bar, timeline, facets, table and side panel.

Every face of the filter writes into one :class:`FilterState`; this widget wires the faces, the
table model and the background aggregates to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTabWidget, QVBoxLayout, QWidget

from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.window import EntryQuery, get_entries
from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.wording import counted
from auditviewer.ui.details.detail_panel import DetailPanel
from auditviewer.ui.details.reference_panel import ReferencePanel
from auditviewer.ui.filter.facet_panel import FACET_DIMENSIONS, FACET_LIMIT, FacetPanel
from auditviewer.ui.filter.filter_bar import FilterBar
from auditviewer.ui.filter.filter_controls import FilterControls, day_start_micros
from auditviewer.ui.filter.filter_state import FilterState
from auditviewer.ui.filter.timeline_widget import TimelineWidget, bucket_for_span
from auditviewer.ui.settings import UiSettings
from auditviewer.ui.table.entry_table_model import EntryTableModel
from auditviewer.ui.table.entry_table_view import EntryTableView
from auditviewer.ui.tasks.reads import (
    AggregateLoader,
    Aggregates,
    BackgroundCounter,
    row_of_entry,
)

# More entries than this are not put on the clipboard at once.
COPY_LIMIT = 50_000
DETAIL_DELAY_MS = 60
# Where the table's columns are remembered; ``table_header`` holds them as saved while the
# flags column came last.
COLUMNS_STATE = "table_columns"
EARLIER_COLUMNS_STATE = "table_header"


class EntryBrowser(QWidget):
    """Browses the entries of one store."""

    status_changed = Signal(str)
    copy_requested = Signal()
    export_selected_requested = Signal()
    syntax_help_requested = Signal()
    panel_toggled = Signal(str, bool)  # a panel shown or hidden from inside the browser

    def __init__(
        self,
        store: Store,
        reference: ActionReference,
        settings: UiSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.reference = reference
        self.settings = settings
        self.total_count = 0
        self.state = FilterState(Filter(), self)

        self.counter = BackgroundCounter(store, self)
        self.model = EntryTableModel(store, reference, self, counter=self.counter)
        self.model.count_known.connect(lambda _count: self._update_status())
        self.table = EntryTableView(self)
        self.table.setModel(self.model)
        self.table.apply_default_columns()

        self.filter_bar = FilterBar(self.state, self)
        self.controls = FilterControls(self.state, reference, self)
        self.timeline = TimelineWidget(self)
        self.facets = FacetPanel(self)
        self.details = DetailPanel(reference)
        self.reference_panel = ReferencePanel(reference)
        self.side = QTabWidget(self)
        self.side.addTab(self.details, "&Details")
        self.side.addTab(self.reference_panel, "Action &Reference")
        self.side.setAccessibleName("Entry details and action reference")

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.facets)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([220, 800, 380])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.controls)
        layout.addWidget(self.timeline)
        layout.addWidget(self.splitter, 1)
        # Tab follows the screen: the query, its controls, the facets, the entries, the panels.
        QWidget.setTabOrder(self.facets.tree, self.table)

        facets = tuple(dimension for dimension, _ in FACET_DIMENSIONS)
        self.aggregates = AggregateLoader(store, facets, FACET_LIMIT, bucket_for_span, self)
        self.aggregates.loaded.connect(self._on_aggregates)
        self.aggregates.failed.connect(self._on_aggregates_failed)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._show_current_entry)
        self._current_seq: int | None = None
        # What a reset of the rows keeps: the selected entry and where it stood on screen.
        self._kept_seq: int | None = None
        self._kept_column = 0
        self._kept_offset = 0
        self._kept_scroll = 0
        self._refreshing = False

        self.state.changed.connect(self._on_filter_changed)
        self.filter_bar.controls_toggled.connect(self._on_controls_toggled)
        self.filter_bar.error_changed.connect(self._on_query_error)
        self.facets.facet_clicked.connect(self._on_facet_clicked)
        self.reference_panel.action_clicked.connect(self._on_action_clicked)
        self.timeline.range_selected.connect(self._on_range_selected)
        self.timeline.range_cleared.connect(
            lambda: self.state.update(None, after=None, before=None)
        )
        self.table.filter_requested.connect(self._on_facet_clicked)
        self.table.day_requested.connect(self._show_day_of_row)
        self.table.entity_requested.connect(self._show_entity_of_row)
        self.table.actor_requested.connect(self._show_actor_of_row)
        self.table.copy_requested.connect(self.copy_requested)
        self.table.export_requested.connect(self.export_selected_requested)
        self.filter_bar.help_requested.connect(self.syntax_help_requested)
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._on_rows_replaced)
        self._connect_selection()

        self.restore_state()
        self.table.setSortingEnabled(True)
        self._count_total()
        self.facets.set_filter(self.state.filter)
        self._request_aggregates(self.state.filter, store_wide=True)
        self._update_status()

    # --- state -------------------------------------------------------------------------------

    @property
    def current_filter(self) -> Filter:
        """The filter the table shows."""
        return self.state.filter

    @property
    def match_count(self) -> int:
        """How many entries the filter matches."""
        return self.model.exact_count()

    def _count_total(self) -> None:
        with EntryQuery(self.store, Filter()) as query:
            self.total_count = query.count()

    def refresh(self) -> None:
        """Re-reads the store after entries were added."""
        self._count_total()
        self._refreshing = True
        try:
            self.model.refresh()
        finally:
            self._refreshing = False
        self._request_aggregates(self.state.filter, store_wide=True)
        self._update_status()

    def set_filter(self, new: Filter) -> None:
        """Replaces the filter (as if typed)."""
        self.state.set_filter(new)

    def clear_filter(self) -> None:
        """Shows every entry."""
        self.state.set_filter(Filter())

    def show_sources(self, source_ids: tuple[int, ...], *, quarantined: bool) -> None:
        """Shows the entries of some imports (only the quarantined ones, if asked)."""
        self.state.set_filter(
            Filter(sources=tuple(source_ids), quarantined=True if quarantined else None)
        )

    def focus_search(self) -> None:
        """Ctrl+F: the cursor into the search box, its text selected."""
        self.filter_bar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search.selectAll()

    def set_utc(self, utc: bool) -> None:
        """Times in the table in UTC or local time."""
        self.model.set_utc(utc)

    def set_panel_visible(self, key: str, on: bool) -> None:
        """Shows or hides an optional part: controls, timeline, facets, side."""
        if key == "controls":
            self.controls.setVisible(on)
            self.filter_bar.controls_button.blockSignals(True)
            self.filter_bar.controls_button.setChecked(on)
            self.filter_bar.controls_button.blockSignals(False)
        elif key == "timeline":
            self.timeline.setVisible(on)
        elif key == "facets":
            self.facets.setVisible(on)
        elif key == "side":
            self.side.setVisible(on)

    def _on_controls_toggled(self, on: bool) -> None:
        self.settings.set_visible("controls", on)
        self.controls.setVisible(on)
        self.panel_toggled.emit("controls", on)

    def save_state(self) -> None:
        """Remembers columns, sort and splitter positions."""
        self.settings.set_state(COLUMNS_STATE, self.table.horizontalHeader().saveState())
        self.settings.set_state("splitter", self.splitter.saveState())

    def restore_state(self) -> None:
        """Brings back columns, sort and splitter positions."""
        header = self.settings.state(COLUMNS_STATE)
        earlier = self.settings.state(EARLIER_COLUMNS_STATE) if header is None else None
        saved = header or earlier
        if saved is None or not self.table.restore_columns(saved, flags_last=header is None):
            self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        splitter = self.settings.state("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def shutdown(self) -> None:
        """Stops background work and releases the store's connections."""
        self._detail_timer.stop()
        self.aggregates.shutdown()
        self.counter.shutdown()
        self.model.close()

    # --- filter ------------------------------------------------------------------------------

    def _on_filter_changed(self, new: Filter, origin: object) -> None:
        del origin
        self.model.set_filter(new)
        self.facets.set_filter(new)
        self.timeline.set_selection(new.after, new.before)
        self._request_aggregates(new)
        self._update_status()

    def _on_query_error(self, message: str) -> None:
        # The rows stay those of the last valid query: say so until the text is valid again.
        self.table.set_stale(message or None)
        self._update_status()

    def _on_facet_clicked(self, dimension: str, value: str, exclude: bool) -> None:
        if exclude:
            self.state.exclude(dimension, value)
        else:
            self.state.include(dimension, value)

    def _on_action_clicked(self, action: str, exclude: bool) -> None:
        self._on_facet_clicked("action", action, exclude)

    def _on_range_selected(self, after: int, before: int) -> None:
        self.state.update(None, after=after, before=before)

    def _on_range_cleared(self) -> None:
        self.state.update(None, after=None, before=None)

    def _show_day_of_row(self, row: int) -> None:
        entry = self.model.row_at(row)
        if entry is None or entry.created_utc is None:
            return
        day = datetime.fromtimestamp(entry.created_utc / 1_000_000, tz=UTC).date()
        after = day_start_micros(day)
        self.state.update(None, after=after, before=day_start_micros(day + timedelta(days=1)))

    def _show_entity_of_row(self, row: int) -> None:
        entry = self.model.row_at(row)
        if entry is None or not entry.entity_type:
            return
        ids = (entry.entity_id,) if entry.entity_id else ()
        self.state.set_filter(Filter(entities=(entry.entity_type,), entity_ids=ids))

    def _show_actor_of_row(self, row: int) -> None:
        entry = self.model.row_at(row)
        if entry is None:
            return
        actor = entry.actor_label or entry.actor_id
        if actor:
            self.state.set_filter(Filter(actors=(actor,), actor_types=(entry.actor_type,)))

    # --- aggregates --------------------------------------------------------------------------

    def _request_aggregates(self, filter_: Filter, *, store_wide: bool = False) -> None:
        # Until the new counts land, the old ones are shown as out of date, never as current.
        self.facets.set_updating(True)
        self.timeline.set_updating(True)
        self.aggregates.request(filter_, store_wide=store_wide)

    def _on_aggregates(self, result: Aggregates) -> None:
        self.facets.set_facets(result.facets)
        self.timeline.set_bins(
            result.bins,
            result.bucket,
            (result.filter.after, result.filter.before),
            untimed=result.untimed,
        )
        if result.store_counts is not None:
            self.controls.set_store_counts(result.store_counts)
            self.reference_panel.set_store_counts(
                {
                    str(f.value): int(f.count)
                    for f in result.store_counts.get("action", ())
                    if f.value
                }
            )

    def _on_aggregates_failed(self, message: str) -> None:
        # Never "updating…" forever: both say the counts are unavailable, and why.
        self.facets.set_unavailable(message)
        self.timeline.set_unavailable(message)

    # --- selection ---------------------------------------------------------------------------

    def _connect_selection(self) -> None:
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        selection.currentRowChanged.connect(self._on_current_changed)

    def _selected_row(self) -> int | None:
        """The row the selection is about: the current row if selected, else the first selected."""
        selection = self.table.selectionModel()
        current = self.table.currentIndex()
        if current.isValid() and selection.isRowSelected(current.row()):
            return current.row()
        ranges = self.selected_ranges()
        return ranges[0][0] if ranges else None

    def _remember_selection(self) -> None:
        row = self._selected_row()
        entry = self.model.row_at(row) if row is not None else None
        self._kept_seq = entry.seq if entry is not None else None
        current = self.table.currentIndex()
        self._kept_column = current.column() if current.isValid() else 0
        self._kept_scroll = self.table.verticalScrollBar().value()
        self._kept_offset = (row if row is not None else 0) - self._kept_scroll

    def _on_rows_replaced(self) -> None:
        """Applies the one rule after the rows change (filter, sort, entries added).

        The selected entry stays selected if it still matches and is scrolled into view (after
        new entries arrive, it keeps its place on screen); otherwise nothing is selected and the
        list starts at the top (after new entries arrive, it keeps its scroll position).
        """
        seq, self._kept_seq = self._kept_seq, None
        row = self.row_of(seq) if seq is not None else None
        # The scroll range follows the new row count only once the view has laid them out.
        self.table.doItemsLayout()
        if row is None:
            self._current_seq = None
            self.details.clear()
            self.reference_panel.highlight_action(None)
            if self._refreshing:
                self.table.verticalScrollBar().setValue(self._kept_scroll)
            else:
                self.table.scrollToTop()
        else:
            index = self.model.index(row, self._kept_column)
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.table.selectionModel().setCurrentIndex(index, flags)
            if self._refreshing:
                self.table.verticalScrollBar().setValue(max(0, row - self._kept_offset))
            else:
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._update_status()

    def row_of(self, seq: int) -> int | None:
        """The table row of entry ``seq`` under the current filter and sort; None when the
        filter hides it."""
        row = row_of_entry(self.store, self.model.filter, self.model.sort_order, seq)
        if row is None:
            return None
        if row >= self.model.rowCount():
            # Beyond the first page: the rows up to it are listed once the count is in.
            self.model.exact_count()
        entry = self.model.row_at(row)
        return row if entry is not None and entry.seq == seq else None

    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        del selected, deselected
        self._update_status()
        self._detail_timer.start()

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        del current, previous
        # Holding an arrow key scrolls without loading every entry it passes.
        self._detail_timer.start()

    @property
    def detail_seq(self) -> int | None:
        """The entry the details panel shows (None: it shows none)."""
        return self._current_seq

    def _shown_seq(self) -> int | None:
        """The entry the details show: the current row's, only while that row is selected."""
        current = self.table.currentIndex()
        if not current.isValid() or not self.table.selectionModel().isRowSelected(current.row()):
            return None
        entry = self.model.row_at(current.row())
        return entry.seq if entry is not None else None

    def _show_current_entry(self) -> None:
        self._current_seq = self._shown_seq()
        if self._current_seq is None:
            self.details.clear()
            self.reference_panel.highlight_action(None)
            return
        found = get_entries(self.store, [self._current_seq])
        if not found:
            self.details.clear()
            return
        detail = found[0]
        self.details.show_entry(detail)
        self.reference_panel.highlight_action(detail.action)

    def show_details_now(self) -> None:
        """Loads the current entry's details without waiting (tests, keyboard activation)."""
        self._detail_timer.stop()
        self._show_current_entry()

    def selected_ranges(self) -> list[tuple[int, int]]:
        """The selected rows as (top, bottom) ranges, in table order."""
        selection = self.table.selectionModel().selection()
        ranges = [(r.top(), r.bottom()) for r in (selection.at(i) for i in range(selection.size()))]
        merged: list[tuple[int, int]] = []
        for top, bottom in sorted(set(ranges)):
            if merged and top <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(bottom, merged[-1][1]))
            else:
                merged.append((top, bottom))
        return merged

    def selection_count(self) -> int:
        """How many rows are selected (without listing them)."""
        return sum(bottom - top + 1 for top, bottom in self.selected_ranges())

    def selected_seqs(self) -> list[int]:
        """The store ids of the selected entries, in table order."""
        return self.model.seqs_of_rows(self.selected_ranges())

    def copy_selection(self) -> int:
        """Puts the selected entries on the clipboard as a JSON array of their original texts."""
        count = self.selection_count()
        if count == 0:
            return 0
        if count > COPY_LIMIT:
            self.status_changed.emit(
                f"{counted(count, 'entry')} are too many to copy; use File ▸ Export instead."
            )
            return 0
        details = get_entries(self.store, self.selected_seqs())
        text = "[\n" + ",\n".join(detail.raw for detail in details) + "\n]\n"
        QGuiApplication.clipboard().setText(text)
        self.status_changed.emit(f"Copied {counted(len(details), 'entry')} as JSON.")
        return len(details)

    def _update_status(self) -> None:
        self.status_changed.emit(self.status_text())

    def status_text(self) -> str:
        """What the status bar says about the rows: how many match, of how many, selected."""
        selected = self.selection_count()
        shown = self.model.rowCount()
        matching = f"{shown:,}+" if self.model.count_pending else f"{shown:,}"
        parts = [f"{matching} of {counted(self.total_count, 'entry')}"]
        if self.table.stale:
            parts.append("rows of the last valid query")
        if selected:
            parts.append(f"{selected:,} selected")
        parts.append(str(self.store.path))
        return " · ".join(parts)
