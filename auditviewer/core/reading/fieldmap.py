"""The one table of field-name variants the importer understands.

The vendor does not publish the exact schema of its JSON download, so the importer accepts the
names below for each field, in order of preference. Nothing outside this module spells a field
name variant; to accept another variant, add it here.
"""

from __future__ import annotations

from typing import Final

# Top-level fields of an entry -> the names they may go by.
ENTRY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id", "event_id", "audit_log_id", "entry_id", "uuid", "_id"),
    "created": (
        "created_date",
        "created_at",
        "created",
        "timestamp",
        "time",
        "date",
        "occurred_at",
        "event_time",
    ),
    "action": ("action", "event", "action_name", "event_type", "action_type"),
    "actor": ("actor", "user", "performed_by", "actor_user"),
    "project": ("project", "project_slug"),
    "entity": ("entity", "target", "object", "resource"),
    "ip": ("ip_address", "ip", "remote_addr", "remote_address", "source_ip", "client_ip"),
    "user_agent": ("user_agent", "useragent", "http_user_agent"),
}

# Flat top-level variants used when the nested object is absent.
FLAT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "actor_type": ("actor_type",),
    "actor_id": ("actor_id", "user_id", "token_id"),
    "actor_label": ("actor_email", "actor_name", "actor_label", "user_email", "email"),
    "entity_type": ("entity_type", "target_type", "object_type", "resource_type"),
    "entity_id": ("entity_id", "target_id", "object_id", "resource_id"),
    "entity_name": ("entity_name", "target_name", "object_name", "resource_name"),
}

# Inside an ``actor`` object.
ACTOR_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "type": ("type", "kind", "actor_type"),
    "id": ("id", "user_id", "token_id"),
    "label": ("email", "label", "name", "username", "display_name"),
}

# Inside a ``project`` object: what identifies it.
PROJECT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "slug": ("slug", "key", "name", "id"),
}

# Inside an ``entity`` object.
ENTITY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "type": ("type", "kind", "entity_type"),
    "id": ("id", "slug", "key", "uuid"),
    "name": ("name", "label", "title", "slug", "display_name"),
}

# Actor type spellings -> the normalised type.
ACTOR_TYPES: Final[dict[str, str]] = {
    "user": "user",
    "organization_auth_token": "token",
    "org_auth_token": "token",
    "organization_token": "token",
    "auth_token": "token",
    "api_token": "token",
    "token": "token",
    "bot": "token",
}

ACTOR_TYPE_USER: Final = "user"
ACTOR_TYPE_TOKEN: Final = "token"  # noqa: S105 (an actor kind, not a secret)
ACTOR_TYPE_UNKNOWN: Final = "unknown"

# Keys of an object wrapping the entry list, in order of preference.
WRAPPER_KEYS: Final[tuple[str, ...]] = ("data", "entries", "items", "results", "audit_log")

# A top-level object holding any of these is an entry, not a wrapper.
ACTION_KEYS: Final[tuple[str, ...]] = ENTRY_FIELDS["action"]
