"""memwatch.blocks.reclaim: the registry the guard's recovery ladder uses."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

from memwatch.blocks import reclaim


class Holder:
    """A reclaimable test double holding ``n`` items."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls: list[Any] = []

    def shrink(self, fraction: float) -> int:
        self.calls.append(("shrink", fraction))
        freed = int(self.n * fraction)
        self.n -= freed
        return freed

    def clear(self) -> int:
        self.calls.append(("clear",))
        freed, self.n = self.n, 0
        return freed


class Broken(Holder):
    def shrink(self, fraction: float) -> int:
        raise RuntimeError("boom")

    def clear(self) -> int:
        raise RuntimeError("boom")


@pytest.fixture
def clean() -> Any:
    before = reclaim.registered()
    for obj in before:
        reclaim.unregister(obj)
    yield
    for obj in reclaim.registered():
        reclaim.unregister(obj)
    for obj in before:
        reclaim.register(obj)


@pytest.mark.usefixtures("clean")
class TestRegistry:
    def test_register_twice_is_one_entry(self) -> None:
        h = Holder(10)
        reclaim.register(h)
        reclaim.register(h)
        assert reclaim.registered() == [h]

    def test_unregister(self) -> None:
        h, g = Holder(1), Holder(2)
        reclaim.register(h)
        reclaim.register(g)
        reclaim.unregister(h)
        reclaim.unregister(h)  # second time: no-op
        assert reclaim.registered() == [g]

    def test_held_weakly(self) -> None:
        h = Holder(1)
        reclaim.register(h)
        del h
        gc.collect()
        assert reclaim.registered() == []

    def test_shrink_all_sums_what_was_freed(self) -> None:
        a, b = Holder(100), Holder(10)
        reclaim.register(a)
        reclaim.register(b)
        assert reclaim.shrink_all(0.5) == 55
        assert (a.n, b.n) == (50, 5)
        assert a.calls == [("shrink", 0.5)]

    def test_clear_all(self) -> None:
        a, b = Holder(7), Holder(3)
        reclaim.register(a)
        reclaim.register(b)
        assert reclaim.clear_all() == 10
        assert (a.n, b.n) == (0, 0)

    def test_one_failing_object_does_not_stop_the_others(self, caplog: pytest.LogCaptureFixture) -> None:
        bad, good = Broken(5), Holder(4)
        reclaim.register(bad)
        reclaim.register(good)
        assert reclaim.shrink_all(1.0) == 4
        assert reclaim.clear_all() == 0
        assert "Broken.shrink" in caplog.text

    def test_non_integer_results_count_as_zero(self) -> None:
        class NoneClear(Holder):
            def clear(self) -> Any:
                self.calls.append(("clear",))
                return None

        h = NoneClear(3)
        reclaim.register(h)
        assert reclaim.clear_all() == 0
        assert h.calls == [("clear",)]

    @pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), True, "0.5"])
    def test_bad_fraction(self, fraction: Any) -> None:
        with pytest.raises(ValueError, match="fraction must be in"):
            reclaim.shrink_all(fraction)

    def test_object_without_methods_is_refused(self) -> None:
        with pytest.raises(TypeError, match=r"needs shrink\(fraction\) and clear\(\)"):
            reclaim.register(object())

    def test_object_without_weakref_is_refused(self) -> None:
        class Slotted:
            __slots__ = ()

            def shrink(self, fraction: float) -> int:
                return 0

            def clear(self) -> int:
                return 0

        with pytest.raises(TypeError, match="weakly"):
            reclaim.register(Slotted())

    def test_callback_may_register_others(self) -> None:
        extra = Holder(1)

        class Registrar(Holder):
            def shrink(self, fraction: float) -> int:
                reclaim.register(extra)
                return 0

        r = Registrar(0)
        reclaim.register(r)
        reclaim.shrink_all(0.5)  # must not deadlock
        assert extra in reclaim.registered()

    def test_threads(self) -> None:
        keep: list[Holder] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(200):
                h = Holder(2)
                reclaim.register(h)
                with lock:
                    keep.append(h)
                reclaim.shrink_all(0.5)
                reclaim.unregister(h)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert reclaim.registered() == []
        assert len(keep) == 800


class _Cyclic:
    """A reclaimable object in a reference cycle: only the cyclic GC frees it."""

    def __init__(self) -> None:
        self.me = self

    def shrink(self, fraction: float) -> int:
        return 0

    def clear(self) -> int:
        return 0


def test_a_collection_while_the_registry_lock_is_held_does_not_deadlock() -> None:
    """Any allocation inside the registry's lock may run the cyclic GC, which runs the
    weakref callbacks of registered objects it frees, in that same thread: the callback
    used to take the (non-reentrant) lock again and hang the process."""

    def collect_under_the_lock() -> None:
        obj = _Cyclic()
        reclaim.register(obj)
        del obj
        with reclaim._lock:
            gc.collect()

    worker = threading.Thread(target=collect_under_the_lock, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "deadlocked in the weakref callback"
    assert not any(isinstance(o, _Cyclic) for o in reclaim.registered())
