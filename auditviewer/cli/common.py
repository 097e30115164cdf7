"""What the command modules share: opening the store, one-line errors, progress, text cells."""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from auditviewer.core.errors import StoreError
from auditviewer.core.records import Progress
from auditviewer.core.wording import counted

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store

PROGRAM = "auditviewer"
_PROGRESS_INTERVAL = 0.1


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    """Opens the store named by ``--store``; only ``create`` makes a missing one."""
    from auditviewer.core.store.connection import (
        Store,  # SQLAlchemy: only when a command needs the store
    )

    path = Path(args.store).expanduser()
    if not create and not path.exists():
        raise StoreError(
            f"{path}: no such store; import a file first (auditviewer import FILE) "
            "or name another store with --store PATH"
        )
    return Store.open(path, create=create)


def printable(text: str) -> str:
    """Text safe for a terminal: control and format characters shown as ``\\uXXXX`` escapes.

    Entries are untrusted input; an escape sequence in an actor name must not drive the
    terminal, and a bidi override must not disguise what is printed.
    """
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in text
    )


def fail(message: str) -> int:
    """Prints ``auditviewer: <message>`` as one line on stderr; returns exit code 1."""
    print(f"{PROGRAM}: {printable(' '.join(message.split()))}", file=sys.stderr)
    return 1


def when(micros: int | None) -> str:
    """A UTC time for people: ``2024-09-03 14:07:55Z`` (``-`` for none)."""
    from auditviewer.core.timestamps import iso_utc

    text = iso_utc(micros)
    if not text:
        return "-"
    return text[:19].replace("T", " ") + "Z"


def span(first: int | None, last: int | None) -> str:
    """A time span for people, or ``-`` when there is none."""
    if first is None or last is None:
        return "-"
    return f"{when(first)} .. {when(last)}"


class ProgressLine:
    """A progress line on stderr, rewritten in place on a terminal (silent elsewhere); a permanent
    message (:meth:`show`) is printed on any stream."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._width = 0
        self._shown_at = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._shown_at < _PROGRESS_INTERVAL:
            return
        self._shown_at = now
        if progress.phase == "import" and progress.total:
            text = (
                f"{self.label}: {progress.done * 100 // progress.total}% "
                f"({counted(progress.entries, 'entry')})"
            )
        else:
            text = f"{self.label}: {progress.done:,} of {counted(progress.total, 'entry')}"
        self.show(text)

    def show(self, text: str, *, permanent: bool = False) -> None:
        """Rewrites the line on a terminal; a ``permanent`` message gets a line of its own
        (``auditviewer: ...``) on any stream."""
        if permanent:
            self.clear()
            self.stream.write(f"{PROGRAM}: {printable(text)}\n")
            self.stream.flush()
            return
        if not self.enabled:
            return
        shown = printable(text)
        self.stream.write("\r" + shown.ljust(self._width))
        self.stream.flush()
        self._width = len(shown)

    def clear(self) -> None:
        """Removes the line, so that what follows starts on a clean line."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
