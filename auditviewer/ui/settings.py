"""The window's remembered state, kept in a QSettings the application passes in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

RECENT_LIMIT = 10


class UiSettings:
    """Typed access to the QSettings of the viewer (tests point it at a temporary file)."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _bool(self, key: str, default: bool) -> bool:
        value = self.qsettings.value(key, default)
        if isinstance(value, str):  # INI files give strings back
            return value.lower() in {"true", "1", "yes"}
        return bool(value)

    def state(self, key: str) -> QByteArray | None:
        """A saved widget state (geometry, header, splitter), or None."""
        return self._bytes(f"state/{key}")

    def set_state(self, key: str, value: QByteArray) -> None:
        """Remembers a widget state."""
        self.qsettings.setValue(f"state/{key}", value)

    @property
    def utc_times(self) -> bool:
        """Whether the table shows times in UTC rather than local time."""
        return self._bool("view/utc_times", False)

    @utc_times.setter
    def utc_times(self, value: bool) -> None:
        self.qsettings.setValue("view/utc_times", value)

    def visible(self, panel: str, default: bool = True) -> bool:
        """Whether an optional panel (facets, timeline, side panel, controls) is shown."""
        return self._bool(f"panels/{panel}", default)

    def set_visible(self, panel: str, value: bool) -> None:
        """Remembers whether an optional panel is shown."""
        self.qsettings.setValue(f"panels/{panel}", value)

    @property
    def recent_files(self) -> list[Path]:
        """Recently opened export files, newest first."""
        value = self.qsettings.value("recent/files", [])
        items: list[object] = [value] if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
        return [Path(item) for item in items if isinstance(item, str) and item]

    def add_recent_file(self, path: Path) -> None:
        """Puts a file at the top of the recent files."""
        resolved = path.resolve()
        files = [resolved] + [item for item in self.recent_files if item != resolved]
        self.qsettings.setValue("recent/files", [str(item) for item in files[:RECENT_LIMIT]])

    def clear_recent_files(self) -> None:
        """Forgets the recent files."""
        self.qsettings.setValue("recent/files", [])

    @property
    def last_store(self) -> Path | None:
        """The store last opened or created from the File menu, which the next start opens."""
        value = self.qsettings.value("recent/store", "")
        return Path(value) if isinstance(value, str) and value else None

    @last_store.setter
    def last_store(self, value: Path | None) -> None:
        self.qsettings.setValue("recent/store", str(value.resolve()) if value is not None else "")

    @property
    def last_folder(self) -> str:
        """The folder the last file dialog was in."""
        value = self.qsettings.value("recent/folder", "")
        return value if isinstance(value, str) else ""

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self.qsettings.setValue("recent/folder", value)

    def sync(self) -> None:
        """Writes pending changes to disk."""
        self.qsettings.sync()
