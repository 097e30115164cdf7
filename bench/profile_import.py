"""Profiles one import of a synthetic export into a new store (cProfile, sorted by own time).

    .venv/bin/python bench/profile_import.py bench/data/synthetic-20241122-100000.json
    .venv/bin/python bench/profile_import.py --in-process bench/data/synthetic-20241122-100000.json

By default a large file is parsed in a separate process, which cProfile cannot see: the
profile then shows the storing side. ``--in-process`` parses in the profiled process too.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path

from auditviewer.core import ingest, parse_process
from auditviewer.core.store import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--in-process", action="store_true", help="parse in this process")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    if args.in_process:
        parse_process.PARALLEL_MIN_BYTES = 1 << 62
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "s.sqlite") as store:
        profile = cProfile.Profile()
        profile.runcall(ingest.import_file, store, args.export)
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
