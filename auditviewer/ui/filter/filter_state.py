"""The one current filter that the search box, the controls, the facets and the timeline edit."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from auditviewer.core.querying.filter import Filter

# Facet dimension -> (include field, exclude field) of the Filter.
DIMENSION_FIELDS: dict[str, tuple[str, str]] = {
    "action": ("actions", "not_actions"),
    "actor": ("actors", "not_actors"),
    "project": ("projects", "not_projects"),
    "entity": ("entities", "not_entities"),
    "actor_type": ("actor_types", "not_actor_types"),
    "text": ("text", "not_text"),
    "review": ("dispositions", "not_dispositions"),
    "tag": ("tags", "not_tags"),
}


class FilterState(QObject):
    """Holds the filter; every face of it writes here and follows ``changed``."""

    changed = Signal(object, object)  # the new Filter, the object that changed it (or None)

    def __init__(self, initial: Filter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._filter = initial

    @property
    def filter(self) -> Filter:
        """The current filter."""
        return self._filter

    def set_filter(self, new: Filter, origin: object = None) -> None:
        """Replaces the filter (nothing happens when it is the same)."""
        if new == self._filter:
            return
        self._filter = new
        self.changed.emit(new, origin)

    def update(self, origin: object = None, **fields: Any) -> None:
        """Replaces some fields of the filter."""
        self.set_filter(dataclasses.replace(self._filter, **fields), origin)

    def include(self, dimension: str, value: str, origin: object = None) -> None:
        """Shows only entries with this value (added to the values already asked for)."""
        include, exclude = DIMENSION_FIELDS[dimension]
        current = getattr(self._filter, include)
        self.update(
            origin,
            **{
                include: current if value in current else (*current, value),
                exclude: tuple(v for v in getattr(self._filter, exclude) if v != value),
            },
        )

    def exclude(self, dimension: str, value: str, origin: object = None) -> None:
        """Hides entries with this value."""
        include, exclude = DIMENSION_FIELDS[dimension]
        current = getattr(self._filter, exclude)
        self.update(
            origin,
            **{
                exclude: current if value in current else (*current, value),
                include: tuple(v for v in getattr(self._filter, include) if v != value),
            },
        )
