"""The errors of reviews and saved views, one sentence each for the user."""

from __future__ import annotations

from auditviewer.core.errors import AuditViewerError


class ReviewError(AuditViewerError):
    """A review, a mark or a saved view was refused; the store was not changed."""


class ReviewNotFound(ReviewError):
    """No review has the id asked for."""


class ReviewSigned(ReviewError):
    """The review is signed: its marks and its record can no longer change."""


class ViewNotFound(ReviewError):
    """No saved view has the name asked for."""
