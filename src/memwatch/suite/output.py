"""Write a suite report to disk: one file per format plus one file per check, atomically.

Layout under the report folder (default ``reports/memory_validation``)::

    <level>_<YYYYmmdd-HHMMSS>.json   the whole report (versioned; `memwatch report` reads it)
    <level>_<YYYYmmdd-HHMMSS>.html   self-contained page
    <level>_<YYYYmmdd-HHMMSS>.md     Markdown summary (also appended to $GITHUB_STEP_SUMMARY)
    <level>_<YYYYmmdd-HHMMSS>.xml    JUnit XML
    <level>_<YYYYmmdd-HHMMSS>/<component>.<check>.json   each engine's own result

and, beside them, the names document 000's CI looks for (its timestamp, ``YYYYmmdd_HHMMSS``)::

    memory_validation_<level>_<ts>.html      the same page as <level>_<ts>.html
    leak_detection_report_<ts>.md            the Markdown summary of the leaks check only
    performance_regression_report_<ts>.md    ... of the regression check only
    memory_stress_report_<ts>.md             ... of the stress check only

(a category's file is written when its check ran at the level).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
from pathlib import Path

from memwatch.errors import UsageError
from memwatch.model.base import atomic_write_text, dump_document
from memwatch.model.suite import SuiteReport
from memwatch.reporters.html import render_html
from memwatch.reporters.junit import render_junit
from memwatch.reporters.validation import render_markdown

__all__ = ["prepare_report_dir", "write_reports"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: document 000's per-category report names, by check
CATEGORY_FILES = {
    "leaks": "leak_detection_report",
    "regression": "performance_regression_report",
    "stress": "memory_stress_report",
}


def prepare_report_dir(folder: str | os.PathLike[str]) -> Path:
    """Create the report folder; UsageError when it cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create report folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"report folder {folder} is not writable")
    return folder


def write_reports(report: SuiteReport, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every format; returns format -> path. UsageError when the folder is unwritable."""
    folder = prepare_report_dir(folder)
    stamp = _dt.datetime.fromtimestamp(report.started_at, tz=_dt.UTC).strftime("%Y%m%d-%H%M%S")
    stem = f"{report.level}_{stamp}"
    written: dict[str, Path] = {}
    doc = json.dumps(dump_document(report), sort_keys=True, indent=1, allow_nan=False)
    written["json"] = atomic_write_text(folder / f"{stem}.json", doc + "\n")
    written["html"] = atomic_write_text(folder / f"{stem}.html", render_html(report))
    markdown = render_markdown(report)
    written["md"] = atomic_write_text(folder / f"{stem}.md", markdown)
    written["junit"] = atomic_write_text(folder / f"{stem}.xml", render_junit(report))
    seed_stamp = stamp.replace("-", "_")
    written["seed_html"] = atomic_write_text(
        folder / f"memory_validation_{report.level}_{seed_stamp}.html", written["html"].read_text("utf-8")
    )
    for check, prefix in CATEGORY_FILES.items():
        outcomes = tuple(o for o in report.outcomes if o.check == check)
        if not outcomes:
            continue
        failed = any(o.status in ("fail", "error") for o in outcomes)
        part = dataclasses.replace(report, outcomes=outcomes, exit_code=1 if failed else 0)
        written[check] = atomic_write_text(folder / f"{prefix}_{seed_stamp}.md", render_markdown(part))
    per_check = [o for o in report.outcomes if o.document is not None]
    if per_check:
        sub = folder / stem
        sub.mkdir(exist_ok=True)
        for outcome in per_check:
            name = _SAFE.sub("_", f"{outcome.component}.{outcome.check}") + ".json"
            atomic_write_text(
                sub / name, json.dumps(outcome.document, sort_keys=True, indent=1, allow_nan=False) + "\n"
            )
        written["checks"] = sub
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")
        except OSError:
            pass  # the job summary is a courtesy; the report files are written
    return written
