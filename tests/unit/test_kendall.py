"""The numpy Kendall tau-b / Sen interval against scipy's answers on synthetic series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, theilslopes

from memwatch.stats.kendall import kendall_tau_b
from memwatch.stats.trend import mann_kendall, theil_sen


def _series() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(20261204)
    out: list[tuple[str, np.ndarray]] = []
    for n in (3, 4, 5, 8, 12, 20, 33, 34, 50, 120):
        x = np.arange(n, dtype=np.float64)
        out.append((f"linear-{n}", 3.0 * x + rng.normal(0, 1.0, n)))
        out.append((f"noise-{n}", rng.normal(0, 1.0, n)))
        out.append((f"plateau-{n}", np.minimum(x, n / 3) + rng.normal(0, 0.05, n)))
        out.append((f"ties-{n}", np.round(rng.normal(0, 1.5, n))))
        out.append((f"counter-{n}", np.floor(x / 3)))
        out.append((f"sawtooth-{n}", (x % 5) * 10.0))
        out.append((f"decreasing-{n}", -x + rng.normal(0, 0.5, n)))
    return [(name, y) for name, y in out if np.ptp(y) > 0]


@pytest.mark.parametrize(("name", "y"), _series(), ids=[name for name, _ in _series()])
def test_mann_kendall_matches_scipy(name: str, y: np.ndarray) -> None:
    tau, p = mann_kendall(y)
    expected = kendalltau(np.arange(y.size), y)
    assert tau == pytest.approx(float(expected.statistic), rel=1e-12, abs=1e-12)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("name", "y"), _series(), ids=[name for name, _ in _series()])
@pytest.mark.parametrize("confidence", [0.95, 0.99, 0.90])
def test_theil_sen_matches_scipy(name: str, y: np.ndarray, confidence: float) -> None:
    slope, intercept, low, high = theil_sen(y, confidence=confidence)
    expected = theilslopes(y, np.arange(y.size, dtype=np.float64), alpha=confidence)
    assert slope == pytest.approx(float(expected[0]), rel=1e-12, abs=1e-12)
    assert intercept == pytest.approx(float(expected[1]), rel=1e-12, abs=1e-12)
    assert low == pytest.approx(float(expected[2]), rel=1e-12, abs=1e-12)
    assert high == pytest.approx(float(expected[3]), rel=1e-12, abs=1e-12)


def test_theil_sen_with_uneven_and_tied_x_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.integers(0, 40, 60)).astype(np.float64)  # repeated x values
    y = 2.5 * x + rng.normal(0, 3.0, x.size)
    slope, intercept, low, high = theil_sen(y, x)
    expected = theilslopes(y, x, alpha=0.95)
    assert (slope, intercept, low, high) == pytest.approx(tuple(float(v) for v in expected[:4]), rel=1e-12)


def test_exact_p_value_known_answers() -> None:
    # 4 readings strictly increasing: S = 6, only 1 of 24 permutations has 0 inversions
    # on each side, so the two-sided p is 2/24.
    _, p = kendall_tau_b(np.array([1.0, 2.0, 3.0, 4.0]))
    assert p == pytest.approx(2 / 24)
    # one discordant pair among 5 readings: P(inversions <= 1) = (1 + 4) / 120
    _, p = kendall_tau_b(np.array([1.0, 2.0, 4.0, 3.0, 5.0]))
    assert p == pytest.approx(2 * 5 / 120)


def test_trend_module_does_not_import_scipy() -> None:
    import subprocess
    import sys

    code = "import sys, memwatch.stats.trend; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
