"""Times the viewer's cold start, frozen (dist/auditviewer/) and unfrozen (.venv), offscreen.

Each run is a new process started with ``--startup-probe`` (see
:func:`auditviewer.selftest.run_startup_probe`): it opens the window on a new empty store as
``auditviewer`` does, and quits once the store is open and the window painted. Measured from
just before the process is started: the window's first paint, "ready", and the process exit.

    .venv/bin/python packaging/measure_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ROOT / "dist" / "auditviewer" / "auditviewer"
ENTRY = ROOT / "packaging" / "auditviewer_entry.py"
PHASES = ("first_paint", "ready", "exit")


def one_run(command: list[str]) -> dict[str, float]:
    """Milliseconds from the start of ``command`` to each phase."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    ended = time.time()
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({result.returncode}):\n{result.stderr}")
    times = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "first_paint": (times["first_paint"] - started) * 1000,
        "ready": (times["ready"] - started) * 1000,
        "exit": (ended - started) * 1000,
    }


def measure(label: str, command: list[str], runs: int) -> dict[str, float]:
    """The medians over ``runs`` runs; prints them."""
    results = [one_run(command) for _ in range(runs)]
    medians = {phase: statistics.median(r[phase] for r in results) for phase in PHASES}
    cells = "  ".join(f"{phase} {medians[phase]:6.0f} ms" for phase in PHASES)
    print(f"{label:9} {cells}   (first run: ready {results[0]['ready']:.0f} ms)")
    return medians


def main(argv: list[str] | None = None) -> int:
    """Measures both builds and prints a line each (median of ``--runs``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{platform.node()}: {platform.platform()}, {os.cpu_count()} CPUs, median of {args.runs}")
    if FROZEN.is_file():
        measure("frozen", [str(FROZEN), "--startup-probe"], args.runs)
    else:
        print(f"frozen    (no {FROZEN.relative_to(ROOT)}: run scripts/build)")
    measure("unfrozen", [sys.executable, str(ENTRY), "--startup-probe"], args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
