"""MemoryGuard: watches the budget, alerts on level changes, walks the ladder, shuts down cleanly.

Each check (every ``check_interval`` seconds in a daemon thread, and at once when
a PSI trigger fires) reads the source, updates the level (hysteresis and
cooldown: :mod:`memwatch.guard.levels`), calls the handlers on every level
change, runs the recovery ladder while the level is warning or above and undoes
paused intake once it falls. The thread survives anything a handler, strategy or
source raises (logged on ``memwatch.guard``, counted in the metrics) and never
raises into the application.

Emergency shutdown (the ``shutdown`` strategy, at emergency level, after every
cheaper rung failed to bring the level down): release the reserve, flush every
preserved buffer atomically, run the shutdown hooks, then end the process with
``os._exit(exit_code)``; the default code is :data:`EXIT_EMERGENCY` (75,
``EX_TEMPFAIL``: a supervisor may restart). Without a ``shutdown`` strategy,
entering emergency flushes the preserved buffers once as a checkpoint and the
process goes on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from memwatch.errors import ConfigError
from memwatch.guard.dispatch import Dispatcher, Handler, alert_details
from memwatch.guard.emergency import announce_exit, run_hooks
from memwatch.guard.ladder import RecoveryLadder
from memwatch.guard.levels import Level, LevelPolicy, LevelTracker
from memwatch.guard.metrics import GuardMetrics, prometheus_collector, record_sample
from memwatch.guard.preserve import Preserver
from memwatch.guard.runner import CheckThread
from memwatch.guard.source import MemorySource, SystemSource
from memwatch.model.guard import ActionOutcome, GuardAlert, GuardReport, GuardSample, PreservedFile
from memwatch.units import format_size, parse_size

__all__ = ["EXIT_EMERGENCY", "MemoryGuard"]

EXIT_EMERGENCY = 75
_log = logging.getLogger("memwatch.guard")
_LEVEL_VALUE = {Level.NORMAL: 0.0, Level.WARNING: 1.0, Level.CRITICAL: 2.0, Level.EMERGENCY: 3.0}


class MemoryGuard:
    """Protects a running process from running out of memory (see the module docstring)."""

    def __init__(
        self,
        warning: float | int | str = 0.70,
        critical: float | int | str = 0.85,
        emergency: float | int | str = 0.95,
        check_interval: float = 0.1,
        cooldown: float = 5.0,
        source: MemorySource | None = None,
        clock: Callable[[], float] | None = None,
        *,
        hysteresis: float = 0.05,
        psi_warning: float | None = 10.0,
        psi_critical: float | None = 30.0,
        psi_trigger: bool = True,
        reserve: int | str = "16 MiB",
        exit_code: int = EXIT_EMERGENCY,
        exit: Callable[[int], Any] | None = None,
        history: int = 1000,
    ) -> None:
        if check_interval <= 0:
            raise ConfigError(f"check_interval must be positive, got {check_interval!r}")
        self.clock = clock or time.monotonic
        self.check_interval = float(check_interval)
        self.policy = LevelPolicy(
            warning,
            critical,
            emergency,
            hysteresis=hysteresis,
            psi_warning=psi_warning,
            psi_critical=psi_critical,
        )
        self.tracker = LevelTracker(self.policy, cooldown)
        self.ladder = RecoveryLadder(cooldown, self.clock)
        self.source: MemorySource = source if source is not None else SystemSource(clock=self.clock)
        self.metrics_data = GuardMetrics()
        self._dispatch = Dispatcher(lambda: self.metrics_data.inc("handler_errors"))
        self._preserver = Preserver(parse_size(reserve))
        self._hooks: list[Callable[[], Any]] = []
        self.exit_code = exit_code
        self._exit = exit or os._exit
        self._psi_trigger = psi_trigger
        self.alerts: deque[GuardAlert] = deque(maxlen=history)
        self.actions: deque[ActionOutcome] = deque(maxlen=history)
        self.preserved: deque[PreservedFile] = deque(maxlen=history)
        self.last_sample: GuardSample | None = None
        self.peak = 0
        self.started_at = time.time()
        self._check_lock = threading.RLock()  # a handler may call run_ladder
        self._runner = CheckThread(self.check, self.check_interval, self.metrics_data, self._arm_trigger)
        self._checkpointed = False
        self.shutting_down = False

    # -- configuration -----------------------------------------------------------
    @property
    def level(self) -> Level:
        return self.tracker.level

    def add_handler(self, handler: Handler) -> None:
        """Call ``handler(level, details)`` (sync or async) on every level change."""
        self._dispatch.add(handler)

    def remove_handler(self, handler: Handler) -> None:
        self._dispatch.remove(handler)

    def add_strategy(
        self,
        name: str,
        fn: Any = None,
        level: str | None = None,
        *,
        cooldown: float | None = None,
        undo: Callable[[], Any] | None = None,
    ) -> None:
        """Add a rung: ``fn()`` (or ``fn(level)``), or a built-in by name (see ``ladder``)."""
        if name == "shutdown" and fn is None:
            fn, level = self.shutdown, level or "emergency"
        self.ladder.add(name, fn, level, cooldown=cooldown, undo=undo)

    def preserve(self, obj: Any, path: str | os.PathLike[str]) -> None:
        """Write ``obj`` (bytes, str, JSON-able, or a callable giving one) to ``path`` on emergency."""
        self._preserver.add(obj, path)

    def add_shutdown_hook(self, hook: Callable[[], Any]) -> None:
        """Run ``hook()`` during emergency shutdown, after the preserved buffers are flushed."""
        self._hooks.append(hook)

    # -- checking ----------------------------------------------------------------
    def _recheck(self) -> tuple[GuardSample, Level]:
        sample = self._read()
        return sample, self.policy.evaluate(sample, self.tracker.level)[0]

    def _read(self) -> GuardSample:
        sample = self.source.read()
        self.last_sample = sample
        self.peak = max(self.peak, sample.usage)
        record_sample(self.metrics_data, sample, self.peak)
        return sample

    def check(self) -> GuardSample | None:
        """One check now: read, update the level, alert, run the ladder. Never raises."""
        with self._check_lock:
            start = time.perf_counter()
            try:
                return self._check()
            except Exception:
                self.metrics_data.inc("check_errors")
                _log.exception("memwatch guard: check failed (the guard goes on)")
                return None
            finally:
                self.metrics_data.inc("checks")
                self.metrics_data.set("check_seconds", time.perf_counter() - start)

    def _check(self) -> GuardSample:
        sample = self._read()
        now = self.clock()
        change = self.tracker.update(sample, now)
        if change is not None:
            self._on_change(*change, sample)
        self.metrics_data.set("level", _LEVEL_VALUE[self.tracker.level])
        # the ladder acts on what the reading needs now, not on a level the cooldown holds:
        # otherwise each action would extend the hold and the level would never fall
        need = self.policy.evaluate(sample, self.tracker.level)[0]
        if need is not Level.NORMAL and not self.shutting_down:
            outcomes, sample, _after = self.ladder.run(need, sample, self._recheck)
            if outcomes:
                self.tracker.note_action(now)
                self._record(outcomes)
        return sample

    def _record(self, outcomes: list[ActionOutcome]) -> None:
        for outcome in outcomes:
            self.actions.append(outcome)
            self.metrics_data.inc(f"strategy_runs.{outcome.name}")
            if outcome.error:
                self.metrics_data.inc(f"strategy_errors.{outcome.name}")
            _log.info(
                "memwatch guard: %s at %s: %s -> %s",
                outcome.name,
                outcome.level,
                format_size(outcome.usage_before),
                format_size(outcome.usage_after),
            )

    def _on_change(self, level: Level, previous: Level, reason: str, sample: GuardSample) -> None:
        alert = GuardAlert(sample.time, str(level), str(previous), reason, sample)
        self.alerts.append(alert)
        self.metrics_data.inc(f"alerts.{level}")
        log = _log.warning if level.rank > previous.rank else _log.info
        log("memwatch guard: %s -> %s: %s", previous, level, reason)
        if level.rank < previous.rank:
            self.ladder.relax(level)
            if level is Level.NORMAL:
                self._checkpointed = False
                self._preserver.hold_reserve()
        self._dispatch.emit(str(level), alert_details(alert, getattr(self.source, "budget_detail", "")))
        if (
            level is Level.EMERGENCY
            and not self._checkpointed
            and not any(s.name == "shutdown" for s in self.ladder.strategies)
        ):
            self._checkpointed = True
            self.flush()

    def run_ladder(self, level: str = "warning", *, force: bool = False) -> list[ActionOutcome]:
        """Run every rung up to ``level`` now (``force`` ignores the cooldowns). Never raises.

        The walk does not stop when the reading looks normal: ``oom_protected(guard=...)``
        calls this after an out-of-memory error, which the host reading may not show
        (a GPU OOM). Rungs with an undo (pause_intake) belong above warning, where the
        level's own fall undoes them.
        """
        fixed = Level.parse(level)
        with self._check_lock:
            try:
                sample = self._read()
                outcomes, _s, _l = self.ladder.run(fixed, sample, lambda: (self._read(), fixed), force=force)
            except Exception:
                self.metrics_data.inc("check_errors")
                _log.exception("memwatch guard: ladder run failed")
                return []
            self._record(outcomes)
            return outcomes

    # -- emergency ---------------------------------------------------------------
    def flush(self, *, reopen: bool = True) -> list[PreservedFile]:
        """Write every preserved buffer now (atomically); returns what was written."""
        released = self._preserver.release_reserve()
        files = self._preserver.flush(
            lambda path, exc: _log.error("memwatch guard: could not preserve %s: %s", path, exc),
            reopen=reopen,
        )
        self.preserved.extend(files)
        self.metrics_data.inc("preserve_flushes")
        if released and reopen and self.tracker.level is Level.NORMAL:
            self._preserver.hold_reserve()
        return files

    def shutdown(self) -> None:
        """Emergency shutdown: flush preserved buffers, run hooks, exit with ``exit_code``."""
        if self.shutting_down:
            return
        self.shutting_down = True
        sample = self.last_sample
        if sample is None:
            try:
                sample = self.source.read()
            except Exception:
                sample = None
        files = self.flush(reopen=False)
        run_hooks(self._hooks, lambda: self.metrics_data.inc("hook_errors"))
        announce_exit(sample, len(files), self.exit_code)
        self._exit(self.exit_code)

    # -- the thread --------------------------------------------------------------
    def _arm_trigger(self) -> Any:
        arm = getattr(self.source, "psi_trigger", None)  # SystemSource, or a test double
        return arm(window=2.0) if self._psi_trigger and callable(arm) else None

    @property
    def running(self) -> bool:
        return self._runner.running

    @property
    def _thread(self) -> threading.Thread | None:
        return self._runner.thread

    def start(self) -> Self:
        """Start the guard thread (a daemon); a no-op when it runs already."""
        self._runner.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._runner.stop(timeout)

    def close(self) -> None:
        """Stop, release the reserve and the temp files; close the source."""
        self.stop()
        self._preserver.close()
        self.source.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        import asyncio

        self._dispatch.loop = asyncio.get_running_loop()
        return self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)
        self._dispatch.loop = None

    # -- reporting ---------------------------------------------------------------
    def metrics(self) -> dict[str, dict[str, float]]:
        """``{"counters": {...}, "gauges": {...}}``; dotted names carry a label value."""
        return self.metrics_data.as_dict()

    def export_prometheus(self, registry: Any = None) -> Any:
        """Expose the metrics through prometheus-client (the ``prometheus`` extra)."""
        return prometheus_collector(self.metrics_data, registry)

    def report(self) -> GuardReport:
        snap = self.metrics()
        return GuardReport(
            started_at=self.started_at,
            budget=self.last_sample.budget if self.last_sample else 0,
            budget_source=self.source.budget_source,
            budget_detail=getattr(self.source, "budget_detail", ""),
            usage_source=self.source.usage_source,
            level=str(self.level),
            alerts=tuple(self.alerts),
            actions=tuple(self.actions),
            preserved=tuple(self.preserved),
            counters=snap["counters"],
            gauges=snap["gauges"],
        )
