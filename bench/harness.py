"""What every benchmark shares: the machine, process measurements, child runs and the results file.

- :func:`machine` describes the machine a run measured; :func:`machine_table` and
  :func:`machine_sentence` put it into Markdown.
- :func:`status_kb`, :class:`TreeRssSampler`, :func:`own_peaks` and :func:`cpu_seconds` sample a
  process: peak RSS (``VmHWM``), the RSS of a process tree, CPU times.
- :func:`run_child` runs one scenario of a benchmark script (``SCRIPT --child KIND ARGS``) in a
  fresh interpreter, with its wall time, CPU time and peak RSS, and reads the result line the
  child printed with :func:`emit`; :func:`start_child` and :func:`result_of` do the same for a
  child the parent watches (and may kill) while it runs.
- :func:`run_header`, :func:`finish_run`, :func:`save_results` and :func:`write_block` frame a
  run and put its Markdown into ``BENCHMARKS.md``, replacing the block between two markers or
  appending it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
RESULT_PREFIX = "BENCH-RESULT "


def use_source_tree() -> None:
    """Makes ``auditviewer`` and ``tests`` import from this checkout."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# --- the machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, SQLite, library versions and the load average now."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    import orjson

    versions = {"orjson": orjson.__version__}
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        versions["sqlite-utils"] = version("sqlite-utils")
        versions["SQLAlchemy"] = version("SQLAlchemy")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
        "load_start": os.getloadavg(),
    }


def machine_table(results: dict[str, Any], extra_rows: Sequence[str] = ()) -> list[str]:
    """The Markdown table of ``results["machine"]``, then ``extra_rows``, then a blank line."""
    m = results["machine"]
    loads = (m["load_start"], results["load_end"])
    return [
        "| Machine | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| RAM | {m['memory_gb']} GB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| SQLite | {m['sqlite']} |",
        f"| Libraries | {', '.join(f'{k} {v}' for k, v in m['versions'].items())} |",
        "| Load average (1/5/15 min) at start / end | "
        + " / ".join(", ".join(f"{x:.2f}" for x in load) for load in loads)
        + " |",
        *extra_rows,
        "",
    ]


def machine_sentence(results: dict[str, Any]) -> str:
    """The machine of ``results`` in one sentence, for a short section."""
    m = results["machine"]
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['load_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in results['load_end'])}."
    )


def git_head() -> str:
    """The commit the numbers belong to, and whether auditviewer/ had uncommitted changes."""
    try:
        # Read-only: which commit the numbers belong to.
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "auditviewer"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + (" + uncommitted changes in auditviewer/" if dirty.stdout else "")


# --- measuring a process -------------------------------------------------------------------------


def status_kb(field: str, pid: int | str = "self") -> int:
    """A ``/proc/PID/status`` figure in kB (``VmHWM:``, ``VmRSS:``); 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    children = [int(c) for c in handle.read().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


class TreeRssSampler:
    """Samples the RSS of this process plus its descendants (e.g. a parsing process)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = status_kb("VmRSS:", me)
            total += sum(status_kb("VmRSS:", child) for child in _descendants(me))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def own_peaks() -> dict[str, int]:
    """This process's peak RSS (``VmHWM``) and the largest of its finished children's."""
    return {
        "self_hwm_kb": status_kb("VmHWM:"),
        "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User plus system CPU time of this process (or of its finished children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@dataclass
class ProcessResult:
    """A finished child process: its exit code, output, wall time and rusage."""

    returncode: int
    stdout: str
    stderr: str
    wall: float
    maxrss_kb: int
    cpu: float

    def payload(self) -> dict[str, Any]:
        """The result line the child printed with :func:`emit`."""
        found = _result_line(self.stdout.splitlines())
        if found is None:
            raise RuntimeError(
                f"the child printed no result (exit {self.returncode}):\n{self.stderr[-3000:]}"
            )
        return found


def run_measured(
    command: list[str],
    cwd: Path = ROOT,
    *,
    env: dict[str, str] | None = None,
    show_stderr: bool = False,
) -> ProcessResult:
    """Runs a command in a fresh process; ``wait4`` gives that process's own peak RSS.

    Its output goes to files (a pipe could fill and stall it); with ``show_stderr`` its
    standard error goes to ours as it runs.
    """
    DATA.mkdir(parents=True, exist_ok=True)
    out_path = DATA / f".out-{os.getpid()}"
    err_path = DATA / f".err-{os.getpid()}"
    with out_path.open("w+b") as out, err_path.open("w+b") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=None if show_stderr else err
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    return ProcessResult(
        process.returncode, stdout, stderr, wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    )


# --- a scenario in a child process ---------------------------------------------------------------


def emit(payload: dict[str, Any]) -> None:
    """Prints the child's result line, which the parent reads."""
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


def _result_line(lines: Iterable[str]) -> dict[str, Any] | None:
    found = None
    for line in lines:
        if line.startswith(RESULT_PREFIX):
            found = dict(json.loads(line[len(RESULT_PREFIX) :]))
    return found


def child_command(script: str | Path, kind: str, *args: str) -> list[str]:
    """The command that runs scenario ``kind`` of a benchmark ``script`` in a fresh interpreter."""
    return [sys.executable, str(Path(script).resolve()), "--child", kind, *args]


def run_child(
    script: str | Path,
    kind: str,
    *args: str,
    env: dict[str, str] | None = None,
    show_stderr: bool = False,
) -> dict[str, Any]:
    """Runs scenario ``kind`` of ``script`` in a fresh process and returns its result.

    The result gains the process's own wall time, peak RSS and CPU time.
    """
    result = run_measured(child_command(script, kind, *args), env=env, show_stderr=show_stderr)
    payload = result.payload()
    payload["process_wall"] = result.wall
    payload["process_maxrss_kb"] = result.maxrss_kb
    payload["process_cpu"] = result.cpu
    return payload


def start_child(script: str | Path, kind: str, *args: str) -> subprocess.Popen[str]:
    """Starts scenario ``kind`` of ``script``; the parent reads its output lines as they come."""
    return subprocess.Popen(
        child_command(script, kind, *args), stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Reads a started child's output up to its result line, then waits for it to end."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(RESULT_PREFIX):
            process.wait()
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    raise RuntimeError(f"the child exited with {process.wait()} and no result")


# --- the run and its results ---------------------------------------------------------------------


def run_header(script: str) -> dict[str, Any]:
    """The start of a run's results: when, the command, the commit and the machine."""
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", script, *sys.argv[1:]]),
        "commit": git_head(),
        "machine": machine(),
    }


def finish_run(results: dict[str, Any]) -> dict[str, Any]:
    """Records the load average and the time at the end of the run."""
    results["load_end"] = os.getloadavg()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def save_results(results: dict[str, Any], name: str) -> Path:
    """Keeps the raw results as ``bench/data/NAME-STAMP.json``."""
    stamp = results["started"].replace(":", "").replace("-", "")
    path = DATA / f"{name}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    return path


def markers(name: str) -> tuple[str, str]:
    """The ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` pair around a block."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_block(
    markdown: str,
    begin: str,
    end: str,
    *,
    section: str | None = None,
    require_markers: bool = False,
) -> None:
    """Replaces the text between ``begin`` and ``end`` in BENCHMARKS.md, keeping the rest.

    Without the markers the block is appended (under the ``section`` heading if given),
    unless ``require_markers`` is set.
    """
    block = f"{begin}\n\n{markdown.rstrip()}\n\n{end}"
    appended = f"{section}\n\n{block}" if section else block
    if not BENCHMARKS_MD.exists():
        BENCHMARKS_MD.write_text(f"# Benchmarks\n\n{appended}\n", encoding="utf-8")
        return
    text = BENCHMARKS_MD.read_text(encoding="utf-8")
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        BENCHMARKS_MD.write_text(head + block + tail, encoding="utf-8")
        return
    if require_markers:
        raise SystemExit(f"{BENCHMARKS_MD} lacks the {begin} / {end} markers")
    BENCHMARKS_MD.write_text(text.rstrip() + "\n\n" + appended + "\n", encoding="utf-8")


# --- figures in Markdown -------------------------------------------------------------------------


def ms(value: float | None) -> str:
    """Milliseconds as the tables show them: one decimal below 100, none above; – for none."""
    if value is None:
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def mb(kb: float) -> str:
    """Kilobytes as whole megabytes."""
    return f"{kb / 1024:,.0f} MB"


def remove_store(path: Path) -> None:
    """Deletes a store and its journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def store_bytes(path: str | Path) -> int:
    """The size of a store on disk with its write-ahead log."""
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )
