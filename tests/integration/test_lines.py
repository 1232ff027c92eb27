"""The line profiler on real allocations: decorator, threads, generators, coroutines, recursion."""

from __future__ import annotations

import asyncio
import gc
import threading
import tracemalloc
from collections.abc import Generator, Iterator

import pytest

import memwatch
from memwatch.errors import UsageError
from memwatch.lines import decorator
from memwatch.model.lines import FunctionLines, LineProfile

MIB = 2**20

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_tracer() -> Iterator[None]:
    decorator.reset()
    gc.collect()
    yield
    decorator.reset()
    assert not tracemalloc.is_tracing(), "the profiler left tracemalloc on"


def _only(profile: LineProfile) -> FunctionLines:
    assert len(profile.functions) == 1
    return profile.functions[0]


def _line(function: FunctionLines, text: str) -> tuple[int, int, int, int]:
    (row,) = [s for s in function.lines if text in s.source]
    return row.hits, row.increment, row.peak, row.kept


def test_a_function_lines_get_exact_bytes() -> None:
    @memwatch.profile
    def build() -> bytearray:
        keep = bytearray(40 * MIB)
        temp = bytearray(20 * MIB)
        del temp
        return keep

    kept = build()
    f = _only(build.line_profile())  # type: ignore[attr-defined]
    hits, inc, peak, kept_bytes = _line(f, "keep = bytearray")
    assert hits == 1
    assert 40 * MIB <= inc < 40 * MIB + 4096
    assert 40 * MIB <= peak < 40 * MIB + 4096
    assert 40 * MIB <= kept_bytes < 40 * MIB + 4096
    hits, inc, peak, kept_bytes = _line(f, "temp = bytearray")
    assert 20 * MIB <= peak < 20 * MIB + 4096
    assert kept_bytes < 4096  # freed before the call returned
    _, inc_del, _, _ = _line(f, "del temp")
    assert inc_del <= -20 * MIB + 4096
    assert f.calls == 1
    del kept


def test_threads_each_see_their_own_lines() -> None:
    @memwatch.profile
    def worker(size: int, out: list[bytearray]) -> None:
        block = bytearray(size)
        out.append(block)

    out: list[bytearray] = []
    threads = [threading.Thread(target=worker, args=(n * MIB, out)) for n in (8, 16, 24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    f = _only(worker.line_profile())  # type: ignore[attr-defined]
    hits, inc, peak, kept = _line(f, "block = bytearray")
    assert hits == 3
    assert 48 * MIB <= inc < 48 * MIB + 64 * 1024
    assert 24 * MIB <= peak < 24 * MIB + 64 * 1024  # the largest single hit
    assert 48 * MIB <= kept < 48 * MIB + 64 * 1024
    assert f.calls == 3


def test_generator_is_profiled_across_resumes() -> None:
    @memwatch.profile
    def chunks(n: int) -> Iterator[bytearray]:
        for _ in range(n):
            block = bytearray(5 * MIB)
            yield block

    got = list(chunks(4))
    f = _only(chunks.line_profile())  # type: ignore[attr-defined]
    hits, inc, _, kept = _line(f, "block = bytearray")
    assert hits == 4
    assert 20 * MIB <= inc < 20 * MIB + 64 * 1024
    assert 20 * MIB <= kept < 20 * MIB + 64 * 1024
    assert len(got) == 4


def test_generator_send_and_throw_pass_through() -> None:
    @memwatch.profile
    def echo() -> Generator[int, int, None]:
        value = 0
        while True:
            try:
                value = yield value * 2
            except ValueError:
                value = -1

    gen = echo()
    assert next(gen) == 0
    assert gen.send(5) == 10
    assert gen.throw(ValueError()) == -2
    gen.close()


def test_coroutine_is_profiled() -> None:
    @memwatch.profile
    async def fetch() -> int:
        data = bytearray(12 * MIB)
        await asyncio.sleep(0)
        more = bytearray(6 * MIB)
        return len(data) + len(more)

    assert asyncio.run(fetch()) == 18 * MIB
    f = _only(fetch.line_profile())  # type: ignore[attr-defined]
    assert _line(f, "data = bytearray")[1] >= 12 * MIB
    assert _line(f, "more = bytearray")[2] >= 6 * MIB


def test_methods_and_classmethods() -> None:
    class Store:
        @memwatch.profile
        def fill(self) -> bytearray:
            return bytearray(7 * MIB)

        @memwatch.profile
        @classmethod
        def make(cls) -> bytearray:
            return bytearray(3 * MIB)

    assert len(Store().fill()) == 7 * MIB
    assert len(Store.make()) == 3 * MIB
    names = {f.qualname for f in decorator.active_tracer().result().functions}
    assert any(name.endswith("Store.fill") for name in names)
    assert any(name.endswith("Store.make") for name in names)


def test_recursion_counts_memory_once() -> None:
    @memwatch.profile
    def nest(depth: int, out: list[bytearray]) -> None:
        out.append(bytearray(2 * MIB))
        if depth:
            nest(depth - 1, out)

    out: list[bytearray] = []
    nest(4, out)
    f = _only(nest.line_profile())  # type: ignore[attr-defined]
    hits, inc, _, _ = _line(f, "out.append")
    assert hits == 5
    assert 2 * MIB <= inc < 2 * MIB + 64 * 1024  # the inner levels are inside the outer call's line
    hits, inc, _, _ = _line(f, "nest(depth - 1, out)")
    assert hits == 4
    assert 8 * MIB <= inc < 8 * MIB + 64 * 1024
    assert f.increment < 11 * MIB  # 10 MiB in all, not counted once per level


def test_async_generator_is_refused_with_a_message() -> None:
    async def agen() -> object:
        yield 1

    with pytest.raises(UsageError, match="async generator"):
        memwatch.profile(agen)


def test_not_a_function_is_refused() -> None:
    with pytest.raises(UsageError, match="needs a Python function"):
        memwatch.profile(len)


def test_exception_inside_closes_the_line() -> None:
    @memwatch.profile
    def boom() -> None:
        block = bytearray(4 * MIB)
        raise RuntimeError(len(block))

    with pytest.raises(RuntimeError):
        boom()
    f = _only(boom.line_profile())  # type: ignore[attr-defined]
    assert _line(f, "block = bytearray")[1] >= 4 * MIB


def test_tracemalloc_already_on_is_left_on() -> None:
    tracemalloc.start(1)
    try:

        @memwatch.profile
        def grab() -> bytearray:
            return bytearray(9 * MIB)

        block = grab()
        assert tracemalloc.is_tracing()
        f = _only(grab.line_profile())  # type: ignore[attr-defined]
        assert _line(f, "return bytearray")[3] >= 9 * MIB
        del block
    finally:
        tracemalloc.stop()


def test_kept_ignores_another_threads_allocations() -> None:
    stop = threading.Event()
    noise: list[bytes] = []

    def churn() -> None:  # not profiled: allocates while the profiled function runs
        while not stop.is_set():
            noise.append(b"n" * 100_000)
            del noise[:-50]

    @memwatch.profile
    def steady() -> list[bytearray]:
        out = []
        for _ in range(40):
            out.append(bytearray(256 * 1024))
        return out

    background = threading.Thread(target=churn)
    background.start()
    try:
        result = steady()
    finally:
        stop.set()
        background.join()
    f = _only(steady.line_profile())  # type: ignore[attr-defined]
    row = next(s for s in f.lines if "out.append" in s.source)
    assert row.hits == 40
    assert 10 * MIB <= row.kept < 10 * MIB + 64 * 1024  # the traces say who allocated
    assert row.blocks >= 40
    del result


def test_the_tracer_puts_back_the_trace_functions_it_found() -> None:
    """A profiler must not switch off a debugger or coverage that runs it (coverage lost half
    of the suite's measurements when the tracer reset the trace function to None)."""
    import sys
    import threading

    from memwatch.lines.tracer import LineTracer

    def outer(frame: object, event: str, arg: object) -> None:
        return None

    saved = (sys.gettrace(), threading.gettrace())
    sys.settrace(outer)
    threading.settrace(outer)
    try:
        tracer = LineTracer()  # it runs its trace functions once, traced (see _with_line_array)
        assert sys.gettrace() is outer
        tracer.install()
        assert sys.gettrace() is not outer
        tracer.uninstall()
        assert sys.gettrace() is outer
        assert threading.gettrace() is outer
    finally:
        sys.settrace(saved[0])
        threading.settrace(saved[1])
