"""Five tests with memwatch checks, two of which fail on purpose (docs/pytest.md runs them).

Run from a clone: ``pytest --memwatch examples/test_service.py``. The repository's own test
suite does not collect this file.
"""

import pytest

_CACHE = {}


class Session:
    def close(self):
        pass


def load_report(size):
    data = bytearray(size)
    data[::4096] = b"x" * len(data[::4096])  # touch every page
    return len(data)


@pytest.mark.limit_memory("64 MB")
def test_import_small_file():
    assert load_report(10_000_000) == 10_000_000


@pytest.mark.limit_memory("64 MB")
def test_import_big_file():
    assert load_report(120_000_000) == 120_000_000


@pytest.fixture
def client():
    return {"requests": 0}


@pytest.mark.no_leaks(max_growth="1 KiB")
def test_handle_request(client):
    client["requests"] += 1
    _CACHE[client["requests"]] = bytearray(100)  # a cache that never forgets


def test_session_freed(assert_freed):
    s = Session()
    assert_freed(s, "session")
    s.close()
    del s


def test_pipeline(memory_profiler):
    memory_profiler.mark_phase_start("load")
    rows = [bytes(1000) for _ in range(20_000)]
    memory_profiler.mark_phase_end("load")
    memory_profiler.mark_phase_start("aggregate")
    total = sum(len(r) for r in rows)
    memory_profiler.mark_phase_end("aggregate")
    assert total == 20_000_000
