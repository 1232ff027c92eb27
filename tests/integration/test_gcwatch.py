"""GCMonitor and friends on real workloads with known cycle garbage."""

from __future__ import annotations

import asyncio
import gc
import logging
import platform
import sys
import tracemalloc
from collections.abc import Iterator

import pytest

from memwatch.errors import OperationError, UsageError
from memwatch.gcwatch import (
    GCMonitor,
    GCOptimizer,
    GCPerformanceValidator,
    gc_performance_monitor,
    measure_latency,
)
from memwatch.model.base import dump_document, load_document
from memwatch.model.gc import GCReport

pytestmark = pytest.mark.integration


class Node:
    """Half of a reference cycle: only the cycle collector can free it."""

    def __init__(self, payload: object = None) -> None:
        self.other: Node | None = None
        self.payload = payload


def make_pairs(n: int, payload: int = 0) -> None:
    for _ in range(n):
        a, b = Node(bytes(payload) if payload else None), Node()
        a.other, b.other = b, a


@pytest.fixture(autouse=True)
def gc_state() -> Iterator[None]:
    """Every test starts collected, with default collector settings, and leaves them as found."""
    thresholds, enabled, debug = gc.get_threshold(), gc.isenabled(), gc.get_debug()
    collect = gc.collect
    callbacks = list(gc.callbacks)
    gc.enable()
    gc.collect()
    yield
    gc.set_debug(debug)
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()
    assert gc.collect is collect, "gc.collect was not restored"
    assert gc.callbacks == callbacks, "a callback was left in gc.callbacks"


def test_forced_collection_of_known_cycle_garbage() -> None:
    n = 20_000
    with GCMonitor() as gm:
        make_pairs(n)
        gc.collect()
    report = gm.report
    assert report.collected >= 2 * n
    assert report.forced >= 1
    assert report.generations["gen2"].forced >= 1
    assert report.pauses["gen2"].count >= 1
    assert report.pauses["gen2"].max_ms > 0
    assert len(report.events) == report.collections
    assert report.events.duration_ms.min() > 0
    assert report.interpreter.version == platform.python_version()
    assert report.interpreter.thresholds == gc.get_threshold()
    assert report.tracked_objects is not None
    assert report.tracked_objects > 1000
    assert report.dropped_collections == report.unmatched_events == 0


def test_automatic_collections_are_counted_as_automatic() -> None:
    n = 30_000
    with GCMonitor() as gm:
        make_pairs(n)
    report = gm.report
    assert report.generations["gen0"].automatic >= 10  # 60k tracked objects at threshold0 <= 2000
    assert report.forced == 0
    assert report.automatic == report.collections
    assert report.collected >= n  # most pairs die in young collections
    assert report.pauses["gen0"].p50_ms > 0
    assert report.pauses["all"].share > 0


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the trigger rule is exact on 3.11 only")
def test_a_collect_reference_taken_before_the_monitor_still_counts_as_forced() -> None:
    collect = gc.collect  # bypasses the wrapper the monitor installs
    with GCMonitor() as gm:
        collect()
    assert gm.report.forced == 1


def test_collections_while_disabled_are_forced() -> None:
    gc.disable()
    with GCMonitor() as gm:
        make_pairs(5000)
        gc.collect(0)
    assert gm.report.forced == gm.report.collections == 1
    assert gm.report.generations["gen0"].forced == 1


def test_collections_per_operation() -> None:
    with GCMonitor() as gm:
        for _ in range(200):
            make_pairs(50)
            gm.count_operation()
    report = gm.report
    assert report.operations == 200
    assert report.collections > 0
    assert report.collections_per_operation == pytest.approx(report.collections / 200)


def test_promotions_of_objects_kept_alive() -> None:
    keep = []
    with GCMonitor() as gm:
        for _ in range(50_000):
            keep.append(Node())
    assert gm.report.promotions["gen0->gen1"] >= 25_000
    del keep


def test_uncollectable_objects_are_reported_with_their_types() -> None:
    start = len(gc.garbage)
    gc.set_debug(gc.DEBUG_SAVEALL)  # collected cycles go to gc.garbage instead of being freed
    try:
        with GCMonitor() as gm:
            make_pairs(100)
            gc.collect()
    finally:
        gc.set_debug(0)
        del gc.garbage[start:]
    unc = gm.report.uncollectable
    assert unc.garbage_growth >= 200
    assert unc.types.get("Node", 0) >= 200
    verdict = GCPerformanceValidator({"max_pause_p95_ms": None}).validate_gc_efficiency(gm.report)
    assert [c.name for c in verdict.failures] == ["uncollectable"]


def test_bytes_reclaimed_per_ms_when_tracemalloc_traces() -> None:
    tracemalloc.start()
    gc.disable()  # keep every pair for the one forced collection
    try:
        with GCMonitor() as gm:
            make_pairs(2000, payload=1000)  # 2 MB of payload in cycles
            gc.collect()
    finally:
        tracemalloc.stop()
    report = gm.report
    assert report.efficiency_bytes is not None
    assert report.efficiency_bytes > 0
    assert float(report.events.freed_bytes[-1]) >= 2_000_000


def test_monitor_entered_twice_stopped_without_start_or_read_early() -> None:
    gm = GCMonitor()
    with pytest.raises(UsageError, match="never started"):
        _ = gm.report
    with pytest.raises(UsageError, match="without start"):
        gm.stop()
    with gm:
        with pytest.raises(UsageError, match="already running"), gm:
            pass
        with pytest.raises(UsageError, match="still running"):
            _ = gm.report
    assert isinstance(gm.report, GCReport)
    with gm:  # a stopped monitor may run again: a fresh span
        gc.collect()
    assert gm.report.forced >= 1


def test_monitor_stops_cleanly_when_the_workload_raises() -> None:
    gm = GCMonitor()

    def work() -> None:
        with gm:
            gc.collect()
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        work()
    assert not gm.running
    assert gm.report.forced >= 1  # the report is still there; the fixture checks the callbacks


def test_nested_monitors_each_see_the_collection() -> None:
    with GCMonitor() as outer:
        with GCMonitor() as inner:
            gc.collect()
        gc.collect()
    assert inner.report.forced == 1
    assert outer.report.forced == 2


def test_json_round_trip_of_a_real_report() -> None:
    with GCMonitor(component="pairs") as gm:
        make_pairs(5000)
        gc.collect()
    again = load_document(dump_document(gm.report), expected=GCReport)
    assert again == gm.report
    assert "pairs:" in again.summary()


def test_latency_with_and_without_a_collection() -> None:
    report = measure_latency(lambda: make_pairs(100), iterations=500, component="pairs")
    lat = report.latency
    assert lat is not None
    assert lat.calls == 500
    assert lat.calls_with_gc >= 10
    assert lat.calls_without_gc >= 10
    assert lat.calls_with_gc + lat.calls_without_gc == 500
    assert lat.latencies_ms.shape == (500,)
    assert report.operations == 500
    assert lat.p50_with_ms > 0
    assert lat.p50_without_ms > 0


def test_an_operation_that_raises_stops_the_run_with_the_call_number() -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 7:
            raise ValueError("broken input")

    with pytest.raises(
        OperationError,
        match=r"flaky: the operation raised ValueError: broken input "
        r"\(call 7 of 100\)",
    ) as info:
        measure_latency(flaky, iterations=100, component="flaky")
    assert isinstance(info.value.original, ValueError)
    assert "broken input" in info.value.traceback_text


def test_validator_measures_sync_and_async_operations() -> None:
    validator = GCPerformanceValidator({"max_pause_p95_ms": 100.0})

    async def handler() -> None:
        make_pairs(50)
        await asyncio.sleep(0)

    async def run() -> tuple[GCReport, GCReport]:
        a = await validator.test_gc_frequency(lambda: make_pairs(50), iterations=300, component_name="sync")
        b = await validator.test_gc_frequency(handler, iterations=300, component_name="ExpertManager")
        return a, b

    sync_report, async_report = asyncio.run(run())
    for report in (sync_report, async_report):
        assert report.operations == 300
        assert report.collections_per_operation is not None
        assert report.collections_per_operation > 0
        assert validator.validate_gc_efficiency(report).passed
    assert async_report.component == "ExpertManager"


def test_decorator_records_each_call_and_propagates_errors(caplog: pytest.LogCaptureFixture) -> None:
    @gc_performance_monitor(warn_pause_ms=0.0)
    def handle(n: int) -> int:
        make_pairs(n)
        gc.collect()
        return n

    @gc_performance_monitor
    async def ahandle() -> str:
        gc.collect()
        return "done"

    @gc_performance_monitor
    def broken() -> None:
        gc.collect()
        raise KeyError("nope")

    with caplog.at_level(logging.DEBUG, logger="memwatch.gcwatch"):
        assert handle(100) == 100
        assert asyncio.run(ahandle()) == "done"
        with pytest.raises(KeyError):
            broken()
    assert handle.__name__ == "handle"
    (report,) = handle.gc_reports  # type: ignore[attr-defined]
    assert report.forced >= 1
    assert report.operations == 1
    assert ahandle.gc_reports[-1].forced >= 1  # type: ignore[attr-defined]
    assert broken.gc_reports[-1].forced >= 1  # type: ignore[attr-defined]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("handle" in r.getMessage() and "above 0 ms" in r.getMessage() for r in warnings)


def test_optimizer_restores_thresholds_exactly_when_the_workload_raises() -> None:
    gc.set_threshold(123, 4, 5)
    opt = GCOptimizer((5000, 20, 30))
    seen = []

    def work() -> None:
        with opt:
            seen.append(gc.get_threshold())
            raise RuntimeError("workload failed")

    with pytest.raises(RuntimeError, match="workload failed"):
        work()
    assert seen == [(5000, 20, 30)]
    assert gc.get_threshold() == (123, 4, 5)
    assert not opt.active
    with pytest.raises(UsageError, match="without start"):
        opt.stop()


def test_optimizer_freeze_is_undone_exactly_and_start_twice_is_refused() -> None:
    assert gc.get_freeze_count() == 0
    gc.disable()
    opt = GCOptimizer(freeze=True).start()
    try:
        assert gc.get_freeze_count() > 0
        assert opt.frozen_objects == gc.get_freeze_count()
        with pytest.raises(UsageError, match="already started"):
            opt.start()
        with pytest.raises(UsageError, match="already frozen"):
            GCOptimizer(freeze=True).start()
    finally:
        opt.stop()
    assert gc.get_freeze_count() == 0
    assert not gc.isenabled()  # the enabled state is restored too


def test_optimizer_restores_freeze_state_when_the_workload_raises() -> None:
    with pytest.raises(ValueError, match="bad"), GCOptimizer((900,), freeze=True):
        raise ValueError("bad")
    assert gc.get_freeze_count() == 0


def test_freeze_removes_the_gen2_pause_of_long_lived_objects_and_the_advisor_says_so() -> None:
    longlived: list[list[object]] = [[] for _ in range(300_000)]  # 300k tracked, long-lived objects

    def full_pauses() -> GCReport:
        with GCMonitor() as gm:
            for _ in range(3):
                gc.collect()
        return gm.report

    try:
        before = full_pauses()
        with GCOptimizer(freeze=True):
            after = full_pauses()
    finally:
        del longlived
    # min of three pauses each: a full collection no longer traverses the frozen heap
    before_ms = float(before.events.duration_ms.min())
    after_ms = float(after.events.duration_ms.min())
    assert after_ms < before_ms / 3, (before_ms, after_ms)
    advice = GCOptimizer.advise(before, long_pause_ms=min(1.0, before.pauses["gen2"].max_ms))
    assert advice.freeze
    assert "gc.freeze()" in advice.recommendations[0].reason
    assert before.tracked_objects is not None
    assert before.tracked_objects >= 300_000


@pytest.mark.untraced  # coverage's tracer allocates, so the collector runs before the peak is read
def test_cycle_garbage_comes_back_after_a_full_collection() -> None:
    from memwatch.gcwatch import measure_reclamation

    def workload() -> None:
        gc.disable()
        try:
            make_pairs(50_000)  # 100k objects, all in cycles, unreachable at return
        finally:
            gc.enable()

    rec = measure_reclamation(workload, trim=False)
    blocks = rec.signal("py_blocks")
    assert blocks.peak - blocks.before >= 100_000
    assert blocks.returned >= 0.9
    assert rec.rss_after_trim is None
    assert rec.remedy == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallinfo2/malloc_trim need glibc")
def test_rss_that_stays_high_while_heaps_are_empty_gets_the_malloc_trim_remedy() -> None:
    from memwatch.gcwatch import measure_reclamation
    from memwatch.probes import native

    if native.native_reason():
        pytest.skip(f"native heap unreadable here: {native.native_reason()}")
    native.malloc_trim(0)  # start from a trimmed heap
    pins: list[bytes] = []

    def burst() -> list[bytes]:
        data = []
        for i in range(100_000):  # 100 MB of 1000-byte blocks from malloc (above pymalloc's 512 B)
            data.append(bytes(1000))
            if i % 1000 == 999:
                pins.append(bytes(1500))  # a few small survivors keep the heap from shrinking
        return data

    rec = measure_reclamation(burst)
    rss, heap = rec.signal("rss"), rec.signal("native_heap")
    assert heap.peak - heap.before >= 90_000_000
    assert heap.returned >= 0.95
    assert rss.after - rss.before >= 50 * 2**20, "RSS was expected to stay high before the trim"
    assert rec.trim_released is not None
    assert rec.trim_released >= 50 * 2**20
    assert "malloc_trim(0)" in rec.remedy
    assert "here it returned" in rec.remedy
    pins.clear()


def test_a_workload_that_raises_is_an_operation_error() -> None:
    from memwatch.gcwatch import measure_reclamation

    def broken() -> None:
        raise OSError("disk gone")

    with pytest.raises(OperationError, match="job: the workload raised OSError: disk gone"):
        measure_reclamation(broken, component="job")


def test_collections_beyond_the_recording_limit_are_counted_not_recorded() -> None:
    with GCMonitor(max_collections=1) as gm:
        for _ in range(3):
            gc.collect()
    report = gm.report
    assert report.collections >= 3  # from gc.get_stats(): exact
    assert len(report.events) == 1
    assert report.dropped_collections >= 2
    assert "counted but not recorded" in report.summary()


def test_changing_thresholds_inside_the_span_is_noted() -> None:
    with GCMonitor() as gm, GCOptimizer((5000,)):
        gc.collect()
    assert gm.report.forced == 1  # the gc.collect wrapper still tells
    assert gm.report.interpreter.forced_detection == (
        "gc.collect wrapper + 3.11 trigger rule" if sys.version_info[:2] == (3, 11) else "gc.collect wrapper"
    )
    with GCMonitor() as gm2:
        gc.set_threshold(4321, 10, 10)
    assert gm2.report.interpreter.forced_detection == "gc.collect wrapper (thresholds changed)"


@pytest.mark.parametrize("value", [0, -5, 1.5, True])
def test_bad_max_collections_is_a_config_error(value: object) -> None:
    from memwatch.errors import ConfigError

    with pytest.raises(ConfigError, match="max_collections must be a positive integer"):
        GCMonitor(max_collections=value)  # type: ignore[arg-type]


def test_a_replacement_of_gc_collect_made_while_monitoring_is_left_alone() -> None:
    from memwatch.gcwatch import forced

    original = gc.collect
    gm = GCMonitor().start()
    ours = gc.collect
    assert ours is not original

    def theirs(generation: int = 2) -> int:
        return ours(generation)

    gc.collect = theirs
    try:
        gm.stop()
        assert gc.collect is theirs  # not clobbered by our restore
        gc.collect()  # still goes through our wrapper, which no longer records
        assert forced.intervals_between(0, 2**62) == []
    finally:
        gc.collect = original


def test_the_interpreters_own_duration_and_candidates_are_used_when_the_callback_gives_them() -> None:
    # Python 3.15 adds "duration" (seconds) and "candidates" to the stop info; feed the
    # monitor's registered callback such a pair directly, between real collections.
    tracemalloc.start()  # the general (non-fast) callback path reads the 3.15 keys
    try:
        with GCMonitor() as gm:
            callback = gc.callbacks[-1]
            callback("start", {"generation": 2, "collected": 0, "uncollectable": 0})
            callback(
                "stop",
                {"generation": 2, "collected": 300, "uncollectable": 0, "duration": 0.25, "candidates": 1000},  # type: ignore[dict-item]  # typeshed: int values only; 3.15 passes a float duration
            )
    finally:
        tracemalloc.stop()
    report = gm.report
    assert report.interpreter.duration_source == "interpreter"
    fed = report.events.collected == 300
    assert float(report.events.duration_ms[fed][0]) == pytest.approx(250.0)
    assert float(report.events.candidates[fed][0]) == 1000.0
    assert report.pauses["gen2"].max_ms == pytest.approx(250.0)


def test_collections_run_by_another_thread_are_seen() -> None:
    import threading

    def worker() -> None:
        make_pairs(1000)
        gc.collect()

    with GCMonitor() as gm:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert gm.report.forced >= 1
    assert gm.report.collected >= 2000


def test_decorator_on_a_method() -> None:
    class Service:
        def __init__(self) -> None:
            self.calls = 0

        @gc_performance_monitor
        def handle(self, n: int) -> int:
            self.calls += 1
            make_pairs(n)
            gc.collect()
            return n * 2

    svc = Service()
    assert svc.handle(10) == 20
    assert svc.calls == 1
    assert Service.handle.gc_reports[-1].forced >= 1  # type: ignore[attr-defined]
