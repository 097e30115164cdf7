"""Asks what to export (selection or filter), in which format, and where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.plain_text import plain_label
from auditviewer.ui.tasks.jobs import ExportRequest

DEFAULT_NAME = "audit-log-export"
REDACTION_NOTE = (
    "Replaces e-mail and IP addresses, actor names and token names by pseudonyms (the same "
    "value, the same pseudonym within this export); the texts are then not the originals."
)
FORMAT_LABELS = (("json", "JSON — the source's own format, re-importable"), ("csv", "CSV"))


def add_selection_choice(
    dialog: QDialog, layout: QVBoxLayout, selected: int, matching: int
) -> tuple[QRadioButton, QRadioButton]:
    """The choice between the selected entries and all that match the filter, added to
    ``layout``: the selection is chosen when more than one entry is selected."""
    selected_radio = QRadioButton(f"The selected entries ({selected:,})", dialog)
    matching_radio = QRadioButton(f"All entries matching the filter ({matching:,})", dialog)
    group = QButtonGroup(dialog)
    group.addButton(selected_radio)
    group.addButton(matching_radio)
    selected_radio.setEnabled(selected > 0)
    (selected_radio if selected > 1 else matching_radio).setChecked(True)
    layout.addWidget(selected_radio)
    layout.addWidget(matching_radio)
    return selected_radio, matching_radio


class ExportDialog(QDialog):
    """The export choices; :meth:`request` gives them once accepted."""

    def __init__(
        self, selected: int, matching: int, folder: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export entries")
        layout = QVBoxLayout(self)
        self.selected_radio, self.matching_radio = add_selection_choice(
            self, layout, selected, matching
        )

        form = QFormLayout()
        self.format_combo = QComboBox()
        for key, label in FORMAT_LABELS:
            self.format_combo.addItem(label, key)
        self.format_combo.setAccessibleName("Export format")
        self.format_combo.currentIndexChanged.connect(self._fix_suffix)
        form.addRow(plain_label("Format"), self.format_combo)
        path_row = QHBoxLayout()
        self.path_edit = QLineEdit(str(Path(folder or Path.home()) / f"{DEFAULT_NAME}.json"))
        self.path_edit.setAccessibleName("Export file")
        self.path_edit.textChanged.connect(self._update_ok)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form.addRow(plain_label("File"), path_row)
        layout.addLayout(form)
        self.redact_check = QCheckBox("Redact personal values", self)
        layout.addWidget(self.redact_check)
        redaction = plain_label(REDACTION_NOTE)
        redaction.setWordWrap(True)
        redaction.setContentsMargins(24, 0, 0, 0)
        layout.addWidget(redaction)
        note = plain_label(
            "The file is written in full to a temporary name and then renamed, so an "
            "interrupted export never leaves a partial file."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_ok()

    @property
    def format(self) -> str:
        """``json`` or ``csv``."""
        return str(self.format_combo.currentData())

    def _fix_suffix(self) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(f".{self.format}")))

    def _browse(self) -> None:
        pattern = "JSON files (*.json)" if self.format == "json" else "CSV files (*.csv)"
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), pattern)
        if name:
            self.path_edit.setText(name)

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.path_edit.text().strip()))

    def request(self) -> ExportRequest | None:
        """What to export, or None without a file name."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        return ExportRequest(
            path=Path(text).expanduser(),
            format=self.format,
            selected_only=self.selected_radio.isChecked(),
            redact=self.redact_check.isChecked(),
        )
