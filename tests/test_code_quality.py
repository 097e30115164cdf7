"""Lint, formatting, typing and layering run as part of the one test command."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the test extras: pip install -e '.[test]'")
    return found


def _run(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"


def test_ruff_lint_passes() -> None:
    _run(_tool("ruff"), "check", ".")


def test_ruff_format_is_applied() -> None:
    _run(_tool("ruff"), "format", "--check", ".")


def test_mypy_passes_strict_on_core() -> None:
    _run(_tool("mypy"))


def test_import_linter_contracts_hold() -> None:
    _run(_tool("lint-imports"))


def test_no_module_under_core_imports_qt() -> None:
    offenders = []
    for path in (ROOT / "auditviewer" / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6"} or (
                    name.startswith("auditviewer.ui")
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
