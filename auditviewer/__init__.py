"""auditviewer: an offline archive and viewer for Memfault organization audit logs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("auditviewer")
except PackageNotFoundError:  # running from a source tree or a frozen build without metadata
    __version__ = "0.1.0"
