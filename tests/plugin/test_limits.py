"""limit_memory / limit_native_memory and the marker argument checks, on generated test files."""

from __future__ import annotations

import pytest

BIG = """
import pytest

def touch(n):
    data = bytearray(n)
    data[::4096] = b"x" * len(data[::4096])
    return data

@pytest.mark.limit_memory("20 MB")
def test_over():
    data = touch(80_000_000)

@pytest.mark.limit_memory(limit="200 MB")
def test_under():
    data = touch(20_000_000)

class TestInClass:
    @pytest.mark.limit_memory("20 MB")
    @pytest.mark.parametrize("size", [1_000_000, 80_000_000], ids=["small", "big"])
    def test_sizes(self, size):
        data = touch(size)
"""


def test_limit_memory_fails_only_the_test_over_its_limit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BIG)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_over _*",
            "@pytest.mark.limit_memory: the test body's peak RSS exceeded its limit",
            "  limit:    20.0 MB = 19.1 MiB (20,000,000 bytes)",
            "  measured: * bytes) above the RSS at the start of the body (VmHWM), * over",
            "  (run with --memwatch-tracemalloc to see the biggest allocation sites)",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED *::TestInClass::test_sizes[[]big[]]*"])
    assert "test_sizes[small]" not in "".join(line for line in result.stdout.lines if "FAILED" in line)
    assert "Traceback" not in result.stdout.str()


def test_tracemalloc_names_the_allocation_site(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.limit_memory("5 MB")
        def test_over():
            blobs = [b"x" * 1_000_000 for _ in range(20)]
    """)
    import tracemalloc

    tracing_before = tracemalloc.is_tracing()
    result = pytester.runpytest("--memwatch-tracemalloc")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  biggest allocation sites live at the body's traced peak (tracemalloc, new since its start):",
            "*MiB *blocks  */test_tracemalloc_names_the_allocation_site.py:5",
        ]
    )
    # the run stopped the tracemalloc it started: later tests in this process are not traced
    assert tracemalloc.is_tracing() == tracing_before


def test_limit_native_memory_sees_malloc(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import ctypes, time
        import pytest

        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]

        def native(n):
            block = libc.malloc(n)
            time.sleep(0.05)
            libc.free(block)

        @pytest.mark.limit_native_memory("10 MB")
        def test_native_over():
            native(60_000_000)

        @pytest.mark.limit_native_memory("100 MB")
        def test_native_under():
            native(10_000_000)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.limit_native_memory: the test body's peak glibc heap in use exceeded its limit",
            "  measured: 6*MB * above the glibc heap at the start of the body (mallinfo2, sampled every 1 ms)*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("limit_memory('12 XB')", "@pytest.mark.limit_memory: invalid size '12 XB': unknown unit 'XB'*"),
        ("limit_memory('1 MB', budget=3)", "@pytest.mark.limit_memory: unknown argument 'budget'*"),
        ("limit_memory()", "@pytest.mark.limit_memory: expected one limit such as '64 MB', got 0 values"),
        (
            "limit_native_memory(-5)",
            "@pytest.mark.limit_native_memory: invalid size -5: must not be negative",
        ),
        ("no_leaks(iterations=-3)", "@pytest.mark.no_leaks: iterations=-3: expected a positive whole number"),
        ("no_leaks(warmup=1.5)", "@pytest.mark.no_leaks: warmup=1.5: expected a whole number >= 0"),
        ("no_leaks(max_growth='lots')", "@pytest.mark.no_leaks: invalid size 'lots'*"),
        ("no_leaks(iteration=10)", "@pytest.mark.no_leaks: unknown argument 'iteration' (allowed: *)"),
        ("no_leaks('1 KB')", "@pytest.mark.no_leaks: takes keyword arguments only (*), got '1 KB'"),
        ("no_leaks(signals=[3])", "@pytest.mark.no_leaks: signals=[[]3[]]: expected signal names*"),
        ("no_leaks(time_budget='soon')", "@pytest.mark.no_leaks: time_budget: invalid duration 'soon'*"),
    ],
)
def test_bad_marker_argument_is_a_usage_error_naming_test_and_value(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.{marker}
        def test_marked():
            pass

        def test_other():
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"memwatch usage error: *.py::test_marked: {message}"])
    assert "Traceback" not in result.stdout.str()
    assert "src/memwatch" not in result.stdout.str()
