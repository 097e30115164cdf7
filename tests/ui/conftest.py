"""Fixtures for the viewer: real widgets over real temporary stores, settings in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from auditviewer.core.reference import ActionReference
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.entry_browser import EntryBrowser
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json

# Messages of the offscreen platform plugin itself, not of the code under test.
OFFSCREEN_NOISE = (
    "This plugin does not support",
    "propagateSizeHints",
)

HOSTILE = '<img src="/dev/zero">'


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Lets the offscreen plugin's own notices through; every other Qt warning fails a test."""
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))


def varied_entries() -> list[dict[str, Any]]:
    """Entries that differ in every column the viewer filters and sorts by, newest first."""
    bot = {"type": "organization_auth_token", "id": 5, "label": "CI bot"}
    jane = {"type": "user", "id": 17, "email": "jane@example.com", "name": "Jane Doe"}
    omar = {"type": "user", "id": 21, "email": "omar@example.com", "name": "Omar"}
    rows = [
        # number, action, actor, project, entity type, day (Sept 2024), hour
        (1, "release.create", bot, "smart-sensor", "release", 2, 9),
        (2, "release.update", bot, "smart-sensor", "release", 2, 11),
        (3, "cohort.update", jane, "smart-sensor", "cohort", 3, 8),
        (4, "cohort.create", jane, "gateway", "cohort", 4, 14),
        (5, "organization_auth_token.update", omar, None, "organization_auth_token", 5, 7),
        (6, "organization_auth_token.create", jane, None, "organization_auth_token", 9, 16),
        (7, "release.delete", omar, "gateway", "release", 12, 10),
        (8, "legacy.removed_action", jane, "gateway", "release", 15, 13),
        (9, "cohort.delete", bot, "smart-sensor", "cohort", 20, 18),
        (10, "release.create", jane, "gateway", "release", 28, 6),
    ]
    entries = []
    for number, action, actor, project, entity, day, hour in rows:
        entries.append(
            make_entry(
                number,
                action=action,
                actor=actor,
                project={"slug": project} if project else None,
                entity={"type": entity, "id": 100 + number, "name": f"{entity} {number}"},
                created_date=f"2024-09-{day:02d}T{hour:02d}:15:00.000000+00:00",
                ip_address=f"203.0.113.{number}",
            )
        )
    return list(reversed(entries))


@pytest.fixture
def ui_settings(tmp_path: Path) -> UiSettings:
    """Settings in a file of the test's own, never the user's."""
    return UiSettings(QSettings(str(tmp_path / "ui-settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def reference() -> ActionReference:
    """The shipped action reference."""
    return ActionReference.load()


@pytest.fixture
def filled_store(store: Store, tmp_path: Path) -> Store:
    """A store holding :func:`varied_entries`."""
    import_file(store, write_json(tmp_path / "varied.json", varied_entries()))
    return store


@pytest.fixture
def browser(
    qtbot: Any, filled_store: Store, reference: ActionReference, ui_settings: UiSettings
) -> Iterator[EntryBrowser]:
    """The entry browser over the filled store, shown."""
    widget = EntryBrowser(filled_store, reference, ui_settings)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    wait_for_aggregates(qtbot, widget)
    yield widget
    widget.shutdown()


def wait_for_aggregates(qtbot: Any, widget: EntryBrowser) -> None:
    """Waits until the facets and histogram match the current filter."""
    widget.aggregates.refresh_now()
    qtbot.waitUntil(lambda: not widget.aggregates.pending, timeout=10_000)


@pytest.fixture
def window(
    qtbot: Any, filled_store: Store, ui_settings: UiSettings, tmp_path: Path
) -> Iterator[MainWindow]:
    """The main window over (its own connection to) the filled store; views in tmp_path."""
    main = MainWindow(ui_settings, view_folder=tmp_path / "views")
    qtbot.addWidget(main)
    main.show()
    assert main.open_store(filled_store.path)
    assert main.browser is not None
    wait_for_aggregates(qtbot, main.browser)
    yield main
    main.close()


def table_seqs(widget: EntryBrowser) -> list[int]:
    """The seqs of every row of the table, in order."""
    model = widget.model
    return [row.seq for row in (model.row_at(r) for r in range(model.rowCount())) if row]
