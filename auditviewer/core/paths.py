"""Where the program keeps its files; resolved when asked, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "auditviewer"
STORE_ENV = "AUDITVIEWER_STORE"


def default_store_path() -> Path:
    """The store used when none is named: ``$AUDITVIEWER_STORE`` or the user data folder."""
    from_env = os.environ.get(STORE_ENV)
    if from_env:
        return Path(from_env)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "store.sqlite"


def default_signing_key_path() -> Path:
    """Where the evidence signing key is kept when no secure system keyring is available."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "evidence-signing-key.pem"
