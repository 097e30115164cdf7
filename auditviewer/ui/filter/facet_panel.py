"""The facet side bar: counts per action, actor, project and entity type under the filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.vocabulary import FACETS
from auditviewer.ui.filter.filter_state import DIMENSION_FIELDS
from auditviewer.ui.plain_text import plain_label, safe_tooltip, visible

# The facets the side bar lists (actor type has its own control), titled as the core names them.
FACET_DIMENSIONS: tuple[tuple[str, str], ...] = (
    *((name, FACETS[name].title) for name in ("action", "actor", "project", "entity")),
    # Each entry's current review mark (its latest in any review).
    ("review", "Review"),
    ("tag", "Review tags"),
)
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1
DIMENSION_ROLE = Qt.ItemDataRole.UserRole + 2
FACET_LIMIT = 50


def exclude_modifier_held() -> bool:
    """Whether the click that is being handled asks to exclude rather than include."""
    modifiers = QGuiApplication.keyboardModifiers()
    return bool(modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier))


class FacetPanel(QWidget):
    """Click a value to show only its entries; Ctrl+click (or Alt+click) to hide them."""

    facet_clicked = Signal(str, str, bool)  # dimension, value, exclude

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Above the counts, where it is seen: "Updating counts…" or why there are none.
        self.busy_label = plain_label("")
        self.busy_label.setWordWrap(True)
        self.busy_label.setMargin(4)
        self.busy_label.setAutoFillBackground(True)
        self.busy_label.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        font = self.busy_label.font()
        font.setBold(True)
        self.busy_label.setFont(font)
        self.busy_label.setAccessibleName("Facet counts status")
        self.busy_label.hide()
        layout.addWidget(self.busy_label)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Value", "Entries"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        # Values of one family differ at their end (``release_activation.create``/``.delete``).
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setAccessibleName("Facets: click to filter, Ctrl+click to exclude")
        self.tree.setToolTip("Click a value to filter by it; Ctrl+click to exclude it")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        self.groups: dict[str, QTreeWidgetItem] = {}
        for dimension, title in FACET_DIMENSIONS:
            group = QTreeWidgetItem(self.tree, [title, ""])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setExpanded(True)
            self.groups[dimension] = group
        layout.addWidget(self.tree)
        self._included: dict[str, tuple[str, ...]] = {}
        self.updating = False
        # Why the counts could not be computed ("" while they are current or updating).
        self.unavailable = ""

    def set_updating(self, updating: bool) -> None:
        """Marks the counts as out of date (greyed, "Updating counts…") until new ones arrive."""
        self.updating = updating
        self.unavailable = ""
        self._show_status("Updating counts…" if updating else "", dimmed=updating)

    def set_unavailable(self, reason: str) -> None:
        """Says the counts could not be computed, and why; the last ones stay greyed."""
        self.updating = False
        self.unavailable = visible(reason, 300) or "unknown reason"
        self._show_status(f"Counts unavailable: {self.unavailable}", dimmed=True)

    def _show_status(self, text: str, *, dimmed: bool) -> None:
        self.busy_label.setText(text)
        self.busy_label.setToolTip(safe_tooltip(text) if text else "")
        self.busy_label.setVisible(bool(text))
        self.tree.setAccessibleDescription(text)
        color = self.palette().color(
            QPalette.ColorGroup.Disabled if dimmed else QPalette.ColorGroup.Active,
            QPalette.ColorRole.Text,
        )
        for group in self.groups.values():
            for index in range(group.childCount()):
                child = group.child(index)
                if child is not None:
                    child.setForeground(1, color)

    def set_facets(self, facets: Mapping[str, Sequence[Any]]) -> None:
        """Shows ``FacetCount(value, count)`` lists per dimension (those given; the others keep
        theirs)."""
        self.tree.setUpdatesEnabled(False)
        try:
            for dimension, group in self.groups.items():
                if dimension not in facets:
                    continue
                group.takeChildren()
                counts = facets.get(dimension, ())
                included = self._included.get(dimension, ())
                for facet in counts:
                    value, count = facet.value, facet.count
                    shown = "(none)" if value is None else visible(value, 200)
                    item = QTreeWidgetItem([shown, f"{count:,}"])
                    item.setTextAlignment(
                        1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    item.setData(0, VALUE_ROLE, value)
                    item.setData(0, DIMENSION_ROLE, dimension)
                    if value is not None:
                        item.setToolTip(0, safe_tooltip(value))
                    if value is None:
                        item.setToolTip(
                            0, "Click: entries without a value; Ctrl+click: entries with one"
                        )
                    if value in included:
                        font = item.font(0)
                        font.setBold(True)
                        item.setFont(0, font)
                    group.addChild(item)
                suffix = f" ({len(counts)}+)" if len(counts) >= FACET_LIMIT else ""
                group.setText(0, f"{dict(FACET_DIMENSIONS)[dimension]}{suffix}")
        finally:
            self.tree.setUpdatesEnabled(True)
        self.set_updating(False)

    def set_filter(self, filter_: Any) -> None:
        """Remembers which values the filter asks for, to mark them."""
        self._included = {
            dimension: tuple(getattr(filter_, DIMENSION_FIELDS[dimension][0]))
            for dimension in self.groups
        }

    def items(self, dimension: str) -> list[QTreeWidgetItem]:
        """The value rows of one dimension."""
        group = self.groups[dimension]
        children = [group.child(index) for index in range(group.childCount())]
        return [child for child in children if child is not None]

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        dimension = item.data(0, DIMENSION_ROLE)
        value = item.data(0, VALUE_ROLE)
        if dimension is None:
            return
        if value is None:
            # "(none)": the entries without a value are those not matching the wildcard.
            self.facet_clicked.emit(str(dimension), "*", not exclude_modifier_held())
            return
        self.facet_clicked.emit(str(dimension), str(value), exclude_modifier_held())
