"""``auditviewer verify``: recomputes every entry's hash and the hash chain."""

from __future__ import annotations

import argparse
from typing import Any

from auditviewer.cli.common import ProgressLine, fail, open_store
from auditviewer.core.integrity import verify_store

NAME = "verify"


def add_parser(subparsers: Any) -> None:
    """Registers ``verify`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="recompute every entry's SHA-256 and the hash chain; exit 1 on a mismatch",
        description=(
            "Recompute the SHA-256 of every entry's original text and the hash chain over "
            "all entries, and report the first entry that does not match (an altered text or "
            "hash, an entry removed or inserted). Prints the chain head, which stands for the "
            "whole store. Exits with 1 on a mismatch."
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """0 when the store is intact, 1 at the first mismatch."""
    progress = ProgressLine("verifying")
    with open_store(args) as store:
        try:
            report = verify_store(store, progress=progress)
        finally:
            progress.clear()
        location = store.path
    if report.problem is not None:
        print(f"{report.entries:,} entries checked before the mismatch")
        return fail(f"{location}: {report.problem}")
    if report.chain_head is None:
        print("OK: the store is empty")
    else:
        print(
            f"OK: {report.entries:,} entries, every text matches its SHA-256 and the hash "
            f"chain is intact; chain head seq {report.last_seq:,} sha256 {report.chain_head}"
        )
    return 0
