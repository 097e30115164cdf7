"""Allows ``python -m auditviewer``."""

from auditviewer.cli import main

raise SystemExit(main())
