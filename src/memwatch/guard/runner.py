"""The guard's thread: a check on a fixed schedule, woken early by a PSI trigger.

Checks run every ``interval`` seconds on a fixed schedule (no drift; after a long
ladder step the schedule restarts rather than catching up). Between checks the
thread waits in ``poll()`` on the PSI trigger when one is armed (a stall wakes a
check at once), else on an Event. A pipe ends either wait at once on :meth:`stop`.
Anything a check raises, even ``SystemExit`` from a handler, is logged and counted;
the thread goes on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from memwatch.guard.metrics import GuardMetrics

__all__ = ["CheckThread"]

_log = logging.getLogger("memwatch.guard")


class CheckThread:
    """Runs ``check()`` every ``interval`` seconds in a daemon thread."""

    def __init__(
        self,
        check: Callable[[], Any],
        interval: float,
        metrics: GuardMetrics,
        arm_trigger: Callable[[], Any] | None = None,
    ) -> None:
        self._check = check
        self.interval = interval
        self._metrics = metrics
        self._arm_trigger = arm_trigger
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def _trigger(self) -> Any:
        if self._arm_trigger is None:
            return None
        try:
            return self._arm_trigger()
        except Exception:
            _log.exception("memwatch guard: cannot arm the PSI trigger; polling instead")
            return None

    def _run(self) -> None:
        trigger = self._trigger()
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self._check()
            except BaseException:  # SystemExit from a handler: the guard thread goes on
                self._metrics.inc("check_errors")
                _log.exception("memwatch guard: a check raised a BaseException (ignored)")
            next_at += self.interval
            wait = next_at - time.monotonic()
            if wait < 0:  # fell behind (a long ladder step): start a new schedule
                next_at, wait = time.monotonic(), 0.0
            if trigger is not None and trigger.available:
                if trigger.fired(wait, self._wake[0] if self._wake else None):
                    self._metrics.inc("psi_triggers")
                    next_at = time.monotonic()
            elif self._stop.wait(wait):
                break

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        if self._wake is None:
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            os.set_blocking(write_end, False)
            self._wake = (read_end, write_end)
        self._thread = threading.Thread(target=self._run, name="memwatch-guard", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"!")
            except OSError:  # the pipe is full: a wake-up is already waiting
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout if timeout is not None else 2 * self.interval + 5.0)
            if not thread.is_alive() and self._wake is not None:
                for fd in self._wake:
                    os.close(fd)
                self._wake = None
        self._thread = None
