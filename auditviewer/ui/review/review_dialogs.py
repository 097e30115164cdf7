"""The review dialogs: starting a review, and signing one off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.plain_text import plain_label, visible

if TYPE_CHECKING:
    from auditviewer.core.reviewing.reviews import DispositionCounts, Review

DEFAULT_STATEMENT = (
    "I reviewed every entry in this review's scope and gave each a disposition; "
    "the flagged and follow-up entries are listed in the report."
)


def default_statement(counts: DispositionCounts) -> str:
    """The statement offered for signing: only what the counts show to be true."""
    if not counts.unreviewed:
        return DEFAULT_STATEMENT
    return (
        f"I reviewed {counts.reviewed:,} of the {counts.total:,} entries in this review's scope "
        f"and gave each a disposition; the other {counts.unreviewed:,} were not reviewed. The "
        "flagged and follow-up entries are listed in the report."
    )


FROZEN_WARNING = (
    "Once signed, the review is frozen: its marks, notes and tags can no longer be changed, "
    "in this window or anywhere else."
)


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    ok.setAccessibleName(ok_text.rstrip("…"))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class StartReviewDialog(QDialog):
    """Start Review…: the review's name, its scope as a query (the table's, editable; ``after:``
    and ``before:`` give the time range) and the reviewer."""

    def __init__(self, query: str, reviewer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start Review")
        layout = QVBoxLayout(self)
        intro = plain_label(
            "The review covers the entries its query matches among those stored now.", self
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName("Review name")
        self.name_edit.setPlaceholderText("e.g. Weekly access review")
        form.addRow("&Name:", self.name_edit)
        self.query_edit = QLineEdit(query, self)
        self.query_edit.setAccessibleName("Scope query")
        self.query_edit.setPlaceholderText("every entry")
        self.query_edit.setToolTip(
            "The entries to review, in the search box's syntax; after: and before: set the "
            "time range"
        )
        form.addRow("&Scope:", self.query_edit)
        self.reviewer_edit = QLineEdit(reviewer, self)
        self.reviewer_edit.setAccessibleName("Reviewer")
        form.addRow("&Reviewer:", self.reviewer_edit)
        layout.addLayout(form)
        self.buttons = _buttons(self, "Start Review")
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._update_ok)
        self.reviewer_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(560, self.sizeHint().height())

    def _update_ok(self) -> None:
        ready = bool(self.name_edit.text().strip() and self.reviewer_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def query(self) -> str:
        return self.query_edit.text().strip()

    @property
    def reviewer(self) -> str:
        return self.reviewer_edit.text().strip()


def counts_lines(counts: DispositionCounts) -> list[str]:
    """The counts by disposition, one line each, as the sign-off dialog lists them."""
    return [
        f"Entries in scope: {counts.total:,}",
        f"OK: {counts.ok:,}",
        f"Flagged: {counts.flagged:,}",
        f"Follow-up: {counts.follow_up:,}",
        f"Still unreviewed: {counts.unreviewed:,}",
    ]


class SignOffDialog(QDialog):
    """Sign Off…: the statement, who signs, the counts by disposition, and the warning that the
    review is then frozen."""

    def __init__(
        self,
        review: Review,
        counts: DispositionCounts,
        signer: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign Off Review")
        layout = QVBoxLayout(self)
        title = plain_label(f"Sign off {visible(review.name, 120)}", self)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        scope = plain_label(f"Scope: {visible(review.scope_text(), 400)}", self)
        scope.setWordWrap(True)
        layout.addWidget(scope)
        self.counts_label = plain_label("\n".join(counts_lines(counts)), self)
        self.counts_label.setAccessibleName("Counts by disposition")
        layout.addWidget(self.counts_label)
        if counts.unreviewed:
            unfinished = plain_label(
                f"{counts.unreviewed:,} entries are still unreviewed; they are recorded as such.",
                self,
            )
            unfinished.setWordWrap(True)
            layout.addWidget(unfinished)
        form = QFormLayout()
        self.signer_edit = QLineEdit(signer, self)
        self.signer_edit.setAccessibleName("Signed by")
        form.addRow("Signed &by:", self.signer_edit)
        self.statement_edit = QPlainTextEdit(self)
        self.statement_edit.setPlainText(default_statement(counts))
        self.statement_edit.setAccessibleName("Statement")
        self.statement_edit.setTabChangesFocus(True)
        self.statement_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        form.addRow("&Statement:", self.statement_edit)
        layout.addLayout(form)
        self.warning = plain_label(FROZEN_WARNING, self)
        self.warning.setWordWrap(True)
        font = self.warning.font()
        font.setBold(True)
        self.warning.setFont(font)
        layout.addWidget(self.warning)
        self.buttons = _buttons(self, "Sign Off")
        layout.addWidget(self.buttons)
        self.signer_edit.textChanged.connect(self._update_ok)
        self.statement_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(600, self.sizeHint().height())

    def _update_ok(self) -> None:
        ready = bool(self.signer.strip() and self.statement.strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)

    @property
    def signer(self) -> str:
        return self.signer_edit.text().strip()

    @property
    def statement(self) -> str:
        return self.statement_edit.toPlainText().strip()
