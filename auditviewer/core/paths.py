"""Where the program keeps its files; resolved when asked, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "auditviewer"
STORE_ENV = "AUDITVIEWER_STORE"


def named_store_path() -> Path | None:
    """The store named by ``$AUDITVIEWER_STORE``, if any."""
    from_env = os.environ.get(STORE_ENV)
    return Path(from_env) if from_env else None


def default_store_path() -> Path:
    """The store used when none is named: ``$AUDITVIEWER_STORE`` or the user data folder."""
    named = named_store_path()
    if named is not None:
        return named
    return Path(platformdirs.user_data_dir(APP_NAME)) / "store.sqlite"


def view_cache_folder() -> Path:
    """Where the views of opened files are kept: a folder of the user cache folder."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "views"
