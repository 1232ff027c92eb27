"""The one peak sampler: maxima of its readers, a prompt stop, readings skipped at the cap."""

from __future__ import annotations

import threading
import time

from memwatch.sampling.peak import PeakSampler


class Script:
    """A reader that returns the given values in turn, then the last one forever."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            value = self.values[min(self.calls, len(self.values) - 1)]
            self.calls += 1
        return value


def test_keeps_the_maximum_of_each_reader_between_start_and_stop() -> None:
    up_down = Script(5, 9, 40, 3, 2)
    flat = Script(7)
    sampler = PeakSampler({"a": up_down, "b": flat}, 0.001).start()
    deadline = time.monotonic() + 5
    while up_down.calls < 6 and time.monotonic() < deadline:
        time.sleep(0.001)
    peaks = sampler.stop()
    assert peaks == {"a": 40, "b": 7}
    assert sampler.readings == up_down.calls


def test_first_and_last_readings_are_taken_even_without_a_tick() -> None:
    reader = Script(1, 99)
    with PeakSampler({"x": reader}, interval=60) as sampler:  # the thread never wakes on its own
        pass
    assert reader.calls == 2
    assert sampler.peaks == {"x": 99}


def test_stop_does_not_wait_for_the_interval() -> None:
    sampler = PeakSampler({"x": Script(1)}, interval=30).start()
    began = time.monotonic()
    sampler.stop()
    assert time.monotonic() - began < 5


def test_memory_error_in_the_thread_skips_that_reading() -> None:
    calls = []

    def reader() -> float:
        calls.append(1)
        if 2 <= len(calls) <= 4:
            raise MemoryError
        return float(len(calls))

    sampler = PeakSampler({"x": reader}, 0.001).start()
    deadline = time.monotonic() + 5
    while len(calls) < 7 and time.monotonic() < deadline:
        time.sleep(0.001)
    peaks = sampler.stop()
    assert sampler._thread.is_alive() is False
    assert peaks["x"] >= 5  # readings after the failures count


def test_on_sample_gets_every_kth_reading() -> None:
    seen: list[dict[str, float]] = []
    reader = Script(*range(1, 100))
    with PeakSampler({"x": reader}, interval=60, on_sample=seen.append, every=2) as sampler:
        sampler.read()  # 2nd reading (the 1st is at start)
        sampler.read()  # 3rd
    # readings 1 (start), 2, 3 and 4 (stop): the 2nd and the 4th are handed over
    assert [s["x"] for s in seen] == [2, 4]
