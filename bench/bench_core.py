"""The core benchmark: import rate and memory, full-text build, and query latency.

One run generates synthetic exports (``bench/synthetic.py``; cached in ``bench/data/``), then,
each measurement in a fresh process:

1. imports every form (JSON array, JSON Lines, gzip) with
   ``auditviewer.core.store.file_import.import_file`` into a new store: entries/s, peak RSS
   (the importer and its parsing process together, sampled, plus each one's high-water mark),
   store size;
2. times ``sqlite-utils insert db entries FILE.json`` on the same JSON array, with its peak RSS,
   and prints the ratio;
3. builds the full-text index (``auditviewer.core.store.text_index.build_fulltext``);
4. on the largest store: first-page latency (``EntryQuery(...).window(0, 200)``) for single and
   combined filters and full text, count latency, facet latency per dimension, histograms, the
   first page sorted by each column, a deep window and scrolling — medians of several runs.

It prints Markdown and the machine description; ``--write`` puts them into ``BENCHMARKS.md``
between the ``bench:begin``/``bench:end`` markers (the prose around them is kept).

    .venv/bin/python bench/bench_core.py                       # 10^5 and 10^6, as published
    .venv/bin/python bench/bench_core.py --sizes 20000 --runs 3 --skip-sqlite-utils
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
BEGIN_MARK = "<!-- bench:begin (written by bench/bench_core.py --write) -->"
END_MARK = "<!-- bench:end -->"

sys.path.insert(0, str(BENCH))
import synthetic  # noqa: E402
from harness import (  # noqa: E402
    BENCHMARKS_MD,
    DATA,
    TreeRssSampler,
    emit,
    finish_run,
    machine_table,
    mb,
    ms,
    own_peaks,
    remove_store,
    run_child,
    run_header,
    run_measured,
    save_results,
    status_kb,
    store_bytes,
    write_block,
)

# Benchmark form -> (synthetic format, file suffix). The JSON array is written compact, as a
# web download usually is; "json-pretty" is the same array indented by two spaces.
FORMS: dict[str, tuple[str, str]] = {
    "json": ("json-compact", "json"),
    "json-pretty": ("json", "pretty.json"),
    "jsonl": ("jsonl", "jsonl"),
    "json.gz": ("json-compact.gz", "json.gz"),
    "jsonl.gz": ("jsonl.gz", "jsonl.gz"),
}
DEFAULT_FORMS = ("json", "jsonl", "json.gz")
PAGE = 200

# Targets of issue 8 (2 cores, 10^6 entries).
TARGET_RATIO = 3.0
TARGET_RSS_MB = 500
TARGET_SEARCHABLE = 1.3
TARGET_STORE_RATIO = 2.0
TARGET_COUNT_MS = 20.0
TARGET_AGGREGATES_MS = 50.0
TARGET_SORTED_PAGE_MS = 50.0
TARGET_DEEP_MS = 20.0
# Above this size sqlite-utils reads JSON Lines (``--nl``): its JSON array reader holds the
# whole file in memory (2.6 GB at 10^6).
SQLITE_UTILS_ARRAY_MAX = 2_000_000


# --- child: import, full text ----------------------------------------------------------------


def child_import(file: str, store_path: str) -> None:
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_import import import_file

    target = Path(store_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with TreeRssSampler() as sampler, Store.open(target) as store:
        started = time.perf_counter()
        report = import_file(store, file)
        seconds = time.perf_counter() - started
    size = store_bytes(target)
    emit(
        {
            "seconds": seconds,
            "parsed": report.parsed,
            "imported": report.imported,
            "duplicates": report.duplicates,
            "conflicts": report.conflicts,
            "quarantined": report.quarantined,
            "indexed": report.indexed,
            "store_bytes": size,
            "tree_peak_kb": sampler.peak_kb,
            **own_peaks(),
        }
    )


def child_fulltext(store_path: str) -> None:
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.text_index import build_fulltext

    with TreeRssSampler() as sampler, Store.open(store_path, create=False) as store:
        started = time.perf_counter()
        indexed = build_fulltext(store)
        seconds = time.perf_counter() - started
    emit(
        {
            "seconds": seconds,
            "indexed": indexed,
            "store_bytes": store_bytes(store_path),
            "tree_peak_kb": sampler.peak_kb,
            **own_peaks(),
        }
    )


# --- child: queries --------------------------------------------------------------------------


# A figure whose first run takes longer than this many ms is repeated fewer times.
SLOW_MS = 1000.0
SLOW_RUNS = 2


def _timed(action: Callable[[], object], runs: int) -> dict[str, Any]:
    """The first (cold) time and the median of ``runs`` timings, in ms, and the last result.

    A slow figure (first run over :data:`SLOW_MS`) is taken from :data:`SLOW_RUNS` runs only,
    so that a slow query cannot stretch the benchmark by minutes; ``runs`` says how many.
    """
    times: list[float] = []
    result: object = None
    while len(times) < runs:
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
        if times[0] > SLOW_MS and len(times) >= SLOW_RUNS:
            break
    return {
        "first_ms": times[0],
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "runs": len(times),
        "result": result,
    }


def pick_values(store: Any) -> dict[str, str]:
    """Filter values taken from the data: the busiest and a rare actor, project, action."""
    from auditviewer.core.querying.aggregates import facets, histogram
    from auditviewer.core.querying.filter import Filter

    def ranked(dimension: str, flt: Any) -> list[str]:
        return [f.value for f in facets(store, flt, dimension, limit=100_000) if f.value]

    actors = ranked("actor", Filter(actor_types=("user",)))
    projects = ranked("project", Filter())
    per_month: dict[str, int] = {}
    for item in histogram(store, Filter(), "day"):
        month = datetime.fromtimestamp(item.start_utc / 1e6, UTC).strftime("%Y-%m")
        per_month[month] = per_month.get(month, 0) + item.count
    busiest = max(per_month, key=lambda m: per_month[m])
    year, month = (int(x) for x in busiest.split("-"))
    following = f"{year + month // 12}-{month % 12 + 1:02d}"
    quarter_start = f"{year}-{(month - 1) // 3 * 3 + 1:02d}"
    q_year, q_month = divmod((month - 1) // 3 * 3 + 3, 12)
    quarter_end = f"{year + q_year}-{q_month + 1:02d}"
    with store.raw() as connection:
        serial = connection.execute(
            "SELECT entity_id FROM entry_view WHERE entity_type = 'device' ORDER BY seq LIMIT 1"
        ).fetchone()
    return {
        "actor_top": actors[0],
        "actor_rare": actors[-1],
        "project_top": projects[0],
        "project_2": projects[1],
        "project_3": projects[2],
        "project_rare": projects[-1],
        "month_after": f"{busiest}-01",
        "month_before": f"{following}-01",
        "day": f"{busiest}-15",
        "day_after": f"{busiest}-16",
        "quarter_after": f"{quarter_start}-01",
        "quarter_before": f"{quarter_end}-01",
        "serial": serial[0] if serial else "SN00000000",
    }


def _filters(v: dict[str, str]) -> list[tuple[str, str]]:
    month = f"after:{v['month_after']} before:{v['month_before']}"
    quarter = f"after:{v['quarter_after']} before:{v['quarter_before']}"
    return [
        ("no filter", ""),
        ("action (common)", "action:release.update"),
        ("action (rare)", "action:project.delete"),
        ("action wildcard", "action:release_activation.*"),
        ("action negated", "-action:release.update"),
        ("unknown actions", "unknown:yes"),
        ("actor (busiest user)", f"actor:{v['actor_top']}"),
        ("actor (rarest user)", f"actor:{v['actor_rare']}"),
        ("actor wildcard", "actor:*@contractor.example"),
        ("actor type", "actor-type:token"),
        ("project (biggest)", f"project:{v['project_top']}"),
        ("project (smallest)", f"project:{v['project_rare']}"),
        ("entity type", "entity:hardware_version"),
        ("date range (month)", month),
        ("date range (day)", f"after:{v['day']} before:{v['day_after']}"),
        ("action + project", f"action:release.* project:{v['project_top']}"),
        ("actor + month", f"actor:{v['actor_top']} {month}"),
        (
            "3 projects + action group",
            f"project:{v['project_top']} project:{v['project_2']} project:{v['project_3']} "
            "action:cohort.*",
        ),
        (
            "auditor: tokens, project, quarter, minus release updates",
            f"actor-type:token project:{v['project_top']} {quarter} -action:release.update",
        ),
        ("rare action + month", f"action:organization_auth_token.* {month}"),
        ("anomalies", "anomaly:yes"),
        ("conflicts", "conflicts:yes"),
        ("full text (common phrase)", '"Battery drain"'),
        ("full text (rare word)", v["serial"]),
        ("full text + project", f"watchdog project:{v['project_top']}"),
        ("full text + month", f'"CI uploader" {month}'),
        ("full text negated + action", "action:release.update -watchdog"),
        ("no match", "action:no.such_action"),
    ]


def child_queries(store_path: str, runs_text: str) -> None:
    from auditviewer.core.querying.aggregates import (
        DIMENSIONS,
        facet_counts,
        facets,
        histogram_bins,
    )
    from auditviewer.core.querying.columns import columns
    from auditviewer.core.querying.filter import SORT_COLUMNS, Filter, Sort
    from auditviewer.core.querying.language import parse_query
    from auditviewer.core.querying.window import EntryQuery
    from auditviewer.core.store.connection import Store

    runs = int(runs_text)
    results: dict[str, Any] = {"runs": runs}
    with Store.open(store_path, create=False) as store:
        started = time.perf_counter()
        total = columns(store).size
        results["cache_load_ms"] = (time.perf_counter() - started) * 1000
        results["cache_rss_kb"] = status_kb("VmRSS:")
        values = pick_values(store)
        results["values"] = values
        results["entries"] = total

        def aggregates(flt: Filter) -> int:
            # What the window asks after a filter change: five facets and the histogram.
            snapshot = columns(store)
            counted = sum(len(facet_counts(snapshot, flt, d, 50)) for d in DIMENSIONS)
            narrow = flt.after is not None and flt.before is not None
            bucket = "hour" if narrow and flt.before - flt.after <= 4 * 86_400_000_000 else "day"
            return counted + len(histogram_bins(snapshot, flt, bucket))

        def first_page(flt: Filter, sort: Sort | None = None) -> int:
            with EntryQuery(store, flt, sort) as query:
                return len(query.window(0, PAGE))

        def count(flt: Filter) -> int:
            with EntryQuery(store, flt) as query:
                return query.count()

        rows = []
        for name, text in _filters(values):
            flt = parse_query(text)
            counted = _timed(lambda flt=flt: count(flt), runs)
            together = _timed(lambda flt=flt: aggregates(flt), runs)
            page = _timed(lambda flt=flt: first_page(flt), runs)
            rows.append(
                {
                    "name": name,
                    "query": text,
                    "page": _strip(page),
                    "count": _strip(counted),
                    "aggregates": _strip(together),
                    "matches": counted["result"],
                }
            )
        results["filters"] = rows

        sorts = []
        for column in SORT_COLUMNS:
            for descending in (True, False):
                sort = Sort(column, descending)
                timing = _timed(lambda sort=sort: first_page(Filter(), sort), runs)
                sorts.append({"column": column, "descending": descending, **_strip(timing)})
        project = parse_query(f"project:{values['project_top']}")
        negated = parse_query("-action:release.update")
        for label, flt in (("project", project), ("-action:release.update", negated)):
            for column in SORT_COLUMNS:
                sort = Sort(column, False)
                timing = _timed(lambda sort=sort, flt=flt: first_page(flt, sort), runs)
                sorts.append(
                    {"column": column, "descending": False, "filter": label, **_strip(timing)}
                )
        results["sorts"] = sorts

        month = parse_query(f"after:{values['month_after']} before:{values['month_before']}")
        under = [
            ("no filter", Filter()),
            ("month", month),
            ("project", project),
            ("actor type token", parse_query("actor-type:token")),
            ("full text", parse_query('"Battery drain"')),
        ]
        facet_rows = []
        for label, flt in under:
            for dimension in DIMENSIONS:
                timing = _timed(
                    lambda flt=flt, dimension=dimension: len(facets(store, flt, dimension)),
                    runs,
                )
                facet_rows.append({"filter": label, "dimension": dimension, **_strip(timing)})
        results["facets"] = facet_rows
        results["histograms"] = [
            {"filter": "no filter", "bucket": "day", **_strip(_histogram(store, Filter(), runs))},
            {"filter": "month", "bucket": "hour", **_strip(_histogram(store, month, runs))},
            {"filter": "project", "bucket": "day", **_strip(_histogram(store, project, runs))},
        ]

        deep = min(900_000, max(0, total - PAGE))
        results["deep_offset"] = deep

        def deep_window(flt: Filter) -> int:
            with EntryQuery(store, flt) as query:
                return len(query.window(deep, PAGE))

        results["deep_fresh"] = _strip(_timed(lambda: deep_window(Filter()), runs))
        with EntryQuery(store, Filter()) as query:
            query.window(0, PAGE)
            started = time.perf_counter()
            query.window(deep, PAGE)
            results["deep_first_scroll_ms"] = (time.perf_counter() - started) * 1000
            rng = random.Random(5)
            offsets = [rng.randrange(max(1, total - PAGE)) for _ in range(max(20, runs * 4))]
            times = []
            for offset in offsets:
                started = time.perf_counter()
                query.window(offset, PAGE)
                times.append((time.perf_counter() - started) * 1000)
            results["scroll"] = {
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "samples": len(times),
            }
        by_actor = Sort("actor", False)
        with EntryQuery(store, Filter(), by_actor) as query:
            started = time.perf_counter()
            query.window(deep, PAGE)
            results["deep_sorted_actor_ms"] = (time.perf_counter() - started) * 1000
    results.update(own_peaks())
    emit(results)


def _histogram(store: Any, flt: Any, runs: int) -> dict[str, Any]:
    from auditviewer.core.querying.aggregates import histogram

    bucket = "hour" if flt.after is not None else "day"
    return _timed(lambda: len(histogram(store, flt, bucket)), runs)


def _strip(timing: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in timing.items() if k != "result"}


# --- the parent ------------------------------------------------------------------------------


def data_files(size: int, seed: int, forms: tuple[str, ...]) -> dict[str, Path]:
    """The synthetic files for ``size`` entries, generated in one pass if missing or stale."""
    meta_path = DATA / f"synthetic-{seed}-{size}.meta.json"
    wanted = {form: DATA / f"synthetic-{seed}-{size}.{FORMS[form][1]}" for form in forms}
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        meta = {}
    expected = {
        "generator_version": synthetic.GENERATOR_VERSION,
        "seed": seed,
        "count": size,
        "end": synthetic.DEFAULT_END.isoformat(),
    }
    recorded = meta.get("files", {}) if all(meta.get(k) == v for k, v in expected.items()) else {}
    missing = {
        form: path
        for form, path in wanted.items()
        if not (path.exists() and recorded.get(path.name) == path.stat().st_size)
    }
    if missing:
        started = time.perf_counter()
        targets = {FORMS[form][0]: path for form, path in missing.items()}
        print(f"  generating {size:,} entries: {', '.join(missing)} ...", file=sys.stderr)
        synthetic.write_exports(targets, size, seed=seed)
        seconds = time.perf_counter() - started
        print(f"  generated in {seconds:.1f} s", file=sys.stderr)
        recorded = {**recorded, **{p.name: p.stat().st_size for p in missing.values()}}
        meta_path.write_text(json.dumps({**expected, "files": recorded}, indent=2))
    return wanted


def sqlite_utils_insert(file: Path, size: int, *, lines: bool = False) -> dict[str, Any]:
    executable = Path(sys.executable).parent / "sqlite-utils"
    db = DATA / f"sqlite-utils-{size}.sqlite"
    remove_store(db)
    command = [str(executable), "insert", str(db), "entries", str(file)]
    result = run_measured([*command, "--nl"] if lines else command)
    if result.returncode != 0:
        raise RuntimeError(f"sqlite-utils failed ({result.returncode}): {result.stderr[-2000:]}")
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute("SELECT count(*) FROM entries").fetchone()[0]
    stored = db.stat().st_size
    remove_store(db)
    return {
        "seconds": result.wall,
        "rows": rows,
        "maxrss_kb": result.maxrss_kb,
        "cpu": result.cpu,
        "store_bytes": stored,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        **run_header("bench/bench_core.py"),
        "seed": args.seed,
        "sizes": [],
    }
    sizes = args.sizes
    query_store: Path | None = None
    for size in sizes:
        print(f"== {size:,} entries", file=sys.stderr)
        files = data_files(size, args.seed, args.forms)
        entry: dict[str, Any] = {
            "size": size,
            "files": {form: path.stat().st_size for form, path in files.items()},
            "imports": {},
        }
        results["sizes"].append(entry)
        keep: Path | None = None
        for form in args.forms:
            store = DATA / f"store-{size}-{form.replace('.', '-')}.sqlite"
            print(f"  import {form} ...", file=sys.stderr)
            measured = run_child(__file__, "import", str(files[form]), str(store))
            entry["imports"][form] = measured
            print(
                f"    {measured['seconds']:.1f} s, {measured['parsed'] / measured['seconds']:,.0f}"
                f"/s, peak {measured['tree_peak_kb'] / 1024:,.0f} MB",
                file=sys.stderr,
            )
            if keep is None and (form in ("json", "json-pretty") or len(args.forms) == 1):
                keep = store
            elif store != keep and not args.keep_stores:
                remove_store(store)
        if keep is None:
            keep = DATA / f"store-{size}-{args.forms[0].replace('.', '-')}.sqlite"
        array_form = next((f for f in ("json", "json-pretty") if f in files), None)
        lines = size > SQLITE_UTILS_ARRAY_MAX or array_form is None
        tool_form = "jsonl" if lines else array_form
        if not args.skip_sqlite_utils and tool_form in files:
            print(f"  sqlite-utils insert ({tool_form}) ...", file=sys.stderr)
            entry["sqlite_utils"] = {
                "form": tool_form,
                **sqlite_utils_insert(files[tool_form], size, lines=lines),
            }
            print(f"    {entry['sqlite_utils']['seconds']:.1f} s", file=sys.stderr)
        if keep.exists():
            print("  full-text build ...", file=sys.stderr)
            entry["fulltext"] = run_child(__file__, "fulltext", str(keep))
            print(f"    {entry['fulltext']['seconds']:.1f} s", file=sys.stderr)
            if query_store is not None and query_store != keep and not args.keep_stores:
                remove_store(query_store)
            query_store = keep
    if query_store is not None and not args.skip_queries:
        print(f"== queries on {query_store.name} ({args.runs} runs each) ...", file=sys.stderr)
        results["queries"] = run_child(__file__, "queries", str(query_store), str(args.runs))
        results["queries"]["store"] = query_store.name
    return finish_run(results)


# --- rendering -------------------------------------------------------------------------------


def _verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    if higher_is_better:
        if value >= target:
            return "met"
        return f"**missed** ({value / target:.0%} of target)"
    if value <= target:
        return "met"
    return f"**missed** by {value - target:,.1f} ({value / target:.1f}x)"


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Run {results['started']} – {results['finished']}, commit {results['commit']}.",
        "",
        f"Command: `{results['command']}` (seed {results['seed']}).",
        "",
        *machine_table(results),
    ]
    for entry in results["sizes"]:
        size = entry["size"]
        lines += [f"### Import, {size:,} entries", ""]
        lines += [
            "| Form | File | Seconds | Entries/s | Peak RSS (importer + parser, sampled) "
            "| Importer HWM | Parser HWM | Store | vs sqlite-utils |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        tool = entry.get("sqlite_utils")
        tool_rate = tool["rows"] / tool["seconds"] if tool else None
        for form, measured in entry["imports"].items():
            rate = measured["parsed"] / measured["seconds"]
            ratio = f"{rate / tool_rate:.2f}x" if tool_rate else "–"
            children = measured["children_maxrss_kb"]
            parser = mb(children) if children else "in-process"
            lines.append(
                f"| {form} | {entry['files'][form] / 1e6:,.0f} MB | {measured['seconds']:.1f} "
                f"| {rate:,.0f} | {mb(measured['tree_peak_kb'])} "
                f"| {mb(measured['self_hwm_kb'])} | {parser} "
                f"| {measured['store_bytes'] / 1e6:,.0f} MB | {ratio} |"
            )
        if tool:
            lines.append(
                f"| sqlite-utils insert ({tool['form']}) "
                f"| {entry['files'][tool['form']] / 1e6:,.0f} MB "
                f"| {tool['seconds']:.1f} | {tool_rate:,.0f} | {mb(tool['maxrss_kb'])} | – | – "
                f"| {tool['store_bytes'] / 1e6:,.0f} MB | 1.00x |"
            )
        first = next(iter(entry["imports"].values()))
        lines += [
            "",
            f"Entries parsed / imported / duplicates / conflicts / quarantined: "
            f"{first['parsed']:,} / {first['imported']:,} / {first['duplicates']:,} / "
            f"{first['conflicts']:,} / {first['quarantined']:,}. "
            "Seconds = `import_file` alone (store opened, interpreter started before); "
            "sqlite-utils = its whole process.",
            "",
        ]
        if "fulltext" in entry:
            ft = entry["fulltext"]
            during = ", ".join(
                f"{form} {m.get('indexed', 0):,}" for form, m in entry["imports"].items()
            )
            lines += [
                f"Full-text index: entries indexed in the import's own pass: {during}. "
                f"`build_fulltext` afterwards: {ft['seconds']:.1f} s for {ft['indexed']:,} "
                f"more entries; store with the index {ft['store_bytes'] / 1e6:,.0f} MB.",
                "",
            ]
        if size >= 1_000_000:
            lines += _import_targets(entry)
    if "queries" in results:
        lines += _render_queries(results["queries"])
    return "\n".join(lines).rstrip() + "\n"


def _import_targets(entry: dict[str, Any]) -> list[str]:
    lines = ["Targets (issue 8) at this size:", ""]
    tool = entry.get("sqlite_utils")
    fulltext = entry.get("fulltext", {}).get("seconds", 0.0)
    for form, measured in entry["imports"].items():
        rate = measured["parsed"] / measured["seconds"]
        parts = []
        if tool:
            ratio = rate / (tool["rows"] / tool["seconds"])
            parts.append(
                f"≥ 3× sqlite-utils: {_verdict(ratio, TARGET_RATIO, higher_is_better=True)} "
                f"({ratio:.2f}x)"
            )
            store_ratio = measured["store_bytes"] / tool["store_bytes"]
            parts.append(
                f"store ≤ 2× sqlite-utils': {_verdict(store_ratio, TARGET_STORE_RATIO)} "
                f"({store_ratio:.2f}x)"
            )
        peak_mb = measured["tree_peak_kb"] / 1024
        parts.append(f"peak RSS ≤ 500 MB: {_verdict(peak_mb, TARGET_RSS_MB)}")
        indexed_all = (
            measured.get("indexed", 0)
            == measured["imported"] + measured["conflicts"] + measured["quarantined"]
        )
        searchable = (measured["seconds"] + (0.0 if indexed_all else fulltext)) / measured[
            "seconds"
        ]
        parts.append(
            f"fully indexed ≤ 1.3× the import's time: "
            f"{_verdict(searchable, TARGET_SEARCHABLE)} ({searchable:.2f}x)"
        )
        lines.append(f"- {form}: " + "; ".join(parts))
    return [*lines, ""]


def _render_queries(q: dict[str, Any]) -> list[str]:
    lines = [
        f"### Queries on the {q['entries']:,}-entry store (full-text index built)",
        "",
        f"Column cache loaded (first `columns(store)` of the process) in "
        f"{ms(q['cache_load_ms'])} ms; the process's RSS after loading it "
        f"{mb(q['cache_rss_kb'])}, peak over the whole run {mb(q['self_hwm_kb'])}.",
        "",
        f"Each figure: {q['runs']} runs in one process, each with a fresh `EntryQuery`; "
        '"first" is the first run (nothing of this filter cached), the median includes the '
        "warm runs. Milliseconds. Facets + histogram: the five facets and the histogram "
        "together, as the window asks for them after a filter change.",
        "",
        "| Filter | Query | Matches | Count: first | median | Facets + histogram: first "
        "| median | First page: first | median | Count ≤ 20 | Facets + hist. ≤ 50 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in q["filters"]:
        page, count, together = row["page"], row["count"], row["aggregates"]
        query = row["query"].replace("|", "\\|") or "(empty)"
        lines.append(
            f"| {row['name']} | `{query}` | {row['matches']:,} | {ms(count['first_ms'])} "
            f"| {ms(count['median_ms'])} | {ms(together['first_ms'])} "
            f"| {ms(together['median_ms'])} | {ms(page['first_ms'])} "
            f"| {ms(page['median_ms'])} "
            f"| {_verdict(count['first_ms'], TARGET_COUNT_MS)} "
            f"| {_verdict(together['first_ms'], TARGET_AGGREGATES_MS)} |"
        )
    lines += [
        "",
        "Verdicts are on the *first* run (nothing cached for the filter). First page sorted by "
        "each column, ms (the first run of a column computes its order over every entry once; "
        "later queries, under any filter, reuse it):",
        "",
        "| Sort | Filter | first | median | ≤ 50 ms (first) | ≤ 50 ms (median) |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in q["sorts"]:
        direction = "desc" if row["descending"] else "asc"
        lines.append(
            f"| {row['column']} {direction} | {row.get('filter') or '(none)'} "
            f"| {ms(row['first_ms'])} | {ms(row['median_ms'])} "
            f"| {_verdict(row['first_ms'], TARGET_SORTED_PAGE_MS)} "
            f"| {_verdict(row['median_ms'], TARGET_SORTED_PAGE_MS)} |"
        )
    lines += [
        "",
        "Facets one by one (`facets(store, filter, dimension)`), median ms (first run in "
        "brackets):",
        "",
    ]
    dimensions = list(dict.fromkeys(row["dimension"] for row in q["facets"]))
    filters = list(dict.fromkeys(row["filter"] for row in q["facets"]))
    lines += [
        "| Filter | " + " | ".join(dimensions) + " |",
        "|---|" + "---:|" * len(dimensions),
    ]
    for label in filters:
        cells = []
        for dimension in dimensions:
            row = next(
                r for r in q["facets"] if r["filter"] == label and r["dimension"] == dimension
            )
            cells.append(f"{ms(row['median_ms'])} ({ms(row['first_ms'])})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    deep = q["deep_fresh"]["median_ms"]
    lines += [
        "",
        "Histograms: "
        + "; ".join(
            f"{h['filter']} per {h['bucket']} {ms(h['median_ms'])} ms (first {ms(h['first_ms'])})"
            for h in q["histograms"]
        )
        + ".",
        "",
        f"Deep window (offset {q['deep_offset']:,}, 200 rows): fresh query "
        f"{ms(deep)} ms median (first {ms(q['deep_fresh']['first_ms'])}) — ≤ 20 ms: "
        f"{_verdict(deep, TARGET_DEEP_MS)}; after the first page of the same query "
        f"{ms(q['deep_first_scroll_ms'])} ms; sorted by actor "
        f"{ms(q['deep_sorted_actor_ms'])} ms. Scrolling (random 200-row windows of an open "
        f"query): median {ms(q['scroll']['median_ms'])} ms, max "
        f"{ms(q['scroll']['max_ms'])} ms over {q['scroll']['samples']} windows.",
        "",
    ]
    return lines


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def _forms(text: str) -> tuple[str, ...]:
    forms = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [f for f in forms if f not in FORMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown form(s) {unknown}; known: {', '.join(FORMS)}")
    return forms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[100_000, 1_000_000])
    parser.add_argument(
        "--forms", type=_forms, default=DEFAULT_FORMS, help=f"any of {', '.join(FORMS)}"
    )
    parser.add_argument("--runs", type=int, default=7, help="runs per latency figure")
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument("--skip-sqlite-utils", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument("--keep-stores", action="store_true", help="keep every store in bench/data")
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    parser.add_argument(
        "--block",
        default="bench",
        help="name of the BENCHMARKS.md block to write (another name keeps the default block)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        {"import": child_import, "fulltext": child_fulltext, "queries": child_queries}[kind](*rest)
        return 0
    results = run(args)
    save_results(results, "results")
    markdown = render(results)
    print(markdown)
    if args.write:
        if args.block == "bench":
            write_block(markdown, BEGIN_MARK, END_MARK)
        else:
            begin = f"<!-- {args.block}:begin (written by bench/bench_core.py --write --block "
            write_block(markdown, f"{begin}{args.block}) -->", f"<!-- {args.block}:end -->")
        print(f"wrote {BENCHMARKS_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
