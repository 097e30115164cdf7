"""Redacted exports: no original e-mail or IP address remains, and pseudonyms are consistent."""

from __future__ import annotations

import csv
import ipaddress
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditviewer.core.exporting.export import CSV_COLUMNS, export_csv, export_json
from auditviewer.core.exporting.redaction import Redactor
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "sample-export.json"
EMAIL = re.compile(rb"[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
IPV4 = re.compile(rb"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")


@pytest.fixture
def sample_store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "store.sqlite")
    import_file(store, SAMPLE)
    return store


def _originals() -> tuple[set[bytes], set[str]]:
    data = SAMPLE.read_bytes()
    emails = set(EMAIL.findall(data))
    ips = {e["ip_address"] for e in orjson.loads(data) if isinstance(e.get("ip_address"), str)}
    return emails, ips


def test_no_original_email_or_ip_address_remains_in_json(
    sample_store: Store, tmp_path: Path
) -> None:
    emails, ips = _originals()
    assert emails
    assert ips
    report = export_json(sample_store, tmp_path / "out.json", redactor=Redactor())
    data = (tmp_path / "out.json").read_bytes()
    assert report.redacted
    assert "actor.email" in (report.redacted_fields or ())
    for email in emails:
        assert email not in data
    assert all(found.endswith(b"@redacted.invalid") for found in EMAIL.findall(data))
    for ip in ips:
        assert ip.encode() not in data
    for found in IPV4.findall(data):
        with pytest.raises(ValueError, match="does not appear to be"):
            ipaddress.ip_address(found.decode())  # only version-like numbers remain


def test_pseudonyms_are_consistent_across_entries(sample_store: Store, tmp_path: Path) -> None:
    export_json(sample_store, tmp_path / "plain.json")
    export_json(sample_store, tmp_path / "red.json", redactor=Redactor())
    plain = orjson.loads((tmp_path / "plain.json").read_bytes())
    red = orjson.loads((tmp_path / "red.json").read_bytes())
    mapping: dict[tuple[str, str], str] = {}
    for original, redacted in zip(plain, red, strict=True):
        for field in ("email", "name"):
            before = _get(original, "actor", field)
            after = _get(redacted, "actor", field)
            if before is None:
                continue
            assert after != before
            assert mapping.setdefault((field, before), after) == after
        if isinstance(original.get("ip_address"), str):
            key = ("ip", original["ip_address"])
            assert mapping.setdefault(key, redacted["ip_address"]) == redacted["ip_address"]
    repeated = [k for k in mapping if k[0] == "email"]
    assert len(repeated) < len([e for e in plain if _get(e, "actor", "email")])


def _get(entry: dict[str, Any], outer: str, inner: str) -> str | None:
    value = entry.get(outer)
    if isinstance(value, dict) and isinstance(value.get(inner), str):
        return str(value[inner])
    return None


def test_another_export_gets_other_pseudonyms(sample_store: Store, tmp_path: Path) -> None:
    export_json(sample_store, tmp_path / "a.json", redactor=Redactor())
    export_json(sample_store, tmp_path / "b.json", redactor=Redactor())
    a = set(EMAIL.findall((tmp_path / "a.json").read_bytes()))
    b = set(EMAIL.findall((tmp_path / "b.json").read_bytes()))
    assert a
    assert not a & b


def test_token_names_and_addresses_inside_texts_are_replaced(tmp_path: Path) -> None:
    entry = make_entry(
        1,
        changes={"note": {"old": "ask ops@corp.example", "new": "from 2001:db8::1 at 14:07:55"}},
    )
    with Store.open(tmp_path / "store.sqlite") as store:
        import_file(store, write_json(tmp_path / "e.json", [entry]))
        export_json(store, tmp_path / "out.json", redactor=Redactor())
    (out,) = orjson.loads((tmp_path / "out.json").read_bytes())
    assert out["entity"]["name"].startswith("token-")
    assert "ops@corp.example" not in out["changes"]["note"]["old"]
    assert "2001:db8::1" not in out["changes"]["note"]["new"]
    assert out["changes"]["note"]["new"].endswith("at 14:07:55")
    assert out["action"] == entry["action"]


def test_csv_is_redacted_the_same_way(sample_store: Store, tmp_path: Path) -> None:
    emails, ips = _originals()
    report = export_csv(sample_store, tmp_path / "out.csv", redactor=Redactor())
    data = (tmp_path / "out.csv").read_bytes()
    for email in emails:
        assert email not in data
    for ip in ips:
        assert ip.encode() not in data
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_COLUMNS)
    assert {"actor_label", "ip"} <= set(report.redacted_fields or ())
    assert report.sha256
