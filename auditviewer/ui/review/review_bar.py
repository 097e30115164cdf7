"""The bar over the table while a review is active: its name, reviewer and progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from auditviewer.ui.plain_text import plain_label, visible

if TYPE_CHECKING:
    from auditviewer.core.reviewing.reviews import DispositionCounts, Review


def signed_text(review: Review) -> str:
    """ "Signed by X on DATE — frozen" for a signed review, '' otherwise."""
    from auditviewer.core.querying.language import format_moment

    signature = review.signature
    if signature is None:
        return ""
    when = format_moment(signature.signed_utc)
    return f"Signed by {visible(signature.signed_by, 80)} on {when} — frozen"


class ReviewBar(QFrame):
    """Says which review is active, who reviews, how far it has got; Next Unreviewed and Sign
    Off at hand. A signed review says who signed it, and when."""

    next_requested = Signal()
    sign_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#reviewBar { background: palette(alternate-base); border: 0; "
            "border-bottom: 1px solid palette(mid); }"
        )
        self.setAccessibleName("Review bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.name_label = plain_label("", self)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        layout.addWidget(self.name_label)
        self.reviewer_label = plain_label("", self)
        layout.addWidget(self.reviewer_label)
        self.progress_label = plain_label("", self)
        self.progress_label.setAccessibleName("Review progress")
        layout.addWidget(self.progress_label, 1)
        self.next_button = QPushButton("Next Unreviewed", self)
        self.next_button.setAccessibleName("Next Unreviewed")
        self.next_button.clicked.connect(self.next_requested)
        layout.addWidget(self.next_button)
        self.sign_button = QPushButton("Sign Off…", self)
        self.sign_button.setAccessibleName("Sign Off")
        self.sign_button.clicked.connect(self.sign_requested)
        layout.addWidget(self.sign_button)
        self.hide()

    def show_review(self, review: Review, progress: DispositionCounts | None) -> None:
        """Shows ``review`` with its ``progress`` (None while it is being read)."""
        self.name_label.setText(visible(review.name, 120))
        self.name_label.setToolTip(visible(review.scope_text(), 400))
        self.reviewer_label.setText(f"reviewed by {visible(review.reviewer, 80)}")
        counts = str(progress) if progress is not None else "reading the progress…"
        signed = signed_text(review)
        self.progress_label.setText(f"{counts} · {signed}" if signed else counts)
        self.next_button.setVisible(not review.signed)
        self.sign_button.setVisible(not review.signed)
        self.setAccessibleDescription(self.text)
        self.show()

    @property
    def text(self) -> str:
        """What the bar says, as one line."""
        return " ".join(
            label.text() for label in (self.name_label, self.reviewer_label, self.progress_label)
        )
