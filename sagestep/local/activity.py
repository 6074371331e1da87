"""Counting of background work, so that tests can wait until the emulation is quiet."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Activity:
    """A counter of work in progress (worker threads, queued events, asynchronous Lambda calls).

    Work is counted from the moment it is scheduled, and work that schedules more work does so before
    it ends, so the count only reaches zero when nothing is left to do.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = 0

    @property
    def busy(self) -> int:
        with self._cond:
            return self._busy

    def begin(self) -> None:
        with self._cond:
            self._busy += 1

    def end(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy <= 0:
                self._busy = 0
                self._cond.notify_all()

    @contextmanager
    def track(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        finally:
            self.end()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is in progress; False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True
