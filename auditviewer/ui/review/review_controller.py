"""The Review menu's actions over the core's reviews: start, open, mark, walk, sign, report.

Every change and every read of the store goes through the window's task runner: marks, the
start and the sign-off are writes (one writer at a time), progress and "next unreviewed" are
reads. The controller keeps the active review and the reviewer's name (a setting).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QWidget,
)

from auditviewer.core.wording import counted
from auditviewer.ui.plain_text import menu_text, plain_message_box, visible
from auditviewer.ui.review.context_banner import ContextBanner
from auditviewer.ui.review.review_bar import ReviewBar
from auditviewer.ui.review.review_dialogs import SignOffDialog, StartReviewDialog
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import (
    REVIEW_READ_JOB,
    REVIEW_REPORT_JOB,
    REVIEW_WRITE_JOB,
    MarkRequest,
    mark_job,
    report_job,
    review_read_job,
    review_start_job,
    sign_job,
)

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.reviewing.reviews import DispositionCounts, Review
    from auditviewer.core.store.connection import Store
    from auditviewer.ui.entry_browser import EntryBrowser
    from auditviewer.ui.settings import UiSettings
    from auditviewer.ui.tasks.runner import TaskRunner

REVIEWER_KEY = "review/reviewer"
ACTIVE_KEY = "review/active"
DISPOSITION_TITLES = {"ok": "OK", "flagged": "Flagged", "follow-up": "Follow-up"}
# Chords and function keys: plain letters and digits are the table's type-ahead.
KEYS = {
    "ok": "Ctrl+1",
    "flagged": "Ctrl+2",
    "follow-up": "Ctrl+3",
    "note": "F2",
    "tag": "Shift+F2",
    "next": "F8",
    "previous": "Shift+F8",
}
SIGNED_REFUSAL = "{label} is signed and frozen: its marks can no longer change. Start a new review."
REPORT_FILTERS = "PDF report (*.pdf);;JSON report (*.json);;CSV report (*.csv)"
CONFIRM_ABOVE = 1  # marking more entries than this asks first
AROUND = 10  # entries shown before and after one by Show Surrounding Entries


@dataclass(frozen=True, slots=True)
class _ListState:
    """What the table showed before the surrounding entries: restored by Back."""

    filter: Filter
    sort_column: int
    sort_order: Qt.SortOrder
    seq: int | None
    scroll: int


def keys_help() -> str:
    """The review keys, one line each."""
    return "\n".join(
        (
            f"{KEYS['ok']}\tMark the selected entries as OK",
            f"{KEYS['flagged']}\tMark them as Flagged",
            f"{KEYS['follow-up']}\tMark them for Follow-up",
            f"{KEYS['note']}\tAdd a note to them",
            f"{KEYS['tag']}\tAdd a tag to them",
            f"{KEYS['next']}\tGo to the next unreviewed entry (in the table's order)",
            f"{KEYS['previous']}\tGo to the previous unreviewed entry",
        )
    )


class ReviewController(QObject):
    """The active review of the store on screen, the Review menu and the review bar."""

    # Marks were stored: the review column and details re-read; the review facets counted
    # again under the table's filter (None: not counted).
    marked = Signal(object)
    message = Signal(str)  # a sentence for the status bar

    def __init__(self, tasks: TaskRunner, settings: UiSettings, window: QWidget) -> None:
        super().__init__(window)
        self.tasks = tasks
        self.settings = settings
        self.window = window
        self.store: Store | None = None
        self.browser: EntryBrowser | None = None
        self.review: Review | None = None
        self.progress: DispositionCounts | None = None
        self.dialog: QDialog | None = None
        self.box: QMessageBox | None = None
        self.bar = ReviewBar(window)
        self.bar.next_requested.connect(self.next_unreviewed)
        self.bar.sign_requested.connect(self.sign_off)
        self.context_banner = ContextBanner(window)
        self.context_banner.back_requested.connect(self.back_to_list)
        self._list_state: _ListState | None = None
        self._context_filter: Filter | None = None
        tasks.job_finished.connect(self._on_job_finished)
        self._build_actions()

    # --- actions -------------------------------------------------------------------------------

    def _action(self, text: str, slot: object, key: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("&Start Review…", self.start_review)
        self.daily_action = self._action("&Daily Review", self.start_daily_review)
        self.daily_action.setToolTip("Review what arrived since the last signed review")
        self.daily_action.setStatusTip("Review what arrived since the last signed review")
        self.open_menu = QMenu("&Open Review", self.window)
        self.open_menu.aboutToShow.connect(self._fill_open_menu)
        self.mark_actions: dict[str, QAction] = {}
        for disposition, title in DISPOSITION_TITLES.items():
            action = self._action(
                f"Mark as {title}",
                lambda _=False, d=disposition: self.mark_selected(d),
                KEYS[disposition],
            )
            self.mark_actions[disposition] = action
        self.note_action = self._action("Add &Note…", self.add_note, KEYS["note"])
        self.tag_action = self._action("Add &Tag…", self.add_tag, KEYS["tag"])
        self.next_action = self._action(
            "Ne&xt Unreviewed", lambda: self.next_unreviewed(), KEYS["next"]
        )
        self.previous_action = self._action(
            "Pre&vious Unreviewed", lambda: self.next_unreviewed(backwards=True), KEYS["previous"]
        )
        self.sign_action = self._action("S&ign Off…", self.sign_off)
        self.report_action = self._action("Write &Report…", self.write_report)
        self.keys_action = self._action("Review &Keys", self.show_keys)
        self.reviewer_action = self._action("Reviewer N&ame…", self.ask_reviewer)
        self.context_action = self._action("Show S&urrounding Entries", self.show_surrounding)
        self.back_action = self._action("&Back to the Filtered List", self.back_to_list)

    @property
    def change_actions(self) -> tuple[QAction, ...]:
        """The actions that change the active review's marks."""
        return (*self.mark_actions.values(), self.note_action, self.tag_action)

    def fill_menu(self, menu: QMenu) -> None:
        """Puts the review actions into the window's Review menu."""
        menu.addAction(self.start_action)
        menu.addAction(self.daily_action)
        menu.addMenu(self.open_menu)
        menu.addSeparator()
        for action in self.change_actions:
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.next_action)
        menu.addAction(self.previous_action)
        menu.addSeparator()
        menu.addAction(self.context_action)
        menu.addAction(self.back_action)
        menu.addSeparator()
        menu.addAction(self.sign_action)
        menu.addAction(self.report_action)
        menu.addSeparator()
        menu.addAction(self.reviewer_action)
        menu.addAction(self.keys_action)

    def update_actions(self) -> None:
        """Enables what the store, the active review and the running jobs allow."""
        writable = self.store is not None and not self.store.read_only
        free = writable and not self.tasks.writer_busy
        active = self.review is not None
        open_ = active and self.review is not None and not self.review.signed
        for action in (self.start_action, self.daily_action):
            action.setEnabled(free)
        self.open_menu.setEnabled(self.store is not None)
        for action in self.change_actions:
            action.setEnabled(open_ and free)
        for action in (self.next_action, self.previous_action):
            action.setEnabled(open_)
        self.sign_action.setEnabled(open_ and free)
        self.report_action.setEnabled(active and self.tasks.running(REVIEW_REPORT_JOB) is None)
        self.context_action.setEnabled(self.browser is not None)
        self.back_action.setEnabled(self._list_state is not None)
        self.bar.next_button.setEnabled(open_)
        self.bar.sign_button.setEnabled(open_ and free)

    # --- the store -----------------------------------------------------------------------------

    def attach(self, store: Store, browser: EntryBrowser) -> None:
        """The store on screen and its browser; the review last active on it comes back."""
        from auditviewer.core.reviewing.marks import history

        self.store = store
        self.browser = browser
        browser.details.set_history_reader(lambda seq: history(store, seq))
        browser.table.extra_menu_actions = [self.context_action]
        browser.state.changed.connect(self._on_filter_changed)
        self._list_state = None
        self._context_filter = None
        self.context_banner.hide()
        for action in (*self.change_actions, self.next_action, self.previous_action):
            browser.table.addAction(action)
        self.review = None
        self.progress = None
        self.bar.hide()
        remembered = self.settings.qsettings.value(f"{ACTIVE_KEY}/{self._store_key()}")
        if remembered is not None:
            with contextlib.suppress(ValueError):
                self.open_review(int(str(remembered)), apply_scope=False)
        self.update_actions()

    def detach(self) -> None:
        """The store is closed: no active review."""
        self.store = None
        self.browser = None
        self.review = None
        self.progress = None
        self.bar.hide()
        self._list_state = None
        self.context_banner.hide()
        self.update_actions()

    def _store_key(self) -> str:
        return str(self.store.path).replace("/", "|") if self.store is not None else ""

    # --- the reviewer ----------------------------------------------------------------------------

    @property
    def reviewer(self) -> str:
        """The reviewer's name set in the app ('' until asked)."""
        value = self.settings.qsettings.value(REVIEWER_KEY, "")
        return str(value or "").strip()

    def set_reviewer(self, name: str) -> None:
        """Remembers the reviewer's name."""
        self.settings.qsettings.setValue(REVIEWER_KEY, " ".join(name.split()))

    def ask_reviewer(self) -> None:
        """Review ▸ Reviewer Name…: the name recorded with each mark from now on."""
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Reviewer Name")
        dialog.setLabelText("Your name as the reviewer (recorded with each mark you give):")
        dialog.setTextValue(self.reviewer)
        dialog.textValueSelected.connect(self.set_reviewer)
        self._open(dialog)

    # --- starting and opening ------------------------------------------------------------------

    def start_review(self) -> None:
        """Review ▸ Start Review…: name, scope (the table's query, editable) and reviewer."""
        if self.store is None or self.browser is None:
            return
        dialog = StartReviewDialog(self._table_query(), self.reviewer, self.window)
        dialog.accepted.connect(lambda: self._start_from(dialog))
        self._open(dialog)

    def _table_query(self) -> str:
        from auditviewer.core.querying.language import format_query

        if self.browser is None:
            return ""
        try:
            return format_query(self.browser.current_filter)
        except ValueError:
            return ""

    def _start_from(self, dialog: StartReviewDialog) -> None:
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.querying.language import parse_query
        from auditviewer.core.reviewing.reviews import start_review

        name, query, reviewer = dialog.name, dialog.query, dialog.reviewer
        try:
            parse_query(query)
        except AuditViewerError as exc:
            self._refuse("Cannot start the review", f"The scope's query: {exc}")
            return
        self.set_reviewer(reviewer)
        self._start(
            lambda store: start_review(store, name, reviewer=reviewer, query=query),
        )

    def start_daily_review(self) -> None:
        """Review ▸ Daily Review: starts the review of what arrived since the last signed one."""
        from auditviewer.core.reviewing.reviews import start_daily_review

        if self.store is None:
            return
        if not self.reviewer:
            self._then_with_reviewer(self.start_daily_review)
            return
        reviewer = self.reviewer
        self._start(lambda store: start_daily_review(store, reviewer=reviewer))

    def _then_with_reviewer(self, then: object) -> None:
        """Asks for the reviewer's name once, then goes on."""
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Reviewer Name")
        dialog.setLabelText("Your name as the reviewer (recorded with each mark you give):")

        def chosen(name: str) -> None:
            if name.strip():
                self.set_reviewer(name)
                then()  # type: ignore[operator]

        dialog.textValueSelected.connect(chosen)
        self._open(dialog)

    def _start(self, start: object) -> None:
        if self.store is None:
            return
        job = review_start_job(self.store, start)  # type: ignore[arg-type]
        job.setProperty("step", "start")
        self._run(job)

    def _fill_open_menu(self) -> None:
        from auditviewer.core.reviewing.reviews import list_reviews

        self.open_menu.clear()
        reviews = list_reviews(self.store) if self.store is not None else []
        for review in reversed(reviews):
            state = " (signed)" if review.signed else ""
            action = self.open_menu.addAction(menu_text(f"{review.name}{state}", 80))
            action.setCheckable(True)
            action.setChecked(self.review is not None and self.review.id == review.id)
            action.triggered.connect(lambda _=False, rid=review.id: self.open_review(rid))
        if not reviews:
            self.open_menu.addAction("No reviews yet").setEnabled(False)

    def open_review(self, review_id: int, *, apply_scope: bool = True) -> None:
        """Makes review ``review_id`` the active one (a signed one read-only) and shows its
        scope in the table."""
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.reviewing.reviews import get_review

        if self.store is None:
            return
        try:
            review = get_review(self.store, review_id)
        except AuditViewerError as exc:
            self.message.emit(str(exc))
            return
        self._activate(review, None, apply_scope=apply_scope)
        self.read_progress()

    def _activate(
        self, review: Review, progress: DispositionCounts | None, *, apply_scope: bool
    ) -> None:
        self.review = review
        self.progress = progress
        self.settings.qsettings.setValue(f"{ACTIVE_KEY}/{self._store_key()}", review.id)
        self.bar.show_review(review, progress)
        if self.browser is not None:
            self.browser.model.set_review(review.id)
        if apply_scope and self.browser is not None:
            self.browser.set_filter(review.scope_filter())
        self.update_actions()

    def read_progress(self) -> None:
        """Re-reads the active review's progress in the background."""
        from auditviewer.core.reviewing.reviews import review_progress

        if self.store is None or self.review is None:
            return
        review_id = self.review.id
        job = review_read_job(self.store, lambda store: review_progress(store, review_id))
        job.setProperty("step", "progress")
        self._run(job)

    # --- marking -------------------------------------------------------------------------------

    def _open_review_or_refuse(self) -> Review | None:
        """The active review if it may still change; otherwise a message says why not."""
        if self.review is None:
            self._refuse("No review is active", "Start or open a review first (Review menu).")
            return None
        if self.review.signed:
            self._refuse(
                "The review is signed",
                SIGNED_REFUSAL.format(label=self.review.label().capitalize()),
            )
            return None
        return self.review

    def _selected(self) -> list[int]:
        if self.browser is None:
            return []
        return self.browser.selected_seqs()

    def mark_selected(self, disposition: str) -> None:
        """Marks the selected entries; more than one is confirmed first."""
        title = DISPOSITION_TITLES[disposition]
        self._mark(disposition=disposition, verb=f"as {title}")

    def add_note(self) -> None:
        """Add Note…: a note for the selected entries (their dispositions kept)."""
        self._ask_text("Add Note", "Note for the selected entries:", "note")

    def add_tag(self) -> None:
        """Add Tag…: a tag added to the selected entries' tags."""
        self._ask_text("Add Tag", "Tag to add to the selected entries:", "tag")

    def _ask_text(self, title: str, label: str, what: str) -> None:
        review = self._open_review_or_refuse()
        if review is None:
            return
        if not self._selected_or_say():
            return
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        if what == "note":
            dialog.textValueSelected.connect(lambda text: self._mark(note=text, verb="with a note"))
        else:
            dialog.textValueSelected.connect(self._add_tag)
        self._open(dialog)

    def _add_tag(self, tag: str) -> None:
        tag = tag.strip()
        if tag:
            # Each entry keeps its own tags: the core adds the tag to each, in one transaction.
            self._mark(add_tag=tag, verb=f"with the tag {visible(tag, 60)}")

    def _selected_or_say(self) -> bool:
        if self.browser is not None and self.browser.selection_count():
            return True
        self.message.emit("Select the entries to mark first.")
        return False

    def _mark(
        self,
        *,
        disposition: str | None = None,
        note: str | None = None,
        tags: tuple[str, ...] | None = None,
        add_tag: str | None = None,
        verb: str,
    ) -> None:
        review = self._open_review_or_refuse()
        if review is None or self.browser is None or not self._selected_or_say():
            return
        count = self.browser.selection_count()

        def request_of() -> MarkRequest:
            seqs = tuple(self._selected())
            return MarkRequest(
                review.id,
                seqs,
                disposition,
                note,
                tags,
                self.reviewer or None,
                self._facet_filter(),
                add_tag,
            )

        if count <= CONFIRM_ABOVE:
            self._run_mark(request_of())
            return
        box = plain_message_box(
            self.window,
            QMessageBox.Icon.Question,
            "Mark Entries",
            f"Mark {counted(count, 'entry')} {verb}?",
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Mark")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.accepted.connect(lambda: self._run_mark(request_of()))
        self.box = box
        box.open()

    def _facet_filter(self) -> Filter | None:
        """The table's filter, when the review facets can be counted again under it alone (a
        filter on marks changes its rows: then everything is read again)."""
        if self.browser is None or self.browser.current_filter.has_review_terms:
            return None
        return self.browser.current_filter

    def _run_mark(self, request: MarkRequest) -> None:
        if self.store is None:
            return
        job = mark_job(self.store, request)
        job.setProperty("step", "mark")
        self._run(job)

    # --- walking -------------------------------------------------------------------------------

    def next_unreviewed(self, *, backwards: bool = False) -> None:
        """Goes to the next (previous) unreviewed entry of the scope, in the table's order."""
        from auditviewer.core.reviewing.marks import next_unreviewed

        if self.store is None or self.browser is None or self.review is None:
            return
        review_id = self.review.id
        seqs = self.browser.selected_seqs() if self.browser.selection_count() == 1 else []
        after = seqs[0] if seqs else None
        sort = self.browser.model.sort_order
        job = review_read_job(
            self.store,
            lambda store: next_unreviewed(
                store, review_id, after_seq=after, sort=sort, backwards=backwards
            ),
        )
        job.setProperty("step", "next")
        job.setProperty("backwards", backwards)
        self._run(job)

    def select_entry(self, seq: int) -> bool:
        """Selects entry ``seq`` in the table and scrolls to it; False when the table's filter
        hides it."""
        browser = self.browser
        if browser is None or self.store is None:
            return False
        row = browser.row_of(seq)
        if row is None:
            return False
        index = browser.model.index(row, max(0, browser.table.currentIndex().column()))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | (
            QItemSelectionModel.SelectionFlag.Rows
        )
        browser.table.selectionModel().setCurrentIndex(index, flags)
        browser.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        browser.table.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    # --- the entries around one ----------------------------------------------------------------

    def show_surrounding(self) -> None:
        """Show Surrounding Entries: the entries just before and after the selected one in
        time, the filter set aside; Back to the Filtered List restores the list as it was."""
        from auditviewer.core.errors import AuditViewerError
        from auditviewer.core.querying.filter import Filter
        from auditviewer.core.reviewing.context import surrounding
        from auditviewer.ui.table.entry_table_model import TIME

        browser = self.browser
        if browser is None or self.store is None:
            return
        seqs = browser.selected_seqs() if browser.selection_count() else []
        if not seqs:
            self.message.emit("Select an entry first: its surrounding entries are shown.")
            return
        anchor = browser.detail_seq if browser.detail_seq in seqs else seqs[0]
        try:
            context = surrounding(self.store, anchor, AROUND)
        except AuditViewerError as exc:
            self.message.emit(str(exc))
            return
        if self._list_state is None:
            header = browser.table.horizontalHeader()
            self._list_state = _ListState(
                browser.current_filter,
                header.sortIndicatorSection(),
                header.sortIndicatorOrder(),
                anchor,
                browser.table.verticalScrollBar().value(),
            )
        browser.model.highlight_seq = anchor
        self._context_filter = Filter(seqs=tuple(row.seq for row in context.rows))
        browser.set_filter(self._context_filter)
        browser.table.sortByColumn(TIME, Qt.SortOrder.AscendingOrder)
        self.select_entry(anchor)
        before = context.anchor_index
        self.context_banner.show_context(anchor, before, len(context.rows) - before - 1)
        self.update_actions()

    def _on_filter_changed(self, new: object, origin: object) -> None:
        """Another filter chosen over the surrounding entries: they are no longer shown."""
        del origin
        if self._list_state is not None and new != self._context_filter:
            self._list_state = None
            self.context_banner.hide()
            if self.browser is not None:
                self.browser.model.highlight_seq = None
            self.update_actions()

    def back_to_list(self) -> None:
        """Back to the Filtered List: the filter, sort, selection and scroll as they were."""
        state, self._list_state = self._list_state, None
        self._context_filter = None
        self.context_banner.hide()
        browser = self.browser
        if state is None or browser is None:
            self.update_actions()
            return
        browser.model.highlight_seq = None
        browser.table.sortByColumn(state.sort_column, state.sort_order)
        browser.set_filter(state.filter)
        if state.seq is not None:
            self.select_entry(state.seq)
        browser.table.verticalScrollBar().setValue(state.scroll)
        self.update_actions()

    # --- signing and the report ----------------------------------------------------------------

    def sign_off(self) -> None:
        """Sign Off…: the statement, the counts by disposition and the warning; then frozen."""
        review = self._open_review_or_refuse()
        if review is None or self.store is None:
            return
        from auditviewer.core.reviewing.reviews import review_progress

        counts = self.progress or review_progress(self.store, review.id)
        dialog = SignOffDialog(review, counts, self.reviewer or review.reviewer, self.window)
        dialog.accepted.connect(lambda: self._sign(review.id, dialog.signer, dialog.statement))
        self._open(dialog)

    def _sign(self, review_id: int, signer: str, statement: str) -> None:
        if self.store is None:
            return
        job = sign_job(self.store, review_id, by=signer, statement=statement)
        job.setProperty("step", "sign")
        self._run(job)

    def write_report(self, path: Path | None = None) -> None:
        """Write Report…: the active review's report as PDF, JSON or CSV (by the suffix)."""
        from auditviewer.core.reviewing.report import report_format

        if self.store is None or self.review is None:
            self._refuse("No review is active", "Start or open a review first (Review menu).")
            return
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self.window, "Write Review Report", f"review-{self.review.id}.pdf", REPORT_FILTERS
            )
            if not chosen:
                return
            path = Path(chosen)
        try:
            report_format(path)
        except ValueError as exc:
            self._refuse("Cannot write the report", str(exc))
            return
        self._run(report_job(self.store, self.review.id, path))

    def show_keys(self) -> None:
        """Help ▸ Review Keys: the review's keys in a short list."""
        box = plain_message_box(self.window, QMessageBox.Icon.Information, "Review Keys", "")
        box.setText(f"Review keys (the table must have the focus or the window):\n\n{keys_help()}")
        self.box = box
        box.open()

    # --- jobs ----------------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.open()

    def _refuse(self, title: str, text: str) -> None:
        box = plain_message_box(self.window, QMessageBox.Icon.Warning, title, text)
        self.box = box
        box.open()

    def _run(self, job: Job) -> None:
        if not self.tasks.start(job):
            self._refuse(
                "The store is busy",
                f"{self.store.path if self.store else 'The store'}: another change is being "
                "written; try again when it has finished.",
            )
            return
        self.update_actions()

    def _on_job_finished(self, job: Job) -> None:
        if job.name not in (REVIEW_WRITE_JOB, REVIEW_READ_JOB, REVIEW_REPORT_JOB):
            return
        step = job.property("step")
        if job.error is not None:
            self._on_failed(job, str(step))
        elif job.name == REVIEW_REPORT_JOB:
            self.message.emit(f"Wrote the review report to {visible(str(job.result), 300)}.")
        elif step == "start":
            review, progress = job.result
            self._activate(review, progress, apply_scope=True)
            self.message.emit(f"Started {visible(review.label(), 200)}: {progress}.")
        elif step == "mark":
            self._on_progress(job.result.progress)
            self.marked.emit(job.result.facets)
        elif step == "sign":
            self._activate(job.result, self.progress, apply_scope=False)
            self.message.emit(f"{visible(job.result.label(), 200)} is signed and frozen.")
        elif step == "progress":
            self._on_progress(job.result)
        elif step == "next":
            self._on_next(job.result, bool(job.property("backwards")))
        self.update_actions()

    def _on_failed(self, job: Job, step: str) -> None:
        titles = {
            "start": "Cannot start the review",
            "mark": "Nothing was marked",
            "sign": "The review was not signed",
        }
        self._refuse(titles.get(step, "The review cannot be read"), visible(job.error, 1000))
        if step in ("mark", "sign") and self.review is not None:
            self.open_review(self.review.id, apply_scope=False)

    def _on_progress(self, progress: DispositionCounts) -> None:
        if self.review is None:
            return
        self.progress = progress
        self.bar.show_review(self.review, progress)

    def _on_next(self, seq: int | None, backwards: bool) -> None:
        way = "before" if backwards else "after"
        if seq is None:
            self.message.emit(f"No unreviewed entry {way} this one in the review's scope.")
        elif not self.select_entry(seq):
            self.message.emit(
                f"The next unreviewed entry (seq {seq:,}) is hidden by the table's filter; "
                "clear it or open the review again to show its scope."
            )
