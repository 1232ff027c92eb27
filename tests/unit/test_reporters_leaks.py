"""Golden text of leak reports: the figures of a real run of the corpus's module_dict leak."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from memwatch.model.leaks import GrowthEstimate, LeakReport, RetainedSite, RetentionPath, TypeGrowth
from memwatch.reporters.leaks import explain, summary
from memwatch.units import Size


def est(
    signal: str, unit: str, per: float, low: float, high: float, shape: str, p: float, note: str
) -> GrowthEstimate:
    return GrowthEstimate(
        signal=signal,
        unit=unit,
        per_iteration=per,
        low=low,
        high=high,
        p_value=p,
        shape=shape,
        significant=shape == "growing",
        persistent=shape == "growing",
        role="confirms" if signal == "rss" else "context" if signal == "py_heap" else "decides",
        decided=note == "decided the verdict",
        note=note,
        samples=np.array([1.0, 2.0]),
    )


# figures of `memwatch leaks tests.leak_corpus.leaky:module_dict --max-growth "100 kB"`
MODULE_DICT = LeakReport(
    target="tests.leak_corpus.leaky:module_dict",
    verdict="leak",
    reason=(
        "py_blocks grew on every one of 4 stretches (Mann–Kendall p=5.5e-06; "
        "Theil–Sen 8 blocks per call, 95% CI 8 blocks to 8 blocks)"
    ),
    leak_detected=True,
    severity="trace",
    kind="python",
    deciding_signal="py_blocks",
    signals=(
        est("py_blocks", "count", 8.0, 8.0, 8.0, "growing", 5.5e-06, "decided the verdict"),
        est("native_heap", "bytes", 22.0, 0.0, 44.0, "step", 0.012, "step: a one-time allocation"),
        est("fds", "count", 0.0, 0.0, 0.0, "flat", 1.0, "flat: no rise beyond noise"),
        est(
            "rss",
            "bytes",
            503.0,
            498.0,
            533.0,
            "growing",
            5.5e-06,
            "never decides alone; confirms the growth",
        ),
        est("py_heap", "bytes", 444.0, 444.0, 444.0, "growing", 5e-05, "bytes traced by tracemalloc"),
    ),
    bytes_per_iteration=444.0,
    bytes_low=444.0,
    bytes_high=444.0,
    max_growth=100_000,
    max_growth_text="100 kB",
    iterations=4008,
    warmup_iterations=2382,
    rounds=8,
    batch_size=470,
    duration=0.25,
    seconds_per_call=8e-07,
    sites=(RetainedSite("tests/leak_corpus/leaky.py:35", 260.0, 6.0),),
    types=(TypeGrowth("tests.leak_corpus.leaky.Session", 1.0, 0, 200),),
    retention_paths=(
        RetentionPath(
            "Session",
            "module",
            ("module tests.leak_corpus.leaky._STORE", "dict['u8189']", "list[0]", "Session"),
        ),
    ),
    notes=("expected exceptions were raised 3 times and swallowed",),
)

GOLDEN_LEAK = """\
LEAK (trace, python) in tests.leak_corpus.leaky:module_dict: grows 444 B per call, 433.6 KiB per 1,000 calls: over the budget of 100 kB
  decided by py_blocks: py_blocks grew on every one of 4 stretches (Mann–Kendall p=5.5e-06; Theil–Sen 8 blocks per call, 95% CI 8 blocks to 8 blocks)
  measured 4,008 calls in 8 rounds of about 470 after 2,382 warm-up calls, 800.0 ns per call, 250.0 ms total
  signals:
   * py_blocks: +8 blocks per call [+8 blocks .. +8 blocks], growing, p=5.5e-06
       decided the verdict
     native_heap: +22 B per call [+0 B .. +44 B], step, p=0.012
       step: a one-time allocation
     fds: +0 fds per call [+0 fds .. +0 fds], flat, p=1
       flat: no rise beyond noise
     rss: +503 B per call [+498 B .. +533 B], growing, p=5.5e-06
       never decides alone; confirms the growth
     py_heap: +444 B per call [+444 B .. +444 B], growing, p=5e-05
       bytes traced by tracemalloc
  allocation sites of the retained memory:
    tests/leak_corpus/leaky.py:35: 260 B per call, 6 objects per call
  growing types (objects kept per call):
    tests.leak_corpus.leaky.Session: +1 (200 kept in the survivors window)
  kept alive by:
    module tests.leak_corpus.leaky._STORE -> dict['u8189'] -> list[0] -> Session
  note: expected exceptions were raised 3 times and swallowed"""


def test_a_leak_over_the_budget_golden() -> None:
    assert explain(MODULE_DICT) == GOLDEN_LEAK
    assert MODULE_DICT.explain() == GOLDEN_LEAK  # the model's method is the reporter's text


def test_growth_within_the_budget_reads_as_growth_and_never_says_leak() -> None:
    within = replace(
        MODULE_DICT, verdict="growth", bytes_per_iteration=137.0, max_growth=1_000_000, max_growth_text=""
    )
    assert summary(within) == (
        "tests.leak_corpus.leaky:module_dict grows 137 B per call, 133.8 KiB per 1,000 calls: "
        "within the budget of 1 MB (python memory)"
    )
    text = explain(within)
    assert "LEAK" not in text
    assert text.splitlines()[1].startswith(
        "  decided by py_blocks: py_blocks grew on every one of 4 stretches"
    )


def test_the_budget_reads_as_typed_else_in_its_exact_unit() -> None:
    def over(budget: int, typed: str = "") -> str:
        return summary(replace(MODULE_DICT, max_growth=budget, max_growth_text=typed))

    assert over(100_000, "100 kB").endswith("over the budget of 100 kB")
    assert over(100_000).endswith("over the budget of 100 kB")
    assert over(102_400).endswith("over the budget of 100 KiB")
    assert over(Size.parse("0.1 MB"), "0.1 MB").endswith("over the budget of 0.1 MB")
    assert over(1000).endswith("over the budget of 1 kB")


def test_fd_leak_summary() -> None:
    fds = replace(
        MODULE_DICT,
        kind="fds",
        severity="critical",
        deciding_signal="fds",
        signals=(est("fds", "count", 1.0, 1.0, 1.0, "growing", 5.5e-06, "decided the verdict"),),
    )
    assert summary(fds) == (
        "LEAK (critical, fds) in tests.leak_corpus.leaky:module_dict: +1 fds per call, "
        "1,000 file descriptors per 1,000 calls: never within a budget (the process runs out of them)"
    )


def test_clean_and_inconclusive_summaries() -> None:
    clean = replace(MODULE_DICT, verdict="clean", reason="no signal grew on every stretch (py_blocks flat)")
    assert summary(clean) == (
        "no leak in tests.leak_corpus.leaky:module_dict: no signal grew on every stretch (py_blocks flat)"
    )
    short = replace(
        MODULE_DICT,
        verdict="inconclusive",
        reason="only 3 rounds of about 10 calls fit in the time budget of 1 s; at least 8 are needed for a verdict",
    )
    assert summary(short).startswith("inconclusive for tests.leak_corpus.leaky:module_dict: only 3 rounds")
    assert "decided by" not in explain(short)
