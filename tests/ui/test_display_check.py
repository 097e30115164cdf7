"""Before Qt starts: no display or missing libraries end in one sentence and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditviewer.ui.display_check import display_problem

ROOT = Path(__file__).resolve().parents[2]


def _all_found(name: str) -> str | None:
    return f"/usr/lib/lib{name}.so"


def test_no_display_is_named() -> None:
    problem = display_problem({}, platform="linux", find_library=_all_found)
    assert problem is not None
    assert "DISPLAY and WAYLAND_DISPLAY are not set" in problem


def test_headless_platforms_and_other_systems_need_nothing() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert display_problem({}, platform="darwin") is None
    assert display_problem({}, platform="win32") is None


def test_missing_x11_libraries_are_named_by_their_package() -> None:
    def without_cursor(name: str) -> str | None:
        return None if name in ("xcb-cursor", "EGL") else _all_found(name)

    problem = display_problem({"DISPLAY": ":0"}, platform="linux", find_library=without_cursor)
    assert problem is not None
    assert "libegl1 libxcb-cursor0" in problem
    assert "sudo apt-get install libegl1 libxcb-cursor0" in problem
    ok = display_problem({"DISPLAY": ":0"}, platform="linux", find_library=_all_found)
    assert ok is None


def test_wayland_needs_its_own_libraries() -> None:
    def no_wayland(name: str) -> str | None:
        return None if name.startswith("wayland") else _all_found(name)

    problem = display_problem(
        {"WAYLAND_DISPLAY": "wayland-0"}, platform="linux", find_library=no_wayland
    )
    assert problem is not None
    assert "libwayland-client0" in problem


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_the_viewer_without_a_display_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "auditviewer", "--store", str(tmp_path / "s.sqlite")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    err = result.stderr.strip()
    assert err.count("\n") == 0
    assert err.startswith("auditviewer: the viewer cannot start: there is no display")
    assert "auditviewer --help" in err
    assert not (tmp_path / "s.sqlite").exists()
