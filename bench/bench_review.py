"""The review benchmark: marking entries, the progress and facets after it, "next unreviewed".

One run imports the synthetic export of each size (``bench/synthetic.py``, the files of
``bench/bench_core.py``; the store is kept in ``bench/data/`` and reused), then, in a fresh
process per size:

1. starts a review over every entry and, per run, marks 10,000 random entries in one call
   (``reviewing.marks.mark``), then recomputes the review's progress
   (``reviews.review_progress``) and the disposition and tag facets
   (``querying.aggregates.review_facets``) — the window's refresh after a bulk mark;
2. times ``next_unreviewed`` from a random entry in the newest-first order and in the action
   order, and ``review:flagged`` as a query count.

Targets (issue 9, 10^6 entries): marking 10,000 and the refresh ≤ 1 s; next unreviewed ≤ 20 ms.

    .venv/bin/python bench/bench_review.py                   # 10^5
    .venv/bin/python bench/bench_review.py --sizes 1000000 --write
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from harness import (  # noqa: E402
    DATA,
    emit,
    finish_run,
    machine_sentence,
    markers,
    ms,
    run_child,
    run_header,
    save_results,
    use_source_tree,
    write_block,
)

MARKED = 10_000
TARGET_MARK_S = 1.0
TARGET_NEXT_MS = 20.0
BLOCK = "review-results"


def _store_for(size: int, seed: int) -> Path:
    """A store holding the synthetic entries of ``size`` (imported once, then reused)."""
    import bench_core

    store_path = DATA / f"review-{seed}-{size}.sqlite"
    if store_path.exists():
        return store_path
    (export,) = bench_core.data_files(size, seed, ("json",)).values()
    print(f"  importing {size:,} entries into {store_path.name} ...", file=sys.stderr)
    result = run_child(BENCH / "bench_core.py", "import", str(export), str(store_path))
    print(f"  imported in {result['seconds']:.1f} s", file=sys.stderr)
    return store_path


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def child_review(store_path: str, runs_text: str) -> None:
    use_source_tree()
    from auditviewer.core.querying.aggregates import review_facets
    from auditviewer.core.querying.columns import columns
    from auditviewer.core.querying.filter import Filter, Sort
    from auditviewer.core.querying.language import parse_query
    from auditviewer.core.querying.window import EntryQuery
    from auditviewer.core.reviewing.marks import mark, next_unreviewed
    from auditviewer.core.reviewing.reviews import review_progress, start_review
    from auditviewer.core.store.connection import Store

    runs = int(runs_text)
    chance = random.Random(9)
    with Store.open(store_path) as store:
        started = time.perf_counter()
        snapshot = columns(store)
        load = time.perf_counter() - started
        seqs = [int(s) for s in snapshot.seq]
        review = start_review(store, f"bench {time.time_ns()}", reviewer="bench")
        marking: dict[str, list[float]] = {"mark": [], "progress": [], "facets": [], "total": []}
        for run in range(runs):
            chosen = chance.sample(seqs, MARKED)
            disposition = ("ok", "flagged", "follow-up")[run % 3]
            t0 = time.perf_counter()
            mark(store, review.id, chosen, disposition, tags=[f"tag{run % 4}"])
            t1 = time.perf_counter()
            progress = review_progress(store, review.id)
            t2 = time.perf_counter()
            review_facets(store, Filter())
            t3 = time.perf_counter()
            for name, value in zip(
                ("mark", "progress", "facets", "total"),
                (t1 - t0, t2 - t1, t3 - t2, t3 - t0),
                strict=True,
            ):
                marking[name].append(value)
        stepping: dict[str, list[float]] = {"time": [], "action": [], "query": []}
        first: dict[str, float] = {}
        for name, sort in (("time", Sort()), ("action", Sort("action", descending=False))):
            # The first answer computes the sort order and the review's open entries once.
            t0 = time.perf_counter()
            next_unreviewed(store, review.id, sort=sort)
            first[name] = (time.perf_counter() - t0) * 1000
        for _ in range(max(runs, 15)):
            after = chance.choice(seqs)
            for name, sort in (("time", Sort()), ("action", Sort("action", descending=False))):
                t0 = time.perf_counter()
                next_unreviewed(store, review.id, after_seq=after, sort=sort)
                stepping[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with EntryQuery(store, parse_query("review:flagged")) as query:
                query.count()
            stepping["query"].append(time.perf_counter() - t0)
    emit(
        {
            "entries": len(seqs),
            "column_load_s": load,
            "progress": str(progress),
            "marking_ms": {k: _median_ms(v) for k, v in marking.items()},
            "marking_max_ms": {k: max(v) * 1000 for k, v in marking.items()},
            "stepping_ms": {k: _median_ms(v) for k, v in stepping.items()},
            "stepping_max_ms": {k: max(v) * 1000 for k, v in stepping.items()},
            "stepping_first_ms": first,
        }
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    results = run_header("bench/bench_review.py")
    results["sizes"] = {}
    for size in args.sizes:
        store_path = _store_for(size, args.seed)
        print(f"  measuring {size:,} ...", file=sys.stderr)
        results["sizes"][str(size)] = run_child(
            Path(__file__), "review", str(store_path), str(args.runs)
        )
    return finish_run(results)


def _verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "misses"


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Run {results['started']} – {results['finished']}. Command: `{results['command']}`.",
        "",
        machine_sentence(results),
        "",
        f"A review over every entry; per run {MARKED:,} random entries marked in one call, then "
        "the review's progress and the disposition and tag facets recomputed (medians; the "
        "largest run in brackets):",
        "",
        "| Entries | Mark 10,000 | Progress | Facets | Mark + refresh | Target ≤ 1 s |",
        "|---|---|---|---|---|---|",
    ]
    for size, r in results["sizes"].items():
        m, top = r["marking_ms"], r["marking_max_ms"]
        lines.append(
            f"| {int(size):,} | {ms(m['mark'])} ms | {ms(m['progress'])} ms | "
            f"{ms(m['facets'])} ms | {ms(m['total'])} ms ({ms(top['total'])} ms) | "
            f"{_verdict(m['total'] / 1000, TARGET_MARK_S)} |"
        )
    lines += [
        "",
        '"Next unreviewed" from a random entry of the review (medians; the slowest in '
        "brackets), the first answer of a session (it computes the sort order and the review's "
        "open entries once), and the count of the query `review:flagged`:",
        "",
        "| Entries | Newest first | By action | First answer (newest first / by action) "
        "| Target ≤ 20 ms | `review:flagged` count |",
        "|---|---|---|---|---|---|",
    ]
    for size, r in results["sizes"].items():
        s, top, once = r["stepping_ms"], r["stepping_max_ms"], r["stepping_first_ms"]
        slowest = max(top["time"], top["action"])
        lines.append(
            f"| {int(size):,} | {ms(s['time'])} ms ({ms(top['time'])}) | {ms(s['action'])} ms "
            f"({ms(top['action'])}) | {ms(once['time'])} / {ms(once['action'])} ms | "
            f"{_verdict(slowest, TARGET_NEXT_MS)} | {ms(s['query'])} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda t: [int(s) for s in t.split(",")], default=[100_000])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure")
    parser.add_argument("--seed", type=int, default=20240901)
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        {"review": child_review}[kind](*rest)
        return 0
    results = run(args)
    save_results(results, "review")
    markdown = render(results)
    print(markdown)
    if args.write:
        begin, end = markers(BLOCK)
        write_block(markdown, begin, end, section="## Reviews")
        print("wrote BENCHMARKS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
