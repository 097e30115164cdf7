"""``auditviewer actions``: prints the vendor's action reference."""

from __future__ import annotations

import argparse
from typing import Any

from auditviewer.core.reference import ActionReference

NAME = "actions"


def add_parser(subparsers: Any) -> None:
    """Registers ``actions`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="print the action reference (action, logged since, description)",
        description=(
            "Print the vendor's action reference: every logged action, the date since which "
            "it is logged, and what it means. An action can have several rows "
            "(release.create has three). Entries of actions not listed here are flagged "
            "unknown-action; entries older than their action's first date are flagged anomaly."
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints one row per line; needs no store."""
    del args
    rows = ActionReference.load().rows
    width = max((len(row.action) for row in rows), default=6)
    print(f"{'ACTION':<{width}}  LOGGED SINCE  DESCRIPTION")
    for row in rows:
        print(f"{row.action:<{width}}  {row.logged_since.isoformat():<12}  {row.description}")
    return 0
