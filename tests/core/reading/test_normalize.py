"""Normalisation of entries through the one field-name mapping table."""

from __future__ import annotations

from typing import Any

import pytest

from auditviewer.core.reading.normalize import normalize, parse_time
from tests.conftest import make_entry

SEPT_1_NOON = 1725192000 * 1_000_000


def test_canonical_entry_is_normalised() -> None:
    n = normalize(make_entry(184467))
    assert n.quarantine_reason is None
    assert n.entry_key == "184467"
    assert n.action == "organization_auth_token.update"
    assert (n.actor_type, n.actor_label, n.actor_id) == ("user", "jane@example.com", "17")
    assert n.project == "smart-sensor"
    assert (n.entity_type, n.entity_id, n.entity_name) == (
        "organization_auth_token",
        "42",
        "CI uploader",
    )
    assert (n.ip, n.user_agent) == ("203.0.113.5", "memfault-cli/1.4")


@pytest.mark.parametrize(
    "variant",
    [
        {"created_date": "2024-09-01T12:00:00+00:00"},
        {"created_at": "2024-09-01T12:00:00Z"},
        {"timestamp": "2024-09-01T14:00:00+02:00"},
        {"timestamp": 1725192000},
        {"timestamp": 1725192000000},
        {"time": "2024-09-01T12:00:00.000000000Z"},
    ],
)
def test_time_field_variants(variant: dict[str, Any]) -> None:
    entry = {"id": 1, "action": "cohort.create", **variant}
    n = normalize(entry)
    assert n.created_utc == SEPT_1_NOON
    assert not n.time_naive


@pytest.mark.parametrize("action_key", ["action", "event", "event_type", "action_name"])
def test_action_field_variants(action_key: str) -> None:
    n = normalize({"id": 1, action_key: "cohort.create", "created_at": "2024-09-01T12:00:00Z"})
    assert n.action == "cohort.create"


def test_token_actor_uses_its_label() -> None:
    actor = {"type": "organization_auth_token", "id": 5, "label": "CI uploader"}
    n = normalize(make_entry(1, actor=actor))
    assert (n.actor_type, n.actor_label, n.actor_id) == ("token", "CI uploader", "5")


def test_actor_given_as_a_string() -> None:
    n = normalize({**make_entry(1, actor=None), "user": "ann@example.com"})
    assert (n.actor_type, n.actor_label) == ("user", "ann@example.com")


def test_flat_actor_and_entity_fields() -> None:
    entry = {
        "id": 2,
        "event": "release.create",
        "created_at": "2024-09-01T12:00:00Z",
        "actor_type": "bot",
        "actor_name": "deployer",
        "entity_type": "release",
        "entity_id": "1.2.3",
        "project_slug": "smart-sensor",
    }
    n = normalize(entry)
    assert (n.actor_type, n.actor_label) == ("token", "deployer")
    assert (n.entity_type, n.entity_id, n.project) == ("release", "1.2.3", "smart-sensor")


def test_organization_level_entry_has_no_project() -> None:
    assert normalize(make_entry(1, project=None)).project is None


def test_unknown_actor_type_is_kept_as_unknown() -> None:
    n = normalize(make_entry(1, actor={"type": "martian", "name": "x"}))
    assert n.actor_type == "unknown"


def test_naive_time_is_flagged() -> None:
    micros, naive = parse_time("2024-09-01T12:00:00")
    assert (micros, naive) == (SEPT_1_NOON, True)


@pytest.mark.parametrize("value", [True, [2024], {"t": 1}, "2024-13-45", ""])
def test_unparseable_times_raise(value: object) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(value)
