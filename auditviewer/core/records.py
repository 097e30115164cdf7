"""Plain records that cross from the core to its callers (CLI, GUI, tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def now_micros() -> int:
    """The current UTC time in microseconds since the epoch."""
    return time.time_ns() // 1000


class CancelToken:
    """Set from any thread to ask long work to stop at its next checkpoint."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Asks the work to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was asked for."""
        return self._event.is_set()


@dataclass(frozen=True, slots=True)
class Progress:
    """How far long work has got: ``done`` of ``total`` units (bytes), and entries seen."""

    done: int
    total: int
    entries: int
    phase: str = "import"


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class QuarantinedEntry:
    """An element of a file that was kept but could not be understood as an entry."""

    index: int
    line: int | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """What an import or a sync run did with the elements it read, the same names for both:
    ``parsed`` = ``imported`` + ``duplicates`` + ``conflicts`` + ``quarantined``."""

    parsed: int
    imported: int
    duplicates: int
    conflicts: int
    quarantined: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport(Counts):
    """What one import did."""

    source_id: int
    location: str
    sha256: str | None
    first_created_utc: int | None
    last_created_utc: int | None
    naive_times: int
    quarantine: tuple[QuarantinedEntry, ...] = field(default=())
    seconds: float = 0.0
    # How many of the stored entries were added to the full-text index in the same pass.
    indexed: int = 0
