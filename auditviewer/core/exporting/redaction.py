"""Redacted exports: people, addresses and tokens replaced by keyed pseudonyms.

Within one export the same value always becomes the same pseudonym (an HMAC-SHA256 of the
value under a random key made for that export and never written anywhere), so entries can still
be followed person by person, while nobody holding the export can get the value back or test a
guess against it. Replaced:

- e-mail addresses, wherever they occur in a text (``user-1a2b3c4d5e6f@redacted.invalid``);
- IP addresses (IPv4 and IPv6), wherever they occur (``ip-1a2b3c4d5e6f``);
- actor names and labels (``person-1a2b3c4d5e6f``; a token actor's name ``token-...``);
- the names of auth tokens, the entity of ``*_auth_token`` entries (``token-1a2b3c4d5e6f``).

A redacted export is not the original texts: it is marked so, and its hashes are of what was
written.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from typing import Any, Final

import orjson

EMAIL: Final = "email"
IP: Final = "ip"
NAME: Final = "name"
TOKEN: Final = "token"  # noqa: S105 (the kind of value, not a secret)

_PREFIX: Final = {EMAIL: "user-", IP: "ip-", NAME: "person-", TOKEN: "token-"}
_EMAIL_RE: Final = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_IPV4_RE: Final = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6_RE: Final = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]{0,15}(?![\w:])")
# Keys (any level) whose text is a person: an e-mail goes to the e-mail pseudonym.
_PERSON_KEYS: Final = frozenset(
    {"actor_email", "actor_name", "actor_label", "user_email", "email", "user_name"}
)
_ACTOR_LABEL_KEYS: Final = frozenset({"email", "label", "name", "username", "display_name"})
_IP_KEYS: Final = frozenset({"ip_address", "ip", "remote_addr", "client_ip", "source_ip"})
_TOKEN_KEYS: Final = frozenset({"token_name"})
_NAME_KEYS: Final = frozenset({"name", "entity_name", "target_name", "object_name"})

POLICY: Final = (
    "e-mail addresses and IP addresses wherever they occur, actor names and labels, and auth "
    "token names are replaced by pseudonyms: HMAC-SHA256 of the value under a random key made "
    "for this export and not kept, so the same value gets the same pseudonym within this "
    "export only"
)


class Redactor:
    """Pseudonyms for one export; keeps which fields it touched for the manifest."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._fields: set[str] = set()
        self._memo: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"Redactor(fields={sorted(self._fields)!r})"

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields (JSON paths or CSV columns) in which something was replaced, sorted."""
        return tuple(sorted(self._fields))

    def policy(self) -> dict[str, Any]:
        """What was done, for a manifest: the policy and the fields touched."""
        return {
            "byte_exact": False,
            "policy": POLICY,
            "pseudonyms": {kind: prefix + "<12 hex digits>" for kind, prefix in _PREFIX.items()},
            "fields": list(self.fields),
        }

    def pseudonym(self, kind: str, value: str) -> str:
        """The pseudonym of ``value`` as a ``kind`` (:data:`EMAIL`, :data:`IP`, ...)."""
        memo_key = (kind, value)
        found = self._memo.get(memo_key)
        if found is not None:
            return found
        # People are matched whatever the case of their address.
        subject = value.lower() if kind == EMAIL else value
        digest = hmac.new(self._key, f"{kind}\0{subject}".encode(), hashlib.sha256).hexdigest()
        made = _PREFIX[kind] + digest[:12] + ("@redacted.invalid" if kind == EMAIL else "")
        self._memo[memo_key] = made
        return made

    def redact_json_text(self, raw: str) -> bytes:
        """An entry's original text with its personal values replaced, as compact JSON.

        A text that is not JSON (a quarantined element) has its addresses replaced in place.
        """
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self.scrub(raw, "(text)").encode("utf-8")
        return orjson.dumps(self._value(value, ""))

    def redact_cell(self, column: str, value: str, *, entity_type: str | None = None) -> str:
        """A CSV cell with its personal values replaced."""
        if not value:
            return value
        if column == "actor_label":
            return self._person(value, column)
        if column == "ip":
            return self._whole_ip(value, column)
        if column == "entity_name" and _is_token(entity_type):
            self._fields.add(column)
            return self.pseudonym(TOKEN, value)
        return self.scrub(value, column)

    def scrub(self, text: str, where: str) -> str:
        """``text`` with every e-mail and IP address in it replaced."""
        replaced = _EMAIL_RE.sub(lambda m: self._email(m.group(0), where), text)
        replaced = _IPV4_RE.sub(lambda m: self._ip_in_text(m.group(0), where), replaced)
        if ":" in replaced:
            replaced = _IPV6_RE.sub(lambda m: self._ip_in_text(m.group(0), where), replaced)
        return replaced

    # --- the walk over an entry's JSON ---------------------------------------------------------

    def _value(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: self._member(value, k, v, path) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(item, f"{path}[]") for item in value]
        if isinstance(value, str):
            return self.scrub(value, path)
        return value

    def _member(self, owner: dict[str, Any], key: str, value: Any, path: str) -> Any:
        where = f"{path}.{key}" if path else key
        if not isinstance(value, str) or not value:
            return self._value(value, where)
        lowered = key.lower()
        if path.endswith("actor") and lowered in _ACTOR_LABEL_KEYS:
            if _is_token(_text(owner.get("type"))):
                self._fields.add(where)
                return self.pseudonym(TOKEN, value)
            return self._person(value, where)
        if lowered in _PERSON_KEYS:
            return self._person(value, where)
        if lowered in _IP_KEYS:
            return self._whole_ip(value, where)
        if lowered in _TOKEN_KEYS or (
            lowered in _NAME_KEYS and path.endswith(("entity", "target")) and _owner_is_token(owner)
        ):
            self._fields.add(where)
            return self.pseudonym(TOKEN, value)
        if lowered == "entity_name" and _is_token(_text(owner.get("entity_type"))):
            self._fields.add(where)
            return self.pseudonym(TOKEN, value)
        return self.scrub(value, where)

    def _person(self, value: str, where: str) -> str:
        self._fields.add(where)
        if _EMAIL_RE.fullmatch(value.strip()):
            return self.pseudonym(EMAIL, value.strip())
        return self.pseudonym(NAME, value)

    def _email(self, value: str, where: str) -> str:
        self._fields.add(where)
        return self.pseudonym(EMAIL, value)

    def _whole_ip(self, value: str, where: str) -> str:
        self._fields.add(where)
        return self.pseudonym(IP, value.strip())

    def _ip_in_text(self, value: str, where: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return value
        self._fields.add(where)
        return self.pseudonym(IP, value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _is_token(kind: str | None) -> bool:
    return kind is not None and "token" in kind.lower()


def _owner_is_token(owner: dict[str, Any]) -> bool:
    return _is_token(_text(owner.get("type")) or _text(owner.get("kind")))
