"""A tree of actions grouped by entity with check boxes, for picking the actions to show."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from auditviewer.core.reference import ActionReference, action_group
from auditviewer.ui.plain_text import safe_tooltip, visible

ACTION_ROLE = Qt.ItemDataRole.UserRole + 1


def matches(action: str, patterns: Iterable[str]) -> bool:
    """Whether an action matches any pattern (``*`` is the only wildcard, as in the core)."""
    for pattern in patterns:
        if "*" in pattern:
            literal = pattern.replace("[", "[[]").replace("?", "[?]")
            if fnmatchcase(action, literal):
                return True
        elif pattern == action:
            return True
    return False


class ActionPicker(QTreeWidget):
    """Entity groups (tri-state) over their actions; unknown actions are listed in italics."""

    selection_changed = Signal(tuple)  # the action patterns now picked

    def __init__(self, reference: ActionReference, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reference = reference
        self._counts: dict[str, int] = {}
        self._updating = False
        self.setHeaderLabels(["Action", "Entries"])
        self.setColumnCount(2)
        self.setUniformRowHeights(True)
        self.setAccessibleName("Actions to show, grouped by entity")
        # Qt updates a tri-state group and its children one by one: report once they settle.
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(0)
        self._settle.timeout.connect(lambda: self.selection_changed.emit(self.picked()))
        self.itemChanged.connect(self._on_item_changed)
        self._rebuild(())

    def set_counts(self, counts: dict[str, int], picked: tuple[str, ...]) -> None:
        """Entries per action in the store (adds the actions the reference lacks)."""
        self._counts = dict(counts)
        self._rebuild(picked)

    def _rebuild(self, picked: tuple[str, ...]) -> None:
        actions = list(self._reference.actions)
        actions += sorted(a for a in self._counts if a and not self._reference.is_known(a))
        groups: dict[str, list[str]] = {}
        for action in actions:
            groups.setdefault(action_group(action), []).append(action)
        self._updating = True
        try:
            self.clear()
            for group in sorted(groups):
                group_item = QTreeWidgetItem(self, [visible(group, 80), ""])
                group_item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsAutoTristate
                )
                total = 0
                for action in groups[group]:
                    count = self._counts.get(action, 0)
                    total += count
                    item = QTreeWidgetItem(group_item, [visible(action, 120), f"{count:,}"])
                    item.setData(0, ACTION_ROLE, action)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(0, Qt.CheckState.Unchecked)
                    if not self._reference.is_known(action):
                        font = item.font(0)
                        font.setItalic(True)
                        item.setFont(0, font)
                        item.setToolTip(0, safe_tooltip(f"{action}: not in the action reference"))
                group_item.setText(1, f"{total:,}")
            self.resizeColumnToContents(0)
        finally:
            self._updating = False
        self.set_picked(picked)

    def set_picked(self, patterns: tuple[str, ...]) -> None:
        """Checks the actions the filter's patterns match."""
        self._updating = True
        try:
            for item in self.action_items():
                action = str(item.data(0, ACTION_ROLE))
                state = (
                    Qt.CheckState.Checked if matches(action, patterns) else Qt.CheckState.Unchecked
                )
                item.setCheckState(0, state)
        finally:
            self._updating = False

    def groups(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        """Every entity group with its action rows."""
        found = []
        for group_index in range(self.topLevelItemCount()):
            group = self.topLevelItem(group_index)
            if group is None:
                continue
            children = [group.child(index) for index in range(group.childCount())]
            found.append((group, [child for child in children if child is not None]))
        return found

    def action_items(self) -> list[QTreeWidgetItem]:
        """Every action row."""
        return [item for _, children in self.groups() for item in children]

    def picked(self) -> tuple[str, ...]:
        """The checked actions as patterns: ``group.*`` for a fully checked group."""
        patterns: list[str] = []
        for _, children in self.groups():
            checked = [c for c in children if c.checkState(0) == Qt.CheckState.Checked]
            if checked and len(checked) == len(children) and len(children) > 1:
                name = str(children[0].data(0, ACTION_ROLE))
                patterns.append(f"{action_group(name)}.*")
            else:
                patterns.extend(str(c.data(0, ACTION_ROLE)) for c in checked)
        return tuple(patterns)

    def check_action(self, action: str, on: bool = True) -> None:
        """Checks one action as a user would (emits the new selection)."""
        for item in self.action_items():
            if item.data(0, ACTION_ROLE) == action:
                item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        del item
        if not self._updating and column == 0:
            self._settle.start()
