"""Markers: registered with help, --memwatch-level selection, the gpu skip."""

from __future__ import annotations

import pytest

from memwatch.plugin.markers import MARKERS

LEVELLED = """
import pytest

def test_plain(): pass

@pytest.mark.memory
def test_memory(): pass

@pytest.mark.memory_regression
def test_regression(): pass

@pytest.mark.memory_gc
def test_gc(): pass

@pytest.mark.memory_comprehensive
def test_comprehensive(): pass

@pytest.mark.memory_stress
def test_memory_stress(): pass

@pytest.mark.stress
def test_stress(): pass

@pytest.mark.oom
def test_oom(): pass

@pytest.mark.recovery
def test_recovery(): pass

@pytest.mark.slow
def test_slow(): pass

@pytest.mark.memory_long
def test_long(): pass
"""


def test_every_marker_is_registered_with_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    for signature, help_text in MARKERS.items():
        result.stdout.fnmatch_lines([f"@pytest.mark.{signature}: {help_text}"])
    assert len(MARKERS) == 14


@pytest.mark.parametrize(
    ("level", "passed", "skipped"),
    [
        (None, 11, 0),
        ("quick", 4, 7),
        ("comprehensive", 10, 1),
        ("nightly", 11, 0),
    ],
)
def test_levels_select_marked_tests(
    pytester: pytest.Pytester, level: str | None, passed: int, skipped: int
) -> None:
    pytester.makepyfile(LEVELLED)
    args = ["--strict-markers", "-rs"] + (["--memwatch-level", level] if level else [])
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=passed, skipped=skipped)
    assert "::test_plain " not in result.stdout.str()  # no --memwatch: no row for unchecked tests
    if level == "quick":
        result.stdout.fnmatch_lines(
            [
                "SKIPPED [[]1[]] *: @pytest.mark.oom runs at --memwatch-level comprehensive and nightly "
                "(this run: quick)",
                "SKIPPED [[]1[]] *: @pytest.mark.memory_long runs at --memwatch-level nightly (this run: quick)",
            ],
            consecutive=False,
        )
    if level == "comprehensive":
        result.stdout.fnmatch_lines(
            [
                "SKIPPED [[]1[]] *: @pytest.mark.memory_long runs at --memwatch-level "
                "nightly (this run: comprehensive)"
            ]
        )


def test_level_from_ini(pytester: pytest.Pytester) -> None:
    from tests.plugin.conftest import INI

    pytester.makeini(INI + "memwatch_level = comprehensive\n")
    pytester.makepyfile(LEVELLED)
    pytester.runpytest().assert_outcomes(passed=10, skipped=1)


def test_gpu_marker_skips_with_the_reason_when_no_gpu_is_visible(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.gpu
        def test_on_gpu():
            raise AssertionError("must not run without a GPU")

        def test_cpu():
            pass
    """)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]1[]] *: no GPU visible: CUDA_VISIBLE_DEVICES='' hides every GPU"]
    )


def test_gpu_reason_follows_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    import memwatch.probes.gpu as gpu_probe
    from memwatch.plugin.gpu import gpu_unavailable_reason

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(gpu_probe, "nvml_devices", lambda: ([], "NVML: driver not loaded"))
    monkeypatch.setattr(gpu_probe, "torch_memory", lambda: ([], "torch is not imported"))
    assert gpu_unavailable_reason() == "NVML: driver not loaded"
    device = gpu_probe.GpuDevice(0, "H100", 1, 2)
    monkeypatch.setattr(gpu_probe, "nvml_devices", lambda: ([device], ""))
    assert gpu_unavailable_reason() == ""


def test_marker_names_match_iter_markers(pytester: pytest.Pytester) -> None:
    from memwatch.plugin.markers import marker_names

    items = pytester.getitems("""
        import pytest

        pytestmark = pytest.mark.memory

        def test_plain():
            pass

        @pytest.mark.slow
        @pytest.mark.limit_memory("1 MB")
        def test_own():
            pass

        @pytest.mark.memory_stress
        class TestGroup:
            def test_in_class(self):
                pass

            @pytest.mark.gpu
            @pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.oom)])
            def test_param(self, n):
                pass
    """)
    inherited: dict[object, tuple[str, ...]] = {}
    assert len(items) == 5
    for item in items:
        assert list(marker_names(item, inherited)) == [m.name for m in item.iter_markers()]
    assert len(inherited) == 2  # the module and the class, each read once
