"""Profiles one import of a synthetic export into a new store (cProfile, sorted by own time).

    .venv/bin/python bench/profile_import.py bench/data/synthetic-20241122-100000.json
    .venv/bin/python bench/profile_import.py --in-process bench/data/synthetic-20241122-100000.json

By default a large file is parsed in a separate process, which cProfile cannot see: the
profile then shows the storing side. ``--in-process`` parses in the profiled process too.
``--cpu`` runs the import without the profiler and prints its wall time and the CPU time of
the importer and of the parsing process (``getrusage``), per entry; ``--no-index`` leaves the
full-text index out of the import's pass.

    .venv/bin/python bench/profile_import.py --cpu bench/data/synthetic-20241122-1000000.jsonl
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import cpu_seconds

from auditviewer.core.reading import parse_process
from auditviewer.core.store import file_import
from auditviewer.core.store.connection import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--in-process", action="store_true", help="parse in this process")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--cpu", action="store_true", help="wall and CPU time, no profiler")
    parser.add_argument("--no-index", action="store_true", help="no full-text index in the pass")
    args = parser.parse_args()
    if args.in_process:
        parse_process.PARALLEL_MIN_BYTES = 1 << 62
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "s.sqlite") as store:
        if args.cpu:
            started = time.perf_counter()
            report = file_import.import_file(store, args.export, index_text=not args.no_index)
            wall = time.perf_counter() - started
            _print_cpu(report.parsed, wall)
            return 0
        profile = cProfile.Profile()
        profile.runcall(file_import.import_file, store, args.export, index_text=not args.no_index)
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


def _print_cpu(entries: int, wall: float) -> None:
    per = 1e6 / max(entries, 1)
    importer = cpu_seconds(resource.RUSAGE_SELF)
    parser = cpu_seconds(resource.RUSAGE_CHILDREN)
    print(f"{entries:,} entries in {wall:.1f} s ({entries / wall:,.0f}/s)")
    print(f"importer CPU {importer:.1f} s ({importer * per:.1f} µs per entry)")
    print(f"parsing process CPU {parser:.1f} s ({parser * per:.1f} µs per entry)")


if __name__ == "__main__":
    raise SystemExit(main())
