"""The plugin's fixtures in generated test files."""

from __future__ import annotations

import pytest

from memwatch.model.base import read_document
from memwatch.model.pytest import PytestSession
from memwatch.plugin.report import JSON_NAME


def test_memwatch_handle_measure_profile_and_detect_leaks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        KEPT = []

        def test_measure(memwatch):
            with memwatch.measure() as m:
                data = bytearray(30_000_000)
                data[::4096] = b"x" * len(data[::4096])
                del data
            assert 25_000_000 < m.peak < 60_000_000
            assert m.duration > 0 and m.peak_source in ("VmHWM", "sampler")

        def test_profile(memwatch):
            with memwatch.profile(sample_interval_sec=0.005) as p:
                p.mark_phase_start("load")
                data = bytearray(20_000_000)
                data[::4096] = b"x" * len(data[::4096])
                p.mark_phase_end("load")
            assert [s.name for s in p.get_phase_stats()] == ["load"]

        def test_detect(memwatch):
            report = memwatch.detect_leaks(lambda: KEPT.append(bytearray(2000)), max_growth="1 KiB")
            assert report.leak_detected and not report.passed

        def test_leak_detector(leak_detector):
            import memwatch
            assert leak_detector(lambda: [1, 2, 3]).passed
            try:
                leak_detector.assert_no_leaks(lambda: KEPT.append(bytearray(2000)), max_growth="1 KiB")
            except memwatch.LeakDetected as exc:
                assert "LEAK" in str(exc)
            else:
                raise AssertionError("expected LeakDetected")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)


def test_memory_profiler_result_is_kept_in_the_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_pipeline(memory_profiler):
            memory_profiler.mark_phase_start("build")
            data = bytearray(20_000_000)
            data[::4096] = b"x" * len(data[::4096])
            memory_profiler.mark_phase_end("build")
    """)
    result = pytester.runpytest("--memwatch-report", "out")
    assert result.ret == 0
    record = read_document(pytester.path / "out" / JSON_NAME, expected=PytestSession).tests[0]
    profile = record.profile_result
    assert profile is not None
    assert [p.name for p in profile.phase_stats] == ["build"]
    assert profile.phase_stats[0].delta_memory > 10_000_000


def test_assert_freed_fails_with_the_retention_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        class Session:
            def close(self):
                pass

        REGISTRY = {}

        def test_freed(assert_freed):
            s = Session()
            assert_freed(s, "session")
            s.close()
            del s

        def test_kept(assert_freed):
            s = Session()
            assert_freed(s, "session")
            REGISTRY["current"] = s

        def test_fails_on_its_own(assert_freed):
            s = Session()
            assert_freed(s, "session")
            assert s is None, "the test's own failure"
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=2)  # no extra error at teardown for the failed test
    result.stdout.fnmatch_lines(["E       AssertionError: the test's own failure"])
    result.stdout.fnmatch_lines(
        [
            "*_ test_kept _*",
            "assert_freed: 1 of 1 watched objects outlived the test body",
            "  session (*Session) is still alive: module *.REGISTRY -> dict[[]'current'[]] -> *Session*",
        ]
    )


def test_optional_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import gc

        def test_gc_monitor(gc_monitor):
            for _ in range(3):
                gc.collect()
            report = gc_monitor.stop()
            assert report.collections >= 3

        def test_memory_guard(memory_guard):
            assert memory_guard.level.name.lower() in ("normal", "ok", "warning", "critical", "emergency")

        def test_memory_pressure(memory_pressure):
            memory_pressure.allocate_memory(5)
            assert memory_pressure.allocated >= 5_000_000
    """)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=3)


def test_memory_gc_marker_records_the_pauses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import gc
        import pytest

        @pytest.mark.memory_gc
        def test_collects():
            for _ in range(5):
                gc.collect()
    """)
    pytester.makefile(".yaml", memwatch="gc:\n  pause_p95_ms: 0.000001\n")
    result = pytester.runpytest()  # the marker alone turns the plugin on
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.memory_gc: garbage-collection pauses of the test body over "
            "budget: p95 pause * ms > 1e-06 ms"
        ]
    )
