"""The command line."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Runs the command line and returns the exit code."""
    del argv
    return 0
