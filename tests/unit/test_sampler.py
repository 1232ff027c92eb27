from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from memwatch.errors import ConfigError, UsageError
from memwatch.model.timeline import Timeline
from memwatch.sampling.sampler import PhaseBook, Sampler, _Buffer
from memwatch.sampling.sources import Source, validate_signals


class CountingSource(Source):
    """Reads 0, 1, 2, ...; optionally slow, to make samples late."""

    def __init__(self, delay: float = 0.0) -> None:
        self.names = ("n", "twice")
        self.units = {"n": "count", "twice": "count"}
        self.unavailable = {}
        self.count = 0
        self.delay = delay
        self.closed = False

    def read(self, full: bool = True) -> list[float]:
        if self.delay:
            time.sleep(self.delay)
        value = float(self.count)
        self.count += 1
        return [value, 2 * value]

    def close(self) -> None:
        self.closed = True


# -- PhaseBook ------------------------------------------------------------------
def test_phases_nest_and_repeat() -> None:
    book = PhaseBook()
    book.start("outer", 10.0)
    book.start("load", 11.0)
    book.end("load", 12.0)
    book.start("load", 13.0)
    book.end("load", 14.0)
    book.end("outer", 15.0)
    assert [(p.name, p.start, p.end, p.depth) for p in book.snapshot(10.0)] == [
        ("outer", 0.0, 5.0, 0),
        ("load", 1.0, 2.0, 1),
        ("load", 3.0, 4.0, 1),
    ]


def test_end_without_name_closes_innermost_and_close_all() -> None:
    book = PhaseBook()
    book.start("a", 0.0)
    book.start("b", 1.0)
    book.end(None, 2.0)
    assert book.open_names == ["a"]
    book.close_all(3.0)
    assert [p.end for p in book.snapshot(0.0)] == [3.0, 2.0]


def test_ending_a_phase_that_is_not_open_names_the_open_ones() -> None:
    book = PhaseBook()
    book.start("a", 0.0)
    with pytest.raises(UsageError, match=r"phase 'x' is not open \(open phases: \['a'\]\)"):
        book.end("x", 1.0)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_phase_needs_a_name(name: object) -> None:
    with pytest.raises(UsageError, match="non-empty name"):
        PhaseBook().start(name, 0.0)  # type: ignore[arg-type]


# -- bounded buffer ---------------------------------------------------------------
def test_buffer_grows_then_downsamples_and_keeps_exact_peaks() -> None:
    buf = _Buffer(1, cap=16)
    for i in range(100):
        buf.add(float(i), [float(i if i != 37 else 1000)])
    assert buf.n <= 16
    assert buf.factor == 8  # 100 samples into 16 slots: 16 -> 32 -> 64 -> 128 ticks
    kept = buf.t[: buf.n]
    assert np.all(np.diff(kept) == 8.0)  # evenly spaced after downsampling
    assert kept[0] == 0.0
    assert buf.peaks[0] == 1000.0  # sample 37 was dropped from the series but not from the peak


def test_buffer_without_cap_pressure_keeps_everything() -> None:
    buf = _Buffer(2, cap=10_000)
    for i in range(3000):
        buf.add(i * 0.01, [i, -i])
    assert buf.n == 3000
    assert buf.factor == 1
    assert buf.v[1][2999] == -2999


# -- signals ---------------------------------------------------------------------
def test_validate_signals_defaults() -> None:
    assert validate_signals(None, other_process=True) == ("rss", "processes")
    assert validate_signals(None, mode="process") == ("rss",)
    assert "rss" in validate_signals(None)


def test_unknown_probe_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown probe 'bogus'; known probes: rss"):
        validate_signals(["bogus"])
    with pytest.raises(ConfigError, match="unknown probe 'bogus'"):
        Sampler(0.01, ["rss", "bogus"])


def test_in_process_signal_cannot_be_read_from_another_process() -> None:
    with pytest.raises(ConfigError, match="probe 'py_blocks' cannot be read from another process"):
        validate_signals(["py_blocks"], other_process=True)
    with pytest.raises(ConfigError, match="unknown probe 'bogus'; probes read from another process: rss"):
        validate_signals(["bogus"], other_process=True)
    with pytest.raises(ConfigError, match="cannot be read in process mode; use: rss, vms"):
        validate_signals(["processes"], mode="process")


@pytest.mark.parametrize("interval", [0, -0.01, float("nan"), float("inf"), True, "10ms"])
def test_bad_interval(interval: object) -> None:
    with pytest.raises(ConfigError, match="invalid sampling interval"):
        Sampler(interval)  # type: ignore[arg-type]


def test_bad_mode_and_cap() -> None:
    with pytest.raises(ConfigError, match="invalid sampler mode"):
        Sampler(0.01, mode="fork")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 16"):
        Sampler(0.01, max_samples=3)


# -- the thread loop with a fake source ---------------------------------------------
def test_thread_sampler_records_in_order_and_stops_promptly() -> None:
    source = CountingSource()
    sampler = Sampler(0.005, source=source).start()
    time.sleep(0.1)
    sampler.mark_phase_start("p")
    sampler.sample()
    sampler.mark_phase_end("p")
    began = time.monotonic()
    timeline = sampler.stop()
    assert time.monotonic() - began < 0.5  # wakes on the event, not after a sleep
    assert source.closed
    n = timeline.signal("n")
    assert len(timeline) >= 5
    assert np.all(np.diff(timeline.t) >= 0)
    assert np.array_equal(n, np.arange(n.size))  # every reading stored, in order
    assert np.array_equal(timeline.signal("twice"), 2 * n)
    assert timeline.units == {"n": "count", "twice": "count"}
    assert timeline.peaks == {"n": n[-1], "twice": 2 * n[-1]}
    assert [p.name for p in timeline.phases] == ["p"]
    assert timeline.mode == "thread"
    assert timeline.bounded == "downsample"
    assert not sampler.running


def test_slow_source_counts_missed_and_late_samples() -> None:
    sampler = Sampler(0.01, source=CountingSource(delay=0.025)).start()
    time.sleep(0.3)
    timeline = sampler.stop()
    # each read takes 2.5 intervals: at most ~1 sample in 3 ticks can be on time
    assert timeline.missed_samples >= 5
    assert timeline.max_lateness > 0.005
    expected = 0.3 / 0.01
    assert len(timeline) + timeline.missed_samples >= expected * 0.6


def test_open_phases_are_closed_at_stop_and_snapshot_is_a_copy() -> None:
    sampler = Sampler(0.01, source=CountingSource()).start()
    sampler.mark_phase_start("left-open")
    during = sampler.timeline()
    assert during.phases[0].end is None
    final = sampler.stop()
    assert final.phases[0].end is not None
    assert final.phases[0].end >= final.phases[0].start


def test_start_twice_and_stop_before_start() -> None:
    sampler = Sampler(0.01, source=CountingSource())
    with pytest.raises(UsageError, match="never started"):
        sampler.stop()
    sampler.start()
    with pytest.raises(UsageError, match="already started"):
        sampler.start()
    sampler.stop()
    sampler.stop()  # idempotent


def test_timeline_json_round_trip() -> None:
    with Sampler(0.005, source=CountingSource()) as sampler:
        sampler.mark_phase_start("x")
        time.sleep(0.03)
        sampler.mark_phase_end("x")
    timeline = sampler.timeline()
    again = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())))
    assert again == timeline
    assert again.peaks == timeline.peaks
    assert again.max_lateness == timeline.max_lateness
    assert [p.name for p in again.phases] == ["x"]


def test_a_costly_signal_is_read_every_kth_sample_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from memwatch import probes
    from memwatch.probes.base import Signal
    from memwatch.sampling.sources import SelfSource

    def slow() -> float:
        end = time.perf_counter() + 200e-6  # 200 µs: ten times a 20 µs budget
        while time.perf_counter() < end:
            pass
        return 7.0

    real = probes.signal

    def fake(name: str) -> Signal:
        if name == "slow":
            return Signal("slow", "count", slow)
        return real(name)

    monkeypatch.setattr("memwatch.sampling.sources.probe_signal", fake)
    source = SelfSource(["rss", "slow"], budget=20e-6)
    timed = [source.read(full=False) for _ in range(200)]
    slow_values = [v[1] for v in timed]
    read = [v for v in slow_values if not math.isnan(v)]
    assert all(v == 7.0 for v in read)
    assert 2 <= len(read) <= 60  # every ~20th sample once measured, not all 200
    assert all(not math.isnan(v[0]) for v in timed)  # the first signal is always read
    assert source.decimated["slow"] >= 10
    assert not math.isnan(source.read(full=True)[1])  # a forced sample reads everything
    unbudgeted = SelfSource(["rss", "slow"], budget=None)
    assert all(not math.isnan(unbudgeted.read(full=False)[1]) for _ in range(5))
    assert unbudgeted.decimated == {}


def test_the_sampling_threads_own_cpu_time_is_reported() -> None:
    class BusySource(CountingSource):
        def read(self, full: bool = True) -> list[float]:
            end = time.thread_time() + 0.002  # 2 ms of CPU per reading
            while time.thread_time() < end:
                pass
            return super().read(full)

    sampler = Sampler(0.01, source=BusySource()).start()
    time.sleep(0.3)
    timeline = sampler.stop()
    assert 0.02 < timeline.sampler_cpu < 0.5


def test_a_long_run_is_downsampled_past_the_cap() -> None:
    sampler = Sampler(0.001, source=CountingSource(), max_samples=16).start()
    time.sleep(0.2)
    timeline = sampler.stop()
    assert len(timeline) <= 16
    assert timeline.downsampled >= 2
    assert timeline.capacity == 16
    n = timeline.signal("n")
    assert timeline.peaks["n"] >= n.max()  # the peak of every sample, kept or dropped
    assert np.all(np.diff(n) > 0)
