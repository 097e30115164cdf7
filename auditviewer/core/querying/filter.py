"""The filter object and the sort order every query of the store is made of.

Matching is by the values as people read them: case-insensitive (``actor:Jane@Example.com``
finds ``jane@example.com``), ``*`` in a value a wildcard for any run of characters, and a
value of ``*`` alone means "has any value" (so ``-project:*`` is "no project").
:mod:`auditviewer.core.querying.columns` evaluates filters and sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Final

from auditviewer.core.vocabulary import SORT_COLUMNS


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries to show. Every field defaults to "no constraint".

    Within a field the values are alternatives (OR); across fields all must hold (AND).
    ``after`` is inclusive and ``before`` exclusive, both UTC microseconds. The ``bool | None``
    fields select entries with (True) or without (False) the property.
    """

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    not_actors: tuple[str, ...] = ()
    actor_types: tuple[str, ...] = ()
    not_actor_types: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    not_projects: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    not_entities: tuple[str, ...] = ()
    entity_ids: tuple[str, ...] = ()
    not_entity_ids: tuple[str, ...] = ()
    after: int | None = None
    before: int | None = None
    text: tuple[str, ...] = ()
    not_text: tuple[str, ...] = ()
    conflicts: bool | None = None
    quarantined: bool | None = None
    unknown_action: bool | None = None
    anomalies: bool | None = None
    sources: tuple[int, ...] = ()
    seqs: tuple[int, ...] = ()
    # Review marks: each entry's current mark, its latest in any review (see
    # auditviewer.core.querying.review_terms). Dispositions, notes (contain the text), tags and
    # reviewers match case-insensitively; tags and reviewers take ``*`` wildcards.
    dispositions: tuple[str, ...] = ()
    not_dispositions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    not_notes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    not_reviewers: tuple[str, ...] = ()

    @property
    def has_review_terms(self) -> bool:
        """Whether the filter asks about review marks, which change without new entries."""
        return bool(
            self.dispositions
            or self.not_dispositions
            or self.notes
            or self.not_notes
            or self.tags
            or self.not_tags
            or self.reviewers
            or self.not_reviewers
        )

    def without_review_terms(self) -> Filter:
        """The same filter with the review terms left out."""
        return replace(
            self,
            dispositions=(),
            not_dispositions=(),
            notes=(),
            not_notes=(),
            tags=(),
            not_tags=(),
            reviewers=(),
            not_reviewers=(),
        )

    @property
    def is_empty(self) -> bool:
        """Whether the filter lets every entry through."""
        return self == _EMPTY_FILTER


_EMPTY_FILTER: Final = Filter()


@dataclass(frozen=True, slots=True)
class Sort:
    """A sort order: one of :data:`SORT_COLUMNS`, either direction.

    Text columns sort case-insensitively. Rows with no value in the column come last in both
    directions; ties are ordered by time, then by seq, in the same direction as the column.
    """

    column: str = "time"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            known = ", ".join(SORT_COLUMNS)
            raise ValueError(f"cannot sort by {self.column!r}; columns: {known}")


def filter_fields() -> tuple[str, ...]:
    """The names of :class:`Filter`'s fields, in declaration order."""
    return tuple(f.name for f in fields(Filter))


__all__ = ["SORT_COLUMNS", "Filter", "Sort", "filter_fields"]
