"""Deterministic synthetic Memfault audit-log exports, for benchmarks and the bundled sample.

The entries follow the canonical shape of the data contract (``docs``/DESIGN "Data contract"):
``id``, ``created_date`` with an offset, ``action``, ``actor`` (a user with email and name, or an
Organization Auth Token with a label), ``organization``, ``project`` (null for organization-level
actions), ``entity``, optional ``changes`` (``{field: {old, new}}``), ``ip_address`` and
``user_agent``. They are written newest first with ids descending, as the vendor exports them.

Realism, all from one seeded ``random.Random``:

- 40 actions: the 24 action names of the vendor's reference (26 rows; ``release.create`` has
  three) and 16 deprecated or unknown ones, which stop appearing part-way through the period.
- about 200 actors (170 users, 30 tokens) with Zipf-skewed activity; tokens do CI work
  (artifacts, releases, activations, SBOMs), users do everything.
- 30 projects, skewed, each actor working in a few of them; releases are versioned along time.
- 13 months ending at a fixed date, busier on weekdays and working hours, with a growth trend,
  a quiet end-of-year and a few burst days.

Entries are produced one at a time and written in blocks, so memory does not grow with the count.

Usage::

    python bench/synthetic.py --count 1000000 --format json -o bench/data/export.json
    python bench/synthetic.py --count 1000 --format jsonl.gz -o /tmp/e.jsonl.gz --seed 7
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import itertools
import random
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

# Bump when the output for a given (seed, count, end) changes, so cached files are regenerated.
GENERATOR_VERSION = 2
DEFAULT_SEED = 20241122
# Exclusive end of the period: the last entries are from 2026-11-20.
DEFAULT_END = date(2026, 11, 21)
MONTHS = 13
FORMATS = ("json", "json-compact", "jsonl", "json.gz", "json-compact.gz", "jsonl.gz")
ORGANIZATION = {"slug": "acme-devices"}
_BLOCK = 2000

# --- actions ---------------------------------------------------------------------------------

# (action, weight for users, weight for tokens); the names of the vendor's reference.
REFERENCE_ACTIONS: tuple[tuple[str, float, float], ...] = (
    ("artifact.create", 4.0, 30.0),
    ("artifact.delete", 1.0, 1.0),
    ("cohort.create", 1.5, 0.2),
    ("cohort.delete", 0.5, 0.0),
    ("cohort.update", 6.0, 0.5),
    ("device.bulk_cohort_update", 5.0, 6.0),
    ("hardware_version.create", 0.8, 0.2),
    ("hardware_version.update", 0.6, 0.0),
    ("organization_auth_token.create", 0.5, 0.0),
    ("organization_auth_token.delete", 0.3, 0.0),
    ("organization_auth_token.update", 0.6, 0.0),
    ("project.create", 0.15, 0.0),
    ("project.delete", 0.05, 0.0),
    ("release.create", 5.0, 22.0),
    ("release.delete", 0.8, 0.3),
    ("release.update", 14.0, 12.0),
    ("release_activation.create", 4.0, 8.0),
    ("release_activation.delete", 1.0, 0.5),
    ("release_activation.update", 5.0, 4.0),
    ("software_type.create", 0.3, 0.0),
    ("software_type.update", 0.3, 0.0),
    ("software_type.archive", 0.1, 0.0),
    ("software_version.add_sbom", 1.5, 9.0),
    ("software_version.delete_sbom", 0.3, 0.5),
)
# Deprecated or unknown actions (not in the reference); they stop after a share of the period.
# (action, weight for users, weight for tokens, last appearance as a share of the period)
DEPRECATED_ACTIONS: tuple[tuple[str, float, float, float], ...] = (
    ("user.login", 12.0, 0.0, 0.35),
    ("user.logout", 3.0, 0.0, 0.35),
    ("user.invite", 0.6, 0.0, 0.55),
    ("user.remove", 0.2, 0.0, 0.55),
    ("user.role_update", 0.3, 0.0, 0.55),
    ("organization.update", 0.2, 0.0, 0.45),
    ("organization_member.create", 0.3, 0.0, 0.45),
    ("project.update", 0.6, 0.0, 0.5),
    ("project_api_key.rotate", 0.2, 0.3, 0.4),
    ("device.delete", 1.5, 1.0, 0.3),
    ("device.update", 2.0, 1.5, 0.3),
    ("alert_rule.create", 0.5, 0.0, 0.6),
    ("alert_rule.update", 0.8, 0.0, 0.6),
    ("webhook.create", 0.2, 0.1, 0.25),
    ("webhook.delete", 0.1, 0.0, 0.25),
    ("trace.delete", 0.6, 0.4, 0.2),
)
ALL_ACTIONS: tuple[str, ...] = tuple(a for a, *_ in REFERENCE_ACTIONS) + tuple(
    a for a, *_ in DEPRECATED_ACTIONS
)
# Actions on the organization itself: no project.
ORG_LEVEL_GROUPS = frozenset(
    {"organization_auth_token", "user", "organization", "organization_member"}
)

# --- pools -------------------------------------------------------------------------------------

_FIRST = (
    "Jane", "Omar", "Li", "Priya", "Lukas", "Sofia", "Mateo", "Aisha", "Noah", "Emma", "Kenji",
    "Fatima", "Olivier", "Zoë", "Hannah", "Diego", "Ingrid", "Tomasz", "Chloé", "Ravi", "Amara",
    "Felix", "Mei", "Jonas", "Lucía", "Arjun", "Nora", "Samuel", "Yuki", "Björn", "Elena", "Kwame",
    "Mariam", "Pedro", "Ana", "Ahmed", "Clara", "Ethan", "Leila", "Marco",
)  # fmt: skip
_LAST = (
    "Doe", "Haddad", "Wei", "Raman", "Becker", "Rossi", "García", "Okafor", "Smith", "Martin",
    "Tanaka", "Khan", "Dubois", "Nilsson", "Kowalski", "Müller", "Silva", "Nguyen", "Patel",
    "Johansson", "Fernández", "O'Brien", "Schmidt", "Ivanova", "Mensah", "Costa", "Lee", "Novak",
    "Hansen", "Moreau",
)  # fmt: skip
_TOKEN_LABELS = (
    "CI uploader", "GitHub Actions release", "Jenkins nightly", "Terraform", "Factory line 1",
    "Factory line 2", "Factory line 3", "Grafana sync", "SBOM publisher", "Release bot",
    "QA automation", "Data export", "Buildkite", "GitLab CI", "Fleet manager", "Cohort sync",
    "Staging deploy", "Canary rollout", "OTA pipeline", "Support tooling", "Analytics ETL",
    "Field test rig", "Manufacturing test", "Nightly soak", "Legacy uploader",
    "Partner integration", "Incident bot", "Hardware lab", "Security scanner", "Backfill job",
)  # fmt: skip
_PROJECT_NAMES = (
    "Smart Sensor", "Smart Sensor Pro", "Thermostat", "Door Lock", "Air Quality Monitor",
    "Asset Tracker", "E-Bike Controller", "Smart Plug", "Water Meter", "Gas Meter", "Wearable",
    "Hearing Aid", "Baby Monitor", "Pet Feeder", "Irrigation Hub", "Solar Inverter",
    "Battery Pack", "Light Switch", "Gateway", "Cold Chain Logger", "Fleet Telematics",
    "Parking Sensor", "Vending Board", "Elevator Monitor", "Robot Vacuum", "Drone FC",
    "Medical Pump", "Label Printer", "Kiosk", "Legacy Hub",
)  # fmt: skip
_COHORTS = (
    "default", "beta", "alpha", "internal", "qa", "field-trial", "canary", "production",
    "eu-fleet", "us-fleet", "dogfood", "manufacturing",
)  # fmt: skip
_HARDWARE = ("evt", "dvt", "pvt", "mp", "rev-a", "rev-b", "rev-c", "devkit")
_SOFTWARE = ("main-fw", "ble-fw", "bootloader", "modem-fw", "app", "coprocessor")
_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)
_CLIENTS = (
    "memfault-cli/1.4.2 python-requests/2.32.3",
    "memfault-cli/1.2.0 python-requests/2.31.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Terraform/1.9.8 terraform-provider-memfault/0.3.1",
    "Go-http-client/2.0",
)
_NOTES = (
    "Fixes BLE reconnect loop",
    "Battery drain fix",
    "Adds OTA resume",
    "Security patch for CVE-2024-0001",
    "Improves Wi-Fi provisioning",
    "Hotfix: watchdog reset on boot",
    "Release candidate",
    "Localisation update",
    "",
)
_HOURS = (
    0.25, 0.2, 0.15, 0.12, 0.12, 0.2, 0.45, 0.9, 1.3, 1.6, 1.7, 1.6, 1.35, 1.55, 1.75, 1.85,
    1.75, 1.5, 1.2, 0.95, 0.75, 0.55, 0.45, 0.35,
)  # fmt: skip


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def _zipf(n: int, s: float) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-").replace("'", "")


def _ascii(text: str) -> str:
    table = str.maketrans("áéëíñóöüçÉØøåäÖÄÜ", "aeeinoouceOoaaOAU")
    return text.translate(table).replace("ß", "ss")


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, 28))


class _World:
    """Everything that is fixed for a seed: actors, projects, entity pools, action tables."""

    def __init__(self, rng: random.Random, first_day: date, days: int) -> None:
        self.first_day = first_day
        self.days = days
        self.projects = self._projects(rng)
        self.actors = self._actors(rng)
        order = list(range(len(self.actors)))
        rng.shuffle(order)
        weights = [0.0] * len(self.actors)
        for rank, index in enumerate(order, start=1):
            actor = self.actors[index]
            boost = 3.0 if actor["kind"] == "token" else 1.0
            weights[index] = boost / rank**1.05
        self.actor_cum = _cumulative(weights)
        self.tables = {
            (kind, phase): self._action_table(kind, phase)
            for kind in ("user", "token")
            for phase in range(len(_PHASES))
        }

    def _projects(self, rng: random.Random) -> list[dict[str, Any]]:
        projects = []
        for index, name in enumerate(_PROJECT_NAMES):
            software = rng.sample(_SOFTWARE, k=1 + rng.randrange(3))
            projects.append(
                {
                    "index": index,
                    "json": {"slug": _slug(name), "name": name},
                    "software": software,
                    "cohorts": _COHORTS[: 3 + rng.randrange(len(_COHORTS) - 2)],
                    "hardware": _HARDWARE[: 2 + rng.randrange(len(_HARDWARE) - 1)],
                    "major": 1 + rng.randrange(3),
                }
            )
        return projects

    def _actors(self, rng: random.Random) -> list[dict[str, Any]]:
        actors: list[dict[str, Any]] = []
        project_cum = _cumulative(_zipf(len(self.projects), 0.9))
        used: set[str] = set()
        while len(actors) < 170:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = _ascii(first).lower() + "." + _ascii(last).lower().replace("'", "")
            if email in used:
                email = f"{email}{len(actors)}"
            used.add(email)
            domain = "acme-devices.example" if rng.random() < 0.85 else "contractor.example"
            actors.append(
                {
                    "kind": "user",
                    "json": {
                        "type": "user",
                        "id": 1000 + len(actors) * 7 + rng.randrange(7),
                        "email": f"{email}@{domain}",
                        "name": f"{first} {last}",
                    },
                    "ips": [_ipv4(rng) for _ in range(1 + rng.randrange(3))],
                    "agents": rng.sample(_BROWSERS, k=1 + rng.randrange(2)),
                }
            )
        for index, label in enumerate(_TOKEN_LABELS):
            ips = [_ipv4(rng)] if rng.random() < 0.7 else [_ipv6(rng)]
            actors.append(
                {
                    "kind": "token",
                    "json": {
                        "type": "organization_auth_token",
                        "id": 40 + index * 3,
                        "label": label,
                    },
                    "ips": ips,
                    "agents": [rng.choice(_CLIENTS)],
                }
            )
        for actor in actors:
            count = 1 + min(5, int(rng.expovariate(0.6)))
            chosen = set()
            while len(chosen) < count:
                chosen.add(_pick(rng, project_cum))
            home = sorted(chosen)
            actor["projects"] = home
            actor["project_cum"] = _cumulative(_zipf(len(home), 1.2))
        return actors

    def _action_table(self, kind: str, phase: int) -> tuple[list[str], list[float]]:
        share = _PHASES[phase]
        names: list[str] = []
        weights: list[float] = []
        column = 1 if kind == "user" else 2
        for row in REFERENCE_ACTIONS:
            if row[column] > 0:
                names.append(row[0])
                weights.append(row[column])
        for row in DEPRECATED_ACTIONS:
            if row[column] > 0 and share <= row[3]:
                names.append(row[0])
                weights.append(row[column])
        return names, _cumulative(weights)


# The period is split into phases; deprecated actions appear while the phase start is before
# their last appearance.
_PHASES = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 1.0)


def _ipv4(rng: random.Random) -> str:
    prefix = rng.choice(("203.0.113", "198.51.100", "192.0.2"))
    return f"{prefix}.{1 + rng.randrange(254)}"


def _ipv6(rng: random.Random) -> str:
    return f"2001:db8:{rng.randrange(1 << 16):x}::{rng.randrange(1 << 16):x}"


def _day_counts(rng: random.Random, first_day: date, days: int, count: int) -> list[int]:
    """Entries per day: weekday rhythm, growth, a quiet end of year, a few busy days."""
    weights = []
    bursts = {rng.randrange(days) for _ in range(max(1, days // 45))}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        weight = (1.0, 1.05, 1.1, 1.05, 0.9, 0.22, 0.12)[day.weekday()]
        weight *= 0.7 + 0.6 * offset / max(1, days - 1)
        if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
            weight *= 0.3
        if offset in bursts:
            weight *= 3.0 + 2.0 * rng.random()
        weight *= 0.85 + 0.3 * rng.random()
        weights.append(weight)
    total = sum(weights)
    exact = [count * w / total for w in weights]
    counts = [int(x) for x in exact]
    remainder = count - sum(counts)
    by_fraction = sorted(range(days), key=lambda i: (counts[i] - exact[i], i))
    for i in by_fraction[:remainder]:
        counts[i] += 1
    return counts


def iter_entries(
    count: int, *, seed: int = DEFAULT_SEED, end: date = DEFAULT_END, months: int = MONTHS
) -> Iterator[dict[str, Any]]:
    """Yields ``count`` entries, newest first, ids descending; the same for the same arguments."""
    rng = random.Random(seed)
    first_day = _months_before(end, months)
    days = (end - first_day).days
    world = _World(rng, first_day, days)
    counts = _day_counts(rng, first_day, days, count)
    hour_cum = _cumulative(list(_HOURS))
    next_id = 180_000 + 6 * count
    epoch_first = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    for offset in range(days - 1, -1, -1):
        n = counts[offset]
        if not n:
            continue
        day = epoch_first + timedelta(days=offset)
        prefix = day.strftime("%Y-%m-%dT")
        share = offset / days
        phase = bisect.bisect_right(_PHASES, share) - 1
        micros = sorted(
            (
                (_pick(rng, hour_cum) * 3600 + int(rng.random() * 3600)) * 1_000_000
                + int(rng.random() * 1_000_000)
                for _ in range(n)
            ),
            reverse=True,
        )
        for moment in micros:
            seconds, micro = divmod(moment, 1_000_000)
            hours, rest = divmod(seconds, 3600)
            minutes, secs = divmod(rest, 60)
            created = f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{micro:06d}+00:00"
            yield _entry(rng, world, next_id, created, phase, offset)
            next_id -= 1 if rng.random() < 0.7 else 2 + int(rng.random() * 4)


def _entry(
    rng: random.Random, world: _World, ident: int, created: str, phase: int, day: int
) -> dict[str, Any]:
    actor = world.actors[_pick(rng, world.actor_cum)]
    names, cum = world.tables[(actor["kind"], phase)]
    action = names[_pick(rng, cum)]
    group, _, verb = action.partition(".")
    project = world.projects[actor["projects"][_pick(rng, actor["project_cum"])]]
    entity, changes = _entity(rng, world, actor, project, group, verb, day)
    entry: dict[str, Any] = {
        "id": ident,
        "created_date": created,
        "action": action,
        "actor": actor["json"],
        "organization": ORGANIZATION,
        "project": None if group in ORG_LEVEL_GROUPS else project["json"],
        "entity": entity,
    }
    if changes is not None:
        entry["changes"] = changes
    ips = actor["ips"]
    entry["ip_address"] = ips[0] if len(ips) == 1 or rng.random() < 0.8 else rng.choice(ips)
    agents = actor["agents"]
    entry["user_agent"] = agents[0] if len(agents) == 1 else rng.choice(agents)
    return entry


def _two(rng: random.Random, pool: tuple[str, ...]) -> tuple[str, str]:
    """Two different values of ``pool``."""
    first = int(rng.random() * len(pool))
    second = (first + 1 + int(rng.random() * (len(pool) - 1))) % len(pool)
    return pool[first], pool[second]


def _version(project: dict[str, Any], day: int, rng: random.Random) -> str:
    minor = day // 21
    return f"{project['major']}.{minor}.{int(rng.random() * 6)}"


def _entity(
    rng: random.Random,
    world: _World,
    actor: dict[str, Any],
    project: dict[str, Any],
    group: str,
    verb: str,
    day: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    pid = project["index"]
    changes: dict[str, Any] | None = None
    updating = verb.startswith("update") or verb.endswith("_update") or verb == "rotate"
    with_changes = updating and rng.random() < 0.85
    if group in ("release", "release_activation", "artifact", "software_version"):
        version = _version(project, day, rng)
        software = rng.choice(project["software"])
        numeric = pid * 100_000 + int(version.split(".")[1]) * 10 + int(version[-1])
        if group == "release":
            entity = {"type": "release", "id": numeric, "name": version}
            if with_changes:
                field = rng.choice(("notes", "notes", "must_pass_through", "revision"))
                if field == "notes":
                    old, new = _two(rng, _NOTES)
                    changes = {"notes": {"old": old, "new": new}}
                elif field == "must_pass_through":
                    flag = rng.random() < 0.5
                    changes = {"must_pass_through": {"old": flag, "new": not flag}}
                else:
                    changes = {"revision": {"old": f"{version}-rc1", "new": f"{version}-rc2"}}
        elif group == "release_activation":
            cohort = rng.choice(project["cohorts"])
            entity = {
                "type": "release_activation",
                "id": numeric * 20 + project["cohorts"].index(cohort),
                "name": f"{version} on {cohort}",
            }
            if with_changes:
                old = rng.choice((1, 5, 10, 25, 50))
                changes = {"rollout_percent": {"old": old, "new": min(100, old * 2)}}
        elif group == "artifact":
            entity = {
                "type": "artifact",
                "id": numeric * 8 + project["software"].index(software),
                "name": f"{software}-{version}.bin",
            }
        else:
            entity = {
                "type": "software_version",
                "id": numeric * 8 + project["software"].index(software),
                "name": f"{software} {version}",
            }
    elif group in ("cohort", "device"):
        cohort = rng.choice(project["cohorts"])
        cohort_json = {
            "type": "cohort",
            "id": pid * 100 + project["cohorts"].index(cohort),
            "name": cohort,
        }
        if group == "device" and verb != "bulk_cohort_update":
            serial = f"SN{pid:02d}{int(rng.random() * 16**6):06X}"
            entity = {"type": "device", "id": serial, "name": serial}
            if with_changes:
                changes = {"nickname": {"old": None, "new": f"bench-{serial[-4:].lower()}"}}
        else:
            entity = cohort_json
            if group == "device":
                other = _two(rng, project["cohorts"])[0]
                changes = {"cohort": {"old": other, "new": cohort}}
            elif with_changes:
                if rng.random() < 0.6:
                    changes = {"description": {"old": "", "new": f"Devices in {cohort}"}}
                else:
                    changes = {"name": {"old": f"{cohort}-old", "new": cohort}}
    elif group == "hardware_version":
        hardware = rng.choice(project["hardware"])
        entity = {
            "type": "hardware_version",
            "id": pid * 100 + project["hardware"].index(hardware),
            "name": f"{project['json']['slug']}-{hardware}",
        }
        if with_changes:
            sw = project["software"]
            changes = {"primary_software_type": {"old": None, "new": sw[0]}}
    elif group == "software_type":
        software = rng.choice(project["software"])
        entity = {
            "type": "software_type",
            "id": pid * 10 + _SOFTWARE.index(software),
            "name": software,
        }
        if with_changes:
            changes = {"name": {"old": software.replace("-", "_"), "new": software}}
    elif group in ("organization_auth_token", "project_api_key"):
        index = int(rng.random() * len(_TOKEN_LABELS))
        entity = {"type": group, "id": 40 + index * 3, "name": _TOKEN_LABELS[index]}
        if with_changes:
            if rng.random() < 0.7:
                changes = {"scopes": {"old": ["read"], "new": ["read", "write"]}}
            else:
                changes = {"label": {"old": "new token", "new": _TOKEN_LABELS[index]}}
    elif group == "project":
        entity = {"type": "project", "id": 500 + pid, "name": project["json"]["name"]}
        if with_changes:
            changes = {"name": {"old": project["json"]["slug"], "new": project["json"]["name"]}}
    elif group in ("user", "organization_member"):
        other = world.actors[int(rng.random() * 170)]["json"]
        target = actor["json"] if verb in ("login", "logout") else other
        entity = {"type": "user", "id": target["id"], "name": target.get("email", "")}
        if with_changes:
            changes = {"role": {"old": "member", "new": rng.choice(("admin", "viewer"))}}
    elif group == "organization":
        entity = {"type": "organization", "id": 1, "name": "Acme Devices"}
        if with_changes:
            changes = {"name": {"old": "ACME Devices", "new": "Acme Devices"}}
    else:  # alert_rule, webhook, trace and anything else
        entity = {"type": group, "id": pid * 50 + int(rng.random() * 50), "name": f"{group} {pid}"}
        if with_changes:
            changes = {"enabled": {"old": True, "new": False}}
    return entity, changes


# --- writing -----------------------------------------------------------------------------------


def _encoder(fmt: str) -> tuple[bytes, bytes, bytes, Any]:
    """Opening, separator and closing bytes, and a function from an entry to its bytes."""
    if fmt.startswith("jsonl"):
        return b"", b"", b"", lambda e: orjson.dumps(e, option=orjson.OPT_APPEND_NEWLINE)
    if fmt.startswith("json-compact"):
        return b"[", b",", b"]\n", orjson.dumps

    def pretty(entry: dict[str, Any]) -> bytes:
        return b"  " + orjson.dumps(entry, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ")

    return b"[\n", b",\n", b"\n]\n", pretty


def _open(path: Path, fmt: str) -> tuple[IO[bytes], IO[bytes] | None]:
    """The handle to write to and, for gzip, the underlying file to close after it."""
    raw = path.open("wb")
    if fmt.endswith(".gz"):
        # mtime=0 and no file name in the header: the same entries give the same bytes.
        packed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
        return packed, raw
    return raw, None


def write_exports(
    targets: dict[str, Path],
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    end: date = DEFAULT_END,
    entries: Iterator[dict[str, Any]] | None = None,
) -> int:
    """Writes the same entries in each ``{format: path}`` in one pass; returns the entry count."""
    for fmt in targets:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    source = entries if entries is not None else iter_entries(count, seed=seed, end=end)
    sinks = []
    closers: list[IO[bytes]] = []
    try:
        for fmt, path in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            separator, closing, encode = _encoder(fmt)[1:]
            handle, raw = _open(path, fmt)
            closers.append(handle)
            if raw is not None:
                closers.append(raw)
            handle.write(_encoder(fmt)[0])
            sinks.append((handle, separator, closing, encode))
        written = 0
        while block := list(itertools.islice(source, _BLOCK)):
            for handle, separator, _, encode in sinks:
                data = separator.join(encode(entry) for entry in block)
                handle.write(separator + data if written and separator else data)
            written += len(block)
        for handle, _, closing, _ in sinks:
            handle.write(closing)
    finally:
        for handle in closers:
            handle.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="number of entries")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json (a pretty-printed array), json-compact (the array on one line), jsonl "
        "(JSON Lines); .gz for gzip",
    )
    parser.add_argument(
        "--compact", action="store_true", help="write a JSON array without white space"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=DEFAULT_END,
        help=f"exclusive end date of the 13-month period (default {DEFAULT_END})",
    )
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    fmt = args.format
    if args.compact and fmt.startswith("json") and not fmt.startswith("jsonl"):
        fmt = fmt.replace("json", "json-compact", 1).replace("-compact-compact", "-compact")
    written = write_exports({fmt: args.output}, args.count, seed=args.seed, end=args.end)
    size = args.output.stat().st_size
    print(f"wrote {written:,} entries to {args.output} ({size / 1e6:,.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
