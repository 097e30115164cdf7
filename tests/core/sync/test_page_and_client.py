"""Page parsing and the small pieces of the HTTP client."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from auditviewer.core.sync import AuditLogClient, SyncConfig, parse_retry_after
from auditviewer.core.sync.client import basic_authorization
from auditviewer.core.sync.page import PageError, parse_page


def test_each_element_keeps_its_exact_text() -> None:
    first = '{ "id" : 2,\n  "action":"a.b", "name": "Zo\\u00eb \u2028 ok", "big": 1e400 }'
    second = '{"id":1,"action":"c","n":123456789012345678901234567890}'
    body = f'\ufeff{{"paging": {{"page": 1, "per_page": 2}}, "data": [ {first} ,\n{second}]}}'
    page = parse_page(body.encode())
    assert [e.text for e in page.elements] == [first, second]
    assert page.elements[1].value["n"] == 123456789012345678901234567890
    assert (page.page, page.per_page, page.page_count) == (1, 2, None)


def test_duplicate_keys_are_reported_like_file_imports() -> None:
    page = parse_page(b'{"data": [{"id": 1, "id": 2, "action": "x"}]}')
    assert page.elements[0].duplicate_key == "id"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b'{"data": [{"id": 1}', "ends too early"),
        (b'{"data": [{"id": NaN}]}', "NaN is not valid JSON"),
        (b'{"data": []} extra', "unexpected text"),
        (b'{"items": []}', "no 'data' list"),
        (b'{"data": {}}', "'data' is not a list"),
        (b'{"data": [], "data": []}', "twice"),
        (b'{"data": [], "paging": {"page": "1"}}', "paging.page"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_broken_pages_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(PageError, match=reason):
        parse_page(body)


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2024, 9, 3, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Tue, 03 Sep 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 03 Sep 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_basic_auth_has_an_empty_user() -> None:
    assert basic_authorization("abc") == "Basic OmFiYw=="  # base64(":abc")


def test_client_repr_hides_the_token() -> None:
    with AuditLogClient(SyncConfig(org="acme"), "super-secret-token") as client:
        assert "super-secret-token" not in repr(client)
        assert "OnN1cGVy" not in repr(client)


def test_config_is_safe_to_show_and_keys_the_bookmark() -> None:
    config = SyncConfig(org="acme", project="smart-sensor", base_url="https://API.memfault.com/")
    valid = config.validated()
    assert valid.base_url == "https://api.memfault.com"
    assert valid.state_key == "sync:https://api.memfault.com:acme:smart-sensor"
    assert valid.location == (
        "https://api.memfault.com/api/v0/organizations/acme/audit-log?project=smart-sensor"
    )
    json.dumps(valid.state_key)
