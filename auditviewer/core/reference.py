"""The vendor's action reference: which actions are logged, what they mean, and since when."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from auditviewer.core.resources import resource_path
from auditviewer.core.timestamps import MICROS_PER_DAY
from auditviewer.core.vocabulary import ANOMALY, UNKNOWN_ACTION


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """One row of the reference table; an action can have several (``release.create`` has three)."""

    action: str
    description: str
    logged_since: date

    @property
    def entity(self) -> str:
        """The entity group the action belongs to (the part before the first dot)."""
        return action_group(self.action)


def action_group(action: str) -> str:
    """The entity an action acts on: ``release`` for ``release.create``."""
    head, _, _ = action.partition(".")
    return head


def _micros(day: date) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


class ActionReference:
    """Answers questions about actions against the reference table."""

    def __init__(self, rows: list[ReferenceRow], retention_days: int = 365) -> None:
        self.rows: tuple[ReferenceRow, ...] = tuple(rows)
        self.retention_days = retention_days
        self._by_action: dict[str, list[ReferenceRow]] = {}
        for row in self.rows:
            self._by_action.setdefault(row.action, []).append(row)
        self._first_logged_micros = {
            action: _micros(min(r.logged_since for r in rows))
            for action, rows in self._by_action.items()
        }

    @classmethod
    def load(cls, path: Path | None = None) -> ActionReference:
        """Reads the reference from ``resources/actions.json`` (or another file of that shape)."""
        source = path or resource_path("actions.json")
        document = json.loads(source.read_text(encoding="utf-8"))
        rows = [
            ReferenceRow(
                action=item["action"],
                description=item["description"],
                logged_since=date.fromisoformat(item["logged_since"]),
            )
            for item in document["actions"]
        ]
        return cls(rows, retention_days=int(document.get("retention_days", 365)))

    @classmethod
    def shared(cls) -> ActionReference:
        """The bundled reference, loaded once per process."""
        return _shared_reference()

    @property
    def actions(self) -> tuple[str, ...]:
        """Every distinct action in the reference, in reference order."""
        return tuple(self._by_action)

    def is_known(self, action: str | None) -> bool:
        """Whether the action is in the reference (deprecated or unknown actions are not)."""
        return action is not None and action in self._by_action

    def describe(self, action: str) -> tuple[ReferenceRow, ...]:
        """The reference rows of an action; empty for an action the reference lacks."""
        return tuple(self._by_action.get(action, ()))

    def first_logged_micros(self, action: str) -> int | None:
        """The earliest "logged since" date of an action, as UTC microseconds."""
        return self._first_logged_micros.get(action)

    def logged_before_reference(self, action: str | None, created_micros: int | None) -> bool:
        """Whether an entry predates the earliest date its action is documented as logged.

        An action with several rows (``release.create``) counts from its earliest row: the entry
        does not say which kind of event it is, so only a time before all of them is an anomaly.
        """
        if action is None or created_micros is None:
            return False
        since = self._first_logged_micros.get(action)
        return since is not None and created_micros < since

    def flag_bits(self, action: str | None, created_micros: int | None) -> int:
        """The bits of the flags an entry gets from the reference (unknown action, logged
        before the reference date), as :mod:`auditviewer.core.vocabulary` numbers them."""
        bits = 0
        if action is not None and not self.is_known(action):
            bits |= UNKNOWN_ACTION.bit
        if self.logged_before_reference(action, created_micros):
            bits |= ANOMALY.bit
        return bits

    def past_retention(self, created_micros: int | None, now_micros: int) -> bool:
        """Whether the service no longer keeps an entry this old (it keeps one year)."""
        if created_micros is None:
            return False
        return created_micros < now_micros - self.retention_days * MICROS_PER_DAY


@functools.cache
def _shared_reference() -> ActionReference:
    return ActionReference.load()
