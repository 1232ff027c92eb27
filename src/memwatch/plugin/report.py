"""What a memwatch pytest run writes: JSON + Markdown, the GitHub job summary, the store, the table.

Only the controller calls these (never an xdist worker). Files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memwatch.errors import UsageError
from memwatch.plugin.options import PluginSettings, check_report_dir
from memwatch.plugin.recorder import SessionRecords, SummaryRow
from memwatch.units import format_duration, format_size

if TYPE_CHECKING:
    from memwatch.config.schema import RegressionConfig
    from memwatch.model.pytest import ItemRecord, PytestSession
    from memwatch.plugin.regression import SessionGate

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "MARKDOWN_NAME",
    "markdown",
    "store_rows",
    "terminal_summary",
    "write_outputs",
]

JSON_NAME = "memwatch-pytest.json"
MARKDOWN_NAME = "memwatch-pytest.md"
HTML_NAME = "memwatch-pytest.html"
_MARKDOWN_ROWS = 50


def _check_word(passed: bool, detail: str) -> str:
    if not passed:
        return "FAILED"
    return "inconclusive" if detail.startswith("inconclusive") else "ok"  # no_leaks that could not decide


def _checks_text(record: ItemRecord | SummaryRow) -> str:
    return ", ".join(f"{c.check} {_check_word(c.passed, c.detail)}" for c in record.checks)


def _by_peak(records: Sequence[ItemRecord]) -> list[ItemRecord]:
    return sorted(records, key=lambda r: (-(r.peak or 0), r.nodeid))


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def markdown(session: PytestSession) -> str:
    """A Markdown summary that fits a pull-request comment (biggest peaks first)."""
    records = session.tests
    failed = [r for r in records if r.failed_checks]
    level = f", level `{session.level}`" if session.level else ""
    lines = [
        "## memwatch: memory of the test suite",
        "",
        f"{len(records)} tests measured{level}; {len(failed)} failed a memory check. "
        "Peak is the test body's peak RSS above its start; growth is RSS at its end minus its start.",
        "",
        "| test | outcome | peak | growth | duration | checks |",
        "|---|---|---:|---:|---:|---|",
    ]
    shown = _by_peak(records)[:_MARKDOWN_ROWS]
    for r in shown:
        lines.append(
            f"| `{_md_cell(r.nodeid)}` | {r.outcome} | {format_size(r.peak or 0)} | "
            f"{format_size(r.growth or 0, signed=True)} | {format_duration(r.duration)} | "
            f"{_md_cell(_checks_text(r))} |"
        )
    if len(records) > len(shown):
        lines.append(f"\n{len(records) - len(shown)} more tests in {JSON_NAME}.")
    for r in failed:
        for check in r.failed_checks:
            lines += ["", f"### `{_md_cell(r.nodeid)}`: {check.check}", "", "```", check.message, "```"]
    return "\n".join(lines) + "\n"


def store_rows(session: PytestSession) -> list[Any]:
    """One history row per test and metric (peak, growth, duration and the optional peaks)."""
    from memwatch.store import ResultRow

    rows = []
    for r in session.tests:
        for metric, unit, value in (
            ("peak", "bytes", r.peak),
            ("growth", "bytes", r.growth),
            ("duration", "seconds", r.duration),
            ("native_peak", "bytes", r.native_peak),
            ("python_peak", "bytes", r.python_peak),
        ):
            if value is not None:
                rows.append(ResultRow(r.nodeid, metric, unit, (float(value),)))
    return rows


def write_outputs(
    session: PytestSession,
    settings: PluginSettings,
    base: Path,
    regression: RegressionConfig | None = None,
    gate: list[SessionGate] | None = None,
) -> list[str]:
    """Write the report files, the job summary and the store row set; return what was written.

    ``regression`` (when the run has ``memory_regression`` tests or session gates): set or
    move their baselines in the store after recording the run (see
    :mod:`memwatch.plugin.regression`). With ``settings.fail_on``, every recorded test is first
    compared with its baseline at those gates; the verdict is appended to ``gate``.
    """
    from memwatch.model.base import atomic_write_text, write_document

    written = []
    text = markdown(session)
    if settings.report_dir:
        folder = check_report_dir(settings.report_dir, base)  # relative to where pytest was run
        written.append(str(write_document(session, folder / JSON_NAME)))
        written.append(str(atomic_write_text(folder / MARKDOWN_NAME, text)))
        from memwatch.reporters.html import render_html

        written.append(str(atomic_write_text(folder / HTML_NAME, render_html(session))))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and settings.report_dir:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(
                f"$GITHUB_STEP_SUMMARY: cannot append to {summary}: {exc.strerror or exc}"
            ) from None
        written.append(f"$GITHUB_STEP_SUMMARY ({summary})")
    if settings.db_url:
        from memwatch.store import open_store

        with open_store(settings.db_url) as store:
            run_id = store.record_run(
                "pytest",
                store_rows(session),
                meta={
                    "level": session.level,
                    "tests": len(session.tests),
                    "exit_status": session.exit_status,
                    "workers": session.workers,
                    "args": list(session.args),
                },
            )
            written.append(f"{store.display_url} (run {run_id})")
            if regression is not None and settings.fail_on and gate is not None:
                from memwatch.plugin.regression import session_gate

                gate.append(session_gate(store, run_id, settings.fail_on, regression))
            if regression is not None:
                from memwatch.plugin.regression import settle_baselines

                update = settle_baselines(
                    store,
                    run_id,
                    session.tests,
                    regression,
                    accept=settings.update_baselines,
                    everyone=bool(settings.fail_on),
                )
                if update.summary():
                    written.append(f"{store.display_url}: {update.summary()}")
    return written


def terminal_summary(
    terminal: Any,
    records: SessionRecords,
    settings: PluginSettings,
    written: Sequence[str],
    errors: Sequence[str],
    gates: Sequence[SessionGate] = (),
) -> None:
    """The table at the end of the run: the biggest peaks, then failed checks and written files."""
    if settings.reporting:
        rows = records.biggest(settings.summary_rows)
        measured = len(records)
    else:  # only the tests with a checking marker were measured: list them all
        rows = records.checked()
        measured = len(rows)
    if not measured and not written and not errors and not gates:
        return
    terminal.write_sep("=", "memwatch")
    if measured:
        if rows:
            width = min(max(len(r.nodeid) for r in rows), 70)
            terminal.write_line(f"{'test':<{width}}  {'peak':>10}  {'growth':>11}  {'duration':>10}  checks")
            for r in rows:
                name = r.nodeid if len(r.nodeid) <= width else "..." + r.nodeid[-(width - 3) :]
                terminal.write_line(
                    f"{name:<{width}}  {format_size(r.peak or 0):>10}  "
                    f"{format_size(r.growth or 0, signed=True):>11}  "
                    f"{format_duration(r.duration):>10}  {_checks_text(r)}"
                )
        source = records.peak_source() or "?"
        terminal.write_line(
            f"{measured} tests measured (peak: body RSS peak over its start, {source}); "
            f"{records.failed()} failed a memory check"
        )
    for line in written:
        terminal.write_line(f"memwatch: wrote {line}")
    for gate in gates:
        for text in gate.lines():
            terminal.write_line(f"memwatch: {text}", red=not gate.passed)
    for error in errors:
        terminal.write_line(f"memwatch: ERROR: {error}", red=True)
