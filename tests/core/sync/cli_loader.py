"""Imports ``auditviewer.cli.sync_command`` whether or not ``auditviewer/cli`` is a package yet.

(While ``auditviewer/cli.py`` still exists as a module, the file is loaded by its path.)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]


def load_sync_command() -> ModuleType:
    try:
        return importlib.import_module("auditviewer.cli.sync_command")
    except ImportError:
        name = "auditviewer_cli_sync_command"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "auditviewer" / "cli" / "sync_command.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module


def parse(store: Path, *argv: str) -> argparse.Namespace:
    """Parses ``auditviewer --store STORE sync ARGV`` the way the main CLI will."""
    command = load_sync_command()
    parser = argparse.ArgumentParser(prog="auditviewer")
    parser.add_argument("--store", type=Path)
    subparsers = parser.add_subparsers(dest="command")
    command.add_parser(subparsers)
    return parser.parse_args(["--store", str(store), "sync", *argv])
