"""Writes ``resources/sample-export.json``: a small, realistic export for the demo and the README.

About 300 entries from the synthetic generator (13 months ending 2026-11-20, users and tokens,
projects, organization-level entries, deprecated actions), plus hand-made oddities that a real
archive meets and the viewer must show:

- entries from August 2024, two of them logged before their action's "logged since" date in the
  vendor's reference (``release.create`` before Aug 8, ``software_version.add_sbom`` before
  Aug 23, 2024) — anomalies; everything before 2025-11-25 is past the service's one-year
  retention relative to 2026-11-25;
- a conflict (the same id twice with different content) and an exact duplicate;
- two quarantinable elements: an entry with no action and one with an impossible time;
- a time with a non-UTC offset, a time without an offset (naive, flagged), an unknown extra field.

Deterministic: running it again writes the same bytes. Run from the repository root::

    .venv/bin/python bench/make_sample.py            # writes and checks the sample
    .venv/bin/python bench/make_sample.py --check    # only checks the committed file
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLE = ROOT / "resources" / "sample-export.json"
sys.path.insert(0, str(BENCH))
import synthetic  # noqa: E402

SEED = 7
GENERATED = 288
MAX_BYTES = 300_000
RETENTION_REFERENCE = datetime(2026, 11, 25, tzinfo=UTC)

JANE = {"type": "user", "id": 17, "email": "jane.doe@acme-devices.example", "name": "Jane Doe"}
CI = {"type": "organization_auth_token", "id": 40, "label": "CI uploader"}
ORG = {"slug": "acme-devices"}
SENSOR = {"slug": "smart-sensor", "name": "Smart Sensor"}
THERMOSTAT = {"slug": "thermostat", "name": "Thermostat"}
CLI_AGENT = "memfault-cli/1.4.2 python-requests/2.32.3"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
)  # fmt: skip


def _old_entries() -> list[dict[str, Any]]:
    """August 2024, newest first: the first weeks of logging, from an older local archive."""
    return [
        {
            "id": 120_488,
            "created_date": "2024-08-27T16:02:41.733120+00:00",
            "action": "software_version.add_sbom",
            "actor": CI,
            "organization": ORG,
            "project": SENSOR,
            "entity": {"type": "software_version", "id": 880_112, "name": "main-fw 1.0.3"},
            "ip_address": "203.0.113.40",
            "user_agent": CLI_AGENT,
        },
        {
            # Logged before the action's "logged since" date (Aug 23, 2024): an anomaly.
            "id": 120_301,
            "created_date": "2024-08-19T10:12:03.004500+00:00",
            "action": "software_version.add_sbom",
            "actor": CI,
            "organization": ORG,
            "project": SENSOR,
            "entity": {"type": "software_version", "id": 880_104, "name": "main-fw 1.0.2"},
            "ip_address": "203.0.113.40",
            "user_agent": CLI_AGENT,
        },
        {
            "id": 120_150,
            "created_date": "2024-08-12T09:30:17.250000+00:00",
            "action": "cohort.create",
            "actor": JANE,
            "organization": ORG,
            "project": THERMOSTAT,
            "entity": {"type": "cohort", "id": 201, "name": "beta"},
            "ip_address": "198.51.100.23",
            "user_agent": BROWSER,
        },
        {
            # Logged before the action's first "logged since" date (Aug 8, 2024): an anomaly.
            "id": 119_977,
            "created_date": "2024-08-06T14:55:09.118000+00:00",
            "action": "release.create",
            "actor": JANE,
            "organization": ORG,
            "project": SENSOR,
            "entity": {"type": "release", "id": 100_010, "name": "1.0.0"},
            "ip_address": "198.51.100.23",
            "user_agent": BROWSER,
        },
    ]


def _index_near(entries: list[dict[str, Any]], prefix: str) -> int:
    """The index of the first (newest) entry created on or before the day ``prefix``."""
    for index, entry in enumerate(entries):
        if entry["created_date"] < prefix + "T23:59:59":
            return index
    return len(entries)


def build() -> list[dict[str, Any]]:
    entries = list(synthetic.iter_entries(GENERATED, seed=SEED))

    # A conflict: an entry that arrived again with other content (the cohort renamed since).
    original_at = next(
        i for i, e in enumerate(entries) if e["action"] == "cohort.update" and i > 40
    )
    changed = copy.deepcopy(entries[original_at])
    old_name = changed["entity"]["name"]
    changed["entity"]["name"] = f"{old_name}-renamed"
    changed["changes"] = {"name": {"old": old_name, "new": f"{old_name}-renamed"}}
    entries.insert(original_at + 1, changed)

    # An exact duplicate (the same entry twice, e.g. overlapping downloads): counted, not stored.
    entries.insert(121, copy.deepcopy(entries[120]))

    # Times: one with a non-UTC offset, one without an offset.
    offset_at = _index_near(entries, "2026-05-04")
    entry = entries[offset_at]
    moment = datetime.fromisoformat(entry["created_date"])
    entry["created_date"] = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    naive_at = _index_near(entries, "2026-03-10")
    entries[naive_at]["created_date"] = entries[naive_at]["created_date"].removesuffix("+00:00")

    # An unknown extra field, which must be kept and shown.
    extra_at = _index_near(entries, "2026-09-01")
    entries[extra_at]["request_id"] = "req_01J9ZK4T6QH3V8W2XN5C7B0DME"

    # Quarantinable elements: no action; an impossible time.
    at = _free_id_slot(entries, _index_near(entries, "2026-08-14"))
    no_action = {k: v for k, v in copy.deepcopy(entries[at]).items() if k != "action"}
    no_action["id"] = entries[at - 1]["id"] - 1
    entries.insert(at, no_action)
    at = _free_id_slot(entries, _index_near(entries, "2026-02-27"))
    bad_time = copy.deepcopy(entries[at])
    bad_time["id"] = entries[at - 1]["id"] - 1
    bad_time["created_date"] = "2026-02-30T25:61:00+00:00"
    entries.insert(at, bad_time)

    entries.extend(_old_entries())
    return entries


def _free_id_slot(entries: list[dict[str, Any]], start: int) -> int:
    """The first index from ``start`` whose entry's id is at least 2 below its predecessor's."""
    index = max(1, start)
    while entries[index - 1]["id"] - entries[index]["id"] < 2:
        index += 1
    return index


def render(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def check(path: Path) -> list[str]:
    """Imports the sample into a temporary store and checks the promised oddities."""
    from auditviewer.core.reference import ActionReference
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_import import import_file

    problems: list[str] = []
    size = path.stat().st_size
    if size >= MAX_BYTES:
        problems.append(f"{size:,} bytes, over {MAX_BYTES:,}")
    entries = json.loads(path.read_text(encoding="utf-8"))
    reference = ActionReference.load()
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "s.sqlite") as store:
        report = import_file(store, path)
        with store.raw() as connection:
            rows = connection.execute(
                "SELECT action, created_utc, actor_type, project, time_naive FROM entries"
            ).fetchall()
    actions = {r[0] for r in rows if r[0]}
    unknown = sorted(a for a in actions if not reference.is_known(a))
    anomalies = sum(
        1
        for action, created, *_ in rows
        if action and created is not None and reference.logged_before_reference(action, created)
    )
    cutoff = int(RETENTION_REFERENCE.timestamp() * 1_000_000) - 365 * 86_400_000_000
    old = sum(1 for r in rows if r[1] is not None and r[1] < cutoff)
    tokens = len({e["actor"]["id"] for e in entries if e.get("actor", {}).get("type") != "user"})
    users = len({e["actor"]["id"] for e in entries if e.get("actor", {}).get("type") == "user"})
    projects = {r[3] for r in rows if r[3]}
    org_level = sum(1 for r in rows if r[3] is None and r[0])
    facts = {
        "bytes": size,
        "elements": len(entries),
        "parsed": report.parsed,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "conflicts": report.conflicts,
        "quarantined": report.quarantined,
        "naive times": report.naive_times,
        "users": users,
        "tokens": tokens,
        "projects": len(projects),
        "organization-level entries": org_level,
        "actions": len(actions),
        "unknown actions": len(unknown),
        "anomalies (before logged-since)": anomalies,
        "past retention on 2026-11-25": old,
    }
    for name, value in facts.items():
        print(f"  {name}: {value:,}", file=sys.stderr)
    print(f"  unknown actions: {', '.join(unknown)}", file=sys.stderr)
    expectations = {
        "conflicts": report.conflicts >= 1,
        "duplicates": report.duplicates >= 1,
        "quarantined": report.quarantined == 2,
        "anomalies": anomalies >= 2,
        "unknown actions": len(unknown) >= 3,
        "past retention": old >= 5,
        "tokens": tokens >= 3,
        "users": users >= 5,
        "organization-level": org_level >= 3,
        "projects": len(projects) >= 5,
        "naive": report.naive_times == 1,
    }
    problems += [f"expected {name}" for name, ok in expectations.items() if not ok]
    if report.parsed != len(entries):
        problems.append(f"parsed {report.parsed} of {len(entries)} elements")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the existing sample")
    parser.add_argument("-o", "--output", type=Path, default=SAMPLE)
    args = parser.parse_args(argv)
    if not args.check:
        text = render(build())
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(text.encode()):,} bytes)", file=sys.stderr)
    problems = check(args.output)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
