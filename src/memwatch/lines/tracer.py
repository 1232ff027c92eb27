"""The line tracer: exact per-line memory of chosen functions, and nothing else traced.

How it works (Python 3.11 has no ``sys.monitoring``):

- A global trace function (``sys.settrace``, per thread) sees every Python call and
  returns a line tracer only for the chosen code objects (one set lookup otherwise),
  so code outside them runs untraced by lines.
- tracemalloc (one frame) runs only while a chosen function is on some thread's stack:
  it starts when the first chosen frame is entered and stops when the last one leaves
  (unless it was already tracing, then it is left alone). Outside the chosen functions
  the program runs at full speed; inside, allocation costs what ``-X tracemalloc=1`` costs.
- Every trace event of any thread reads the traced memory once and resets its peak.
  The change since the previous event (of any thread) is a *segment*; it is credited
  to the open lines of the thread whose event ends it (its current line and, inclusive,
  the lines of the chosen frames below it). A line's increment is the sum of its
  segments; its peak is the highest its running sum rose within a segment
  (``peak - value at the segment's start``). In one thread this is exact. With several
  threads, a segment in which the GIL changed hands is credited to the thread that held
  it before; such hits are counted as *shared* (the ``~`` mark).
- When tracemalloc stops, its traces are read once: bytes and blocks still alive,
  attributed to the line of a chosen function that allocated them (exact with threads:
  each allocation carries its own thread's frame).

State is per thread (a line of one thread never ends another's). Hits of a recursive
call are counted; its memory is already inside the outer call's line and is not counted
twice. After ``os.fork`` the child stops tracing and reports nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterable
from types import CodeType, FrameType
from typing import Any

from memwatch.model.lines import FunctionLines, LineProfile, LineStat
from memwatch.probes.native import mallinfo

__all__ = ["LineTracer"]

# per-line accumulator: hits, increment, peak, native, shared
_HITS, _INC, _PEAK, _NATIVE, _SHARED = range(5)


class _Open:
    """A line being executed: where it started and the largest traced memory seen since."""

    __slots__ = ("acc", "code", "counted", "lineno", "native", "rise", "shared", "stats")

    def __init__(self, code: CodeType, stats: dict[int, list[int]], counted: bool) -> None:
        self.code = code
        self.stats = stats
        self.counted = counted
        self.lineno = 0
        self.acc = 0  # the line's running increment
        self.rise = 0  # the most the running increment rose since the line began
        self.native = 0
        self.shared = False


class _ThreadState:
    __slots__ = ("depth", "local", "stack", "stats")

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        self.depth: dict[CodeType, int] = {}
        self.stats: dict[CodeType, dict[int, list[int]]] = {}
        self.local: Any = None  # this thread's line tracer (a closure over this state)


def _no_trace(frame: FrameType, event: str, arg: Any) -> None:
    return None


def _with_line_array(func: Any, *args: Any) -> None:
    """Call ``func(*args)`` under a trace function, so that CPython 3.11 gives its code a line array."""
    previous = sys.gettrace()
    sys.settrace(_no_trace)
    try:
        func(*args)
    finally:
        sys.settrace(previous)


def _native_now() -> int:
    info = mallinfo()
    return 0 if info is None else info.in_use


class LineTracer:
    """Collects line statistics of ``codes`` while installed; :meth:`result` builds the profile."""

    def __init__(self, codes: Iterable[CodeType] = (), *, native: bool = False) -> None:
        self.codes: set[CodeType] = set()
        self.native = native and mallinfo() is not None
        self._lock = threading.RLock()
        self._local = threading.local()
        self._threads: list[_ThreadState] = []
        self._last_cur = 0  # traced memory at the last event of any thread
        self._active = 0  # chosen frames on any stack
        self._owns_tracemalloc = False
        self._last_state: _ThreadState | None = None  # the thread of the last event
        self._calls: dict[CodeType, int] = {}
        self._kept: dict[tuple[str, int], list[int]] = {}
        self._started = time.perf_counter()
        self._disabled = False
        self._borrowed = False  # tracemalloc was on before a scope began
        for code in codes:
            self.add(code)
        os.register_at_fork(after_in_child=self._after_fork)
        # The trace functions' own allocations are traced too, with their own frame on top,
        # and tracemalloc reads that frame's line number. Python 3.11 makes a code object's
        # line array (an O(1) lookup; otherwise the line table is scanned from the start)
        # only when a trace event fires in one of its frames, which never happens inside
        # a trace function. Measured with perf: half of a traced line event went to that
        # scan. So each hot trace function runs once here, traced, before it is used.
        _with_line_array(self._line_tracer(_ThreadState()), None, "call", None)
        _with_line_array(self.global_trace, None, "return", None)

    def add(self, code: CodeType) -> None:
        self.codes.add(code)

    # -- installing ---------------------------------------------------------
    def install(self, *, all_threads: bool = True) -> None:
        """Trace this thread (and, with ``all_threads``, threads started from now on).

        The trace functions found here (a debugger's, coverage's) are put back by
        :meth:`uninstall`: a profiler must not switch off the tools it runs under."""
        self._previous = (sys.gettrace(), threading.gettrace())
        sys.settrace(self.global_trace)
        if all_threads:
            threading.settrace(self.global_trace)

    def uninstall(self) -> None:
        previous, previous_threads = getattr(self, "_previous", (None, None))
        sys.settrace(previous)
        threading.settrace(previous_threads)
        self.finish()

    def finish(self) -> None:
        """Stop tracemalloc if this tracer started it and frames are still open (an exit)."""
        with self._lock:
            for state in self._threads:
                if state.stack and self._active:
                    self._segment(state)
                while state.stack:
                    self._close(state.stack.pop())
            if self._active:
                self._active = 0
                self._stop_tracing()

    def _after_fork(self) -> None:
        self._disabled = True
        sys.settrace(None)
        threading.settrace(None)

    # -- trace functions ----------------------------------------------------
    def _state(self) -> _ThreadState:
        try:
            state: _ThreadState = self._local.state
        except AttributeError:
            state = _ThreadState()
            self._local.state = state
            with self._lock:
                self._threads.append(state)
        return state

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event != "call" or frame.f_code not in self.codes or self._disabled:
            return None
        code = frame.f_code
        state = self._state()
        depth = state.depth.get(code, 0)
        state.depth[code] = depth + 1
        stats = state.stats.get(code)
        if stats is None:
            stats = state.stats[code] = {}
        with self._lock:
            if self._active == 0:
                self._start_tracing()
            else:
                self._segment(state)
            self._active += 1
            self._calls[code] = self._calls.get(code, 0) + 1
            entry = _Open(code, stats, counted=depth == 0)
            self._begin(entry, frame.f_lineno)
            state.stack.append(entry)
        if state.local is None:
            state.local = self._line_tracer(state)
        return state.local

    def _line_tracer(self, state: _ThreadState) -> Any:
        """This thread's trace function for the chosen frames: a closure over its state.

        A line event is the hot path: it makes no bound method, looks up no thread-local
        and calls no helper (``_segment``, ``_close`` and ``_begin`` are inlined), because
        under tracemalloc every allocation, the tracer's own too, costs about half a
        microsecond on the project machine. A change of thread since the last event takes
        the general path, :meth:`_segment`, which also credits the other thread.
        """
        stack = state.stack
        lock = self._lock
        get_traced = tracemalloc.get_traced_memory
        reset_peak = tracemalloc.reset_peak
        native = self.native
        close = self._close
        tracer = self

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if tracer._disabled:
                return None
            if event == "line":
                if not stack:
                    return local
                with lock:
                    if tracer._last_state is state:
                        cur, peak = get_traced()
                        if peak != cur:
                            reset_peak()
                        start = tracer._last_cur
                        tracer._last_cur = cur
                        seg = cur - start
                        top = peak - start
                        for open_ in stack:
                            rise = open_.acc + top
                            open_.rise = max(open_.rise, rise)
                            open_.acc += seg
                    else:
                        tracer._segment(state)
                    entry = stack[-1]
                    line = entry.stats.get(entry.lineno)
                    if line is None:
                        line = entry.stats[entry.lineno] = [0, 0, 0, 0, 0]
                    line[_HITS] += 1
                    if entry.shared:
                        line[_SHARED] += 1
                    if entry.counted:
                        line[_INC] += entry.acc
                        line[_PEAK] = max(line[_PEAK], entry.rise)
                        if native:
                            line[_NATIVE] += _native_now() - entry.native
                    entry.lineno = frame.f_lineno
                    entry.acc = 0
                    entry.rise = 0
                    entry.shared = False
                    if native:
                        entry.native = _native_now()
            elif event == "return" and stack:
                with lock:
                    tracer._segment(state)
                    entry = stack.pop()
                    close(entry)
                    state.depth[entry.code] = state.depth.get(entry.code, 1) - 1
                    tracer._active -= 1
                    if tracer._active == 0:
                        tracer._stop_tracing()
            return local

        return local

    # -- per-line accounting (under the lock) ---------------------------------
    def _segment(self, state: _ThreadState) -> None:
        """Read traced memory once; credit the change since the last event to one thread.

        That is this thread, unless the GIL changed hands since the last event: then the
        thread that held it before the switch is credited (a thread is mostly switched out
        after the C call that allocated, before its next event), and both are marked shared.
        """
        cur, peak = tracemalloc.get_traced_memory()
        if peak != cur:  # else the peak already stands at the current level
            tracemalloc.reset_peak()
        start = self._last_cur
        self._last_cur = cur
        seg = cur - start
        top = max(peak - start, seg)
        previous = self._last_state
        self._last_state = state
        target = state
        if previous is not None and previous is not state:
            target = previous if previous.stack else state
            for entry in previous.stack:
                entry.shared = True
            for entry in state.stack:
                entry.shared = True
        for entry in target.stack:
            entry.rise = max(entry.rise, entry.acc + top)
            entry.acc += seg

    def _begin(self, entry: _Open, lineno: int) -> None:
        entry.lineno = lineno
        entry.acc = 0
        entry.rise = 0
        entry.shared = False
        if self.native:
            entry.native = _native_now()

    def _close(self, entry: _Open) -> None:
        line = entry.stats.get(entry.lineno)
        if line is None:
            line = entry.stats[entry.lineno] = [0, 0, 0, 0, 0]
        line[_HITS] += 1
        if entry.shared:
            line[_SHARED] += 1
        if not entry.counted:
            return
        line[_INC] += entry.acc
        line[_PEAK] = max(line[_PEAK], entry.rise)
        if self.native:
            line[_NATIVE] += _native_now() - entry.native

    # -- tracemalloc scope ----------------------------------------------------
    def _start_tracing(self) -> None:
        if tracemalloc.is_tracing():
            self._owns_tracemalloc = False
        else:
            tracemalloc.start(1)
            self._owns_tracemalloc = True
        tracemalloc.reset_peak()
        self._last_cur = tracemalloc.get_traced_memory()[0]
        self._last_state = None

    def _stop_tracing(self) -> None:
        # When tracemalloc was already on, its traces predate this scope: "kept" is then
        # read once, when the result is built, instead of once per scope.
        if self._owns_tracemalloc:
            self._collect_kept(self._kept)
            tracemalloc.stop()
            self._owns_tracemalloc = False
        else:
            self._borrowed = True

    def _collect_kept(self, into: dict[tuple[str, int], list[int]]) -> None:
        """Blocks still alive, by the chosen line that allocated them (read from the traces)."""
        files = {code.co_filename for code in self.codes}
        if not tracemalloc.is_tracing() or not files:
            return
        snapshot = tracemalloc.take_snapshot()
        snapshot = snapshot.filter_traces([tracemalloc.Filter(True, name) for name in files])
        for stat in snapshot.statistics("lineno"):
            frame = stat.traceback[0]
            key = (frame.filename, frame.lineno)
            slot = into.setdefault(key, [0, 0])
            slot[0] += stat.size
            slot[1] += stat.count

    # -- the result ---------------------------------------------------------
    def result(self, **meta: Any) -> LineProfile:
        """The profile so far, one entry per chosen function that ran, in file/line order."""
        from memwatch.lines.source import code_lines, source_lines

        with self._lock:
            merged: dict[CodeType, dict[int, list[int]]] = {}
            for state in self._threads:
                for code, stats in state.stats.items():
                    target = merged.setdefault(code, {})
                    for lineno, values in stats.items():
                        slot = target.setdefault(lineno, [0, 0, 0, 0, 0])
                        slot[_HITS] += values[_HITS]
                        slot[_INC] += values[_INC]
                        slot[_PEAK] = max(slot[_PEAK], values[_PEAK])
                        slot[_NATIVE] += values[_NATIVE]
                        slot[_SHARED] += values[_SHARED]
            calls = dict(self._calls)
            kept = {key: list(value) for key, value in self._kept.items()}
            if self._borrowed:
                self._collect_kept(kept)
            threads = len(self._threads)
        functions = []
        for code in sorted(merged, key=lambda c: (c.co_filename, c.co_firstlineno)):
            stats = merged[code]
            text = source_lines(code.co_filename)
            rows = []
            for lineno in code_lines(code):
                values = stats.get(lineno, [0, 0, 0, 0, 0])
                kept_size, kept_count = kept.get((code.co_filename, lineno), (0, 0))
                rows.append(
                    LineStat(
                        lineno=lineno,
                        source=text[lineno - 1] if 0 < lineno <= len(text) else "",
                        hits=values[_HITS],
                        increment=values[_INC],
                        peak=values[_PEAK],
                        kept=kept_size,
                        blocks=kept_count,
                        native=values[_NATIVE] if self.native else None,
                        shared=values[_SHARED],
                    )
                )
            functions.append(
                FunctionLines(
                    name=code.co_name,
                    qualname=code.co_qualname,
                    filename=code.co_filename,
                    first_line=code.co_firstlineno,
                    calls=calls.get(code, 0),
                    lines=tuple(rows),
                )
            )
        return LineProfile(
            functions=tuple(functions),
            duration=time.perf_counter() - self._started,
            native=self.native,
            threads=max(threads, 1),
            **meta,
        )
