"""Waiting on Qt's event loop for a condition, without sleeping the thread (self-test, bench)."""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_TIMEOUT_MS = 20_000


def wait_until(predicate: Callable[[], bool], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> bool:
    """Runs the Qt event loop until ``predicate`` holds or the time is up; whether it holds."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start(timeout_ms)
    loop.exec()
    poll.stop()
    deadline.stop()
    return predicate()
