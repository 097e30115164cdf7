"""Background work knows no window: the runner and its jobs receive what they need.

That no module imports itself back through others is tests/test_import_graph.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[3] / "auditviewer" / "ui"
# What the runner and its jobs must never reach: they receive what they need instead.
WINDOW_PARTS = ("main_window", "entry_browser", "sync_controller")


def module_name(path: Path) -> str:
    parts = path.relative_to(UI.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def ui_imports() -> dict[str, set[str]]:
    """Every ``auditviewer.ui`` module and the ui modules it imports, lazily or for typing too."""
    graph: dict[str, set[str]] = {}
    for path in sorted(UI.rglob("*.py")):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            imported.update(name for name in names if name.startswith("auditviewer.ui."))
        graph[module_name(path)] = imported
    return {name: {target for target in deps if target in graph} for name, deps in graph.items()}


def test_background_work_imports_no_window_browser_or_dialog() -> None:
    graph = ui_imports()
    offenders = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("auditviewer.ui.tasks")
        for target in targets
        if target.rsplit(".", 1)[-1] in WINDOW_PARTS or target.endswith("_dialog")
    ]
    assert offenders == []
    assert "auditviewer.ui.tasks.runner" in graph
