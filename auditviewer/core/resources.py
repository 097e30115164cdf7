"""Locates the files shipped in ``resources/``: in a frozen build, in an installed package
(where they are ``auditviewer/resources/``) and in a source tree (the top-level folder)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder holding the action reference, the sample export and the icons."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    if installed.is_dir():
        return installed
    return package.parent / "resources"


def resource_path(name: str) -> Path:
    """The path of one shipped resource file."""
    return resources_dir() / name
