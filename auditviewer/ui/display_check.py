"""Whether the viewer can open a window here, checked before Qt is started.

Without a display, or without the system libraries Qt's X11 or Wayland plugin loads, creating
the QApplication aborts the process (a core dump and a misleading hint about one library). This
check names what is missing, with the Debian/Ubuntu package that provides it, so the command
line can say so in one sentence and exit 2 instead. It imports no Qt.
"""

from __future__ import annotations

import ctypes.util
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

# Platforms that need no display (tests, remote rendering).
HEADLESS_PLATFORMS: Final = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb"})
# The libraries Qt's platform plugins load, by plugin: library name → Debian/Ubuntu package.
X11_LIBRARIES: Final = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "EGL": "libegl1",
    "GL": "libgl1",
    "fontconfig": "libfontconfig1",
}
WAYLAND_LIBRARIES: Final = {
    "wayland-client": "libwayland-client0",
    "wayland-cursor": "libwayland-cursor0",
    "xkbcommon": "libxkbcommon0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}

LibraryFinder = Callable[[str], str | None]


def display_problem(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str | None = None,
    find_library: LibraryFinder | None = None,
) -> str | None:
    """What keeps the viewer from opening a window here, as a phrase; None when nothing does."""
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    if not system.startswith("linux"):
        return None
    qt_platform = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if qt_platform in HEADLESS_PLATFORMS:
        return None
    finder = find_library or _bundled_or_system_library
    if env.get("DISPLAY") and qt_platform in ("", "xcb"):
        needed = X11_LIBRARIES
    elif env.get("WAYLAND_DISPLAY") and qt_platform in ("", "wayland"):
        needed = WAYLAND_LIBRARIES
    elif qt_platform in ("", "xcb", "wayland"):
        return (
            "there is no display (DISPLAY and WAYLAND_DISPLAY are not set): run it in a "
            "desktop session, or over ssh -X"
        )
    else:
        return None
    missing = sorted({package for name, package in needed.items() if finder(name) is None})
    if not missing:
        return None
    packages = " ".join(missing)
    return (
        f"Qt needs system libraries that are not installed ({packages}): install them, e.g. "
        f"sudo apt-get install {packages}"
    )


def _bundled_or_system_library(name: str) -> str | None:
    """The library's file in the standalone app's folder, else the system's, else None."""
    prefix = f"lib{name}.so"
    for known in (_bundled_libraries(), _system_libraries()):
        found = next((path for soname, path in known.items() if soname.startswith(prefix)), None)
        if found is not None:
            return found
    return None if _system_libraries() else ctypes.util.find_library(name)


@functools.cache
def _bundled_libraries() -> dict[str, str]:
    """The shared libraries inside the standalone app's folder (none outside it)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle:
        return {}
    return {path.name: str(path) for path in Path(bundle).rglob("lib*.so*")}


@functools.cache
def _system_libraries() -> dict[str, str]:
    """The dynamic linker's cache, read once (``ldconfig -p``); empty where there is none."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        listing = subprocess.run(
            [ldconfig, "-p"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    libraries: dict[str, str] = {}
    for line in listing.splitlines():
        soname, arrow, path = line.strip().partition(" => ")
        if arrow:
            libraries.setdefault(soname.split(" ", 1)[0], path)
    return libraries
