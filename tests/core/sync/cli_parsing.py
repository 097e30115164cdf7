"""Parses a ``sync`` command line with the program's own parser."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditviewer.cli import build_parser


def parse(store: Path, *argv: str) -> argparse.Namespace:
    """Parses ``auditviewer --store STORE sync ARGV`` exactly as the command line does."""
    return build_parser().parse_args(["--store", str(store), "sync", *argv])
