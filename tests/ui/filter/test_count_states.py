"""The facets and the timeline say when their counts are updating, and when they are unavailable."""

from __future__ import annotations

from typing import Any

import pytest

from auditviewer.core.errors import StoreError
from auditviewer.core.querying import aggregates
from auditviewer.ui.entry_browser import EntryBrowser
from tests.ui.conftest import wait_for_aggregates

REASON = "the store /tmp/archive.sqlite could not be read (disk I/O error)"


def test_updating_is_said_above_the_facets(qtbot: Any, browser: EntryBrowser) -> None:
    facets = browser.facets
    assert facets.busy_label.isHidden()
    browser.state.include("actor", "CI bot")
    assert facets.busy_label.isVisible()
    assert facets.busy_label.text() == "Updating counts…"
    # At the top of the panel, above the counts, where it is seen.
    label_top = facets.busy_label.mapTo(facets, facets.busy_label.rect().topLeft()).y()
    assert label_top < facets.tree.mapTo(facets, facets.tree.rect().topLeft()).y()
    assert facets.tree.accessibleDescription() == "Updating counts…"
    wait_for_aggregates(qtbot, browser)
    assert facets.busy_label.isHidden()
    assert facets.tree.accessibleDescription() == ""


def test_failed_counts_are_said_unavailable_with_the_reason(
    qtbot: Any, browser: EntryBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreError(REASON)

    monkeypatch.setattr(aggregates, "facet_counts", refuse)
    browser.state.include("actor", "CI bot")
    assert browser.facets.updating
    assert browser.timeline.updating
    wait_for_aggregates(qtbot, browser)
    qtbot.waitUntil(lambda: bool(browser.facets.unavailable), timeout=5_000)
    # Never "updating…" forever: both say the counts are unavailable, and why.
    assert not browser.facets.updating
    assert not browser.timeline.updating
    assert browser.facets.busy_label.isVisible()
    assert browser.facets.busy_label.text().startswith("Counts unavailable: ")
    assert REASON in browser.facets.busy_label.text()
    assert browser.timeline.status_text() == f"Counts unavailable: {REASON}"
    assert REASON in browser.timeline.accessibleDescription()
    browser.timeline.grab()  # paints the unavailable state without error

    monkeypatch.undo()
    browser.state.include("actor", "Jane Doe")
    wait_for_aggregates(qtbot, browser)
    qtbot.waitUntil(lambda: not browser.facets.busy_label.isVisible(), timeout=5_000)
    assert browser.facets.unavailable == ""
    assert browser.timeline.status_text().startswith("highest: ")
