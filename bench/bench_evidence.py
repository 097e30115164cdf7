"""Evidence packs against the plain JSON export, and ``verify-pack`` against ``sha256sum -c``.

On a store of ``--size`` synthetic entries (built once, or ``--store PATH``), each measured
``--repeat`` times in this process, best and median kept:

1. the plain JSON export of every entry (``export_json``, not logged);
2. the evidence pack of every entry (``write_evidence_pack``: the same export, each entry's
   SHA-256 in the manifest, the store's facts, SHA256SUMS, the signature; not zipped);
3. ``check_pack`` of that pack (``auditviewer verify-pack``), with the included key;
4. ``sha256sum -c SHA256SUMS`` in the pack's folder (a child process), the standard tool's time
   for the same files.

The targets: the pack within 2× the plain export; the check within 1.5× ``sha256sum -c``.
It prints Markdown; ``--write`` puts it into ``BENCHMARKS.md`` between the
``evidence-results`` markers (``--block NAME``: the ``NAME`` markers).

    .venv/bin/python bench/bench_evidence.py                      # 10^5, as published
    .venv/bin/python bench/bench_evidence.py --size 1000000 --repeat 2 --write \
        --block evidence-results-1m
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from harness import (  # noqa: E402
    finish_run,
    machine_sentence,
    markers,
    run_header,
    use_source_tree,
    write_block,
)

use_source_tree()

SECTION = "## Evidence packs"


def _timed(work: Callable[[], object], repeat: int, before: Callable[[], None]) -> list[float]:
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def _build_store(folder: Path, size: int) -> Path:
    from synthetic import write_exports

    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_import import import_file

    export = folder / "export.json"
    print(f"== writing {size:,} synthetic entries", file=sys.stderr)
    write_exports({"json": export}, size)
    store_path = folder / "store.sqlite"
    print("== importing them", file=sys.stderr)
    with Store.open(store_path) as store:
        import_file(store, export)
    export.unlink()
    return store_path


def run(args: argparse.Namespace) -> dict[str, Any]:
    from auditviewer.core.exporting.export import export_json
    from auditviewer.core.packs.pack import SUMS, write_evidence_pack
    from auditviewer.core.packs.pack_check import check_pack
    from auditviewer.core.packs.signing import signing_key
    from auditviewer.core.store.connection import Store

    results: dict[str, Any] = run_header("bench/bench_evidence.py")
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        folder = Path(tmp)
        store_path = args.store or _build_store(folder, args.size)
        key = signing_key(folder / "key.pem", use_keyring=False)
        plain = folder / "plain.json"
        pack = folder / "pack"
        with Store.open(store_path, create=False) as store:
            with store.raw() as connection:
                (entries,) = connection.execute("SELECT count(*) FROM entries").fetchone()
            results["entries"] = entries
            print("== plain JSON export", file=sys.stderr)
            results["export"] = _timed(
                lambda: export_json(store, plain, log=False),
                args.repeat,
                lambda: plain.unlink(missing_ok=True),
            )
            print("== evidence pack", file=sys.stderr)
            results["pack"] = _timed(
                lambda: write_evidence_pack(store, pack, key=key),
                args.repeat,
                lambda: shutil.rmtree(pack, ignore_errors=True),
            )
        results["sizes"] = {p.name: p.stat().st_size for p in pack.iterdir()}
        print("== verify-pack", file=sys.stderr)
        results["check"] = _timed(lambda: _ok(check_pack(pack)), args.repeat, lambda: None)
        print("== sha256sum -c", file=sys.stderr)
        results["sha256sum"] = _timed(
            lambda: subprocess.run(["sha256sum", "--quiet", "-c", SUMS], cwd=pack, check=True),
            args.repeat,
            lambda: None,
        )
    return finish_run(results)


def _ok(report: Any) -> None:
    if not report.ok:
        raise SystemExit(f"the pack does not verify: {report.problems}")


def render(results: dict[str, Any]) -> str:
    def cell(name: str) -> str:
        times = results[name]
        return f"{min(times):.2f} s | {statistics.median(times):.2f} s"

    export, pack = min(results["export"]), min(results["pack"])
    check, tool = min(results["check"]), min(results["sha256sum"])
    sizes = results["sizes"]
    return "\n".join(
        [
            f"Run {results['started']} – {results['finished']}. Command: `{results['command']}`.",
            "",
            machine_sentence(results),
            "",
            f"{results['entries']:,} entries; entries.json {sizes['entries.json'] / 1e6:,.0f} MB, "
            f"manifest.json {sizes['manifest.json'] / 1e6:,.1f} MB. In-process, "
            f"{len(results['export'])} runs each, warm page cache:",
            "",
            "| Work | Best | Median | Ratio (best) | Target |",
            "|---|---|---|---|---|",
            f"| plain JSON export | {cell('export')} | 1.00 | |",
            f"| evidence pack | {cell('pack')} | {pack / export:.2f}× the export | ≤ 2× |",
            f"| `sha256sum -c SHA256SUMS` | {cell('sha256sum')} | 1.00 | |",
            f"| `verify-pack` (check_pack) | {cell('check')} | {check / tool:.2f}× sha256sum "
            "| ≤ 1.5× |",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="measure this store instead of building one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument(
        "--block",
        default="evidence-results",
        metavar="NAME",
        help="the block of BENCHMARKS.md to write (default: evidence-results)",
    )
    args = parser.parse_args()
    markdown = render(run(args))
    print(markdown)
    if args.write:
        begin, end = markers(args.block)
        write_block(markdown, begin, end, section=SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
