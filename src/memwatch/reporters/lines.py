"""Line profiles for people: a memory_profiler-style table and an annotated-source HTML page.

The text layout follows memory_profiler's (``Line #``, figures, ``Hits``, ``Line Contents``),
with exact figures; lines that never ran have blank figures. ``sort`` lists only the lines
that ran, largest first, instead of source order.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable

from memwatch.errors import UsageError
from memwatch.model.lines import FunctionLines, LineProfile, LineStat
from memwatch.units import format_size

__all__ = ["SORT_KEYS", "render_lines_html", "render_lines_text", "sorted_lines"]

SORT_KEYS: dict[str, Callable[[LineStat], float]] = {
    "increment": lambda s: abs(s.increment),
    "peak": lambda s: s.peak,
    "kept": lambda s: s.kept,
    "hits": lambda s: s.hits,
    "native": lambda s: abs(s.native or 0),
}


def sorted_lines(function: FunctionLines, sort: str | None) -> list[LineStat]:
    """The function's lines in source order, or the lines that ran sorted by ``sort``."""
    if sort is None or sort == "line":
        return list(function.lines)
    key = SORT_KEYS.get(sort)
    if key is None:
        raise UsageError(f"unknown sort key {sort!r}: use one of line, {', '.join(SORT_KEYS)}")
    return sorted((s for s in function.lines if s.hits), key=key, reverse=True)


def _size(value: int, signed: bool = False) -> str:
    return format_size(value, signed=signed) if value else "0 B"


def render_lines_text(profile: LineProfile, *, sort: str | None = None) -> str:
    """The profile as text, one block per function."""
    out: list[str] = []
    native = profile.native
    header = f"{'Line #':>6}  {'Increment':>11}  {'Peak':>10}  {'Kept':>10}  {'Blocks':>7}"
    if native:
        header += f"  {'Native':>11}"
    header += f"  {'Hits':>7}  Line Contents"
    if not profile.functions:
        return "memwatch lines: none of the chosen functions ran\n"
    for function in profile.functions:
        out.append(f"Filename: {function.filename}")
        out.append(
            f"Function: {function.qualname} (line {function.first_line}), {function.calls} "
            f"call{'s' if function.calls != 1 else ''}: increment {_size(function.increment, True)}, "
            f"peak {_size(function.peak)}, kept {_size(function.kept)}"
        )
        out.append("")
        out.append(header)
        out.append("=" * (len(header) + 20))
        shared = False
        for s in sorted_lines(function, sort):
            if s.hits == 0 and not s.kept:
                figures = " " * (len(header) - len("Line Contents") - 8)
            else:
                figures = f"{_size(s.increment, True):>11}  {_size(s.peak):>10}  {_size(s.kept):>10}  {s.blocks:>7,}"
                if native:
                    figures += f"  {_size(s.native or 0, True):>11}"
                mark = "~" if s.shared else " "
                shared = shared or bool(s.shared)
                figures += f"  {s.hits:>6,}{mark}"
            out.append(f"{s.lineno:>6}  {figures}  {s.source}".rstrip())
        if shared:
            out.append(
                "~ another profiled thread ran during some hits of this line; its memory may be included"
            )
        out.append("")
    if profile.note:
        out.append(profile.note)
    return "\n".join(out).rstrip("\n") + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fbfbfd}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}
.meta{color:#5a6275;margin-bottom:12px}
.strip{display:flex;height:26px;border-radius:4px;overflow:hidden;background:#e8ebf2;margin:6px 0 10px}
.strip div{height:100%;border-right:1px solid #fff;font-size:11px;color:#fff;overflow:hidden;
 white-space:nowrap;padding:4px 3px;box-sizing:border-box}
table.src{border-collapse:collapse;width:100%;font:12.5px/1.35 ui-monospace,Menlo,Consolas,monospace}
table.src th{text-align:right;font:600 12px system-ui,sans-serif;color:#5a6275;padding:4px 8px;
 border-bottom:2px solid #cfd5e2;background:#f1f3f8;position:sticky;top:0}
table.src th.code{text-align:left}
table.src td{padding:1px 8px;text-align:right;white-space:nowrap;border-bottom:1px solid #eef0f5}
table.src td.code{text-align:left;white-space:pre;width:100%}
table.src td.no{color:#98a0b3}
tr.idle td{color:#9aa1b1}
.bar{display:inline-block;height:10px;background:#e4572e;vertical-align:middle;border-radius:2px}
.bar.neg{background:#2e86ab}
td.barcell{width:140px;text-align:left}
.legend span{display:inline-block;margin-right:16px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
"""

_PALETTE = ["#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686", "#8e5572", "#3d5a80", "#ee6c4d"]


def _heat(value: int, top: int) -> str:
    if top <= 0 or value <= 0:
        return ""
    alpha = min(1.0, value / top) * 0.45
    return f' style="background:rgba(228,87,46,{alpha:.3f})"'


def _strip(function: FunctionLines) -> str:
    """A flame-style strip: each line's share of the function's peak, widest first."""
    rows = [s for s in function.lines if s.peak > 0]
    total = sum(s.peak for s in rows)
    if not total:
        return '<div class="strip"><div style="width:100%;color:#5a6275">no traced memory</div></div>'
    parts = []
    for i, s in enumerate(sorted(rows, key=lambda r: r.peak, reverse=True)):
        width = 100.0 * s.peak / total
        title = html.escape(f"line {s.lineno}: peak {_size(s.peak)} - {s.source.strip()}")
        label = html.escape(f"{s.lineno}: {_size(s.peak)}") if width > 6 else ""
        colour = _PALETTE[i % len(_PALETTE)]
        parts.append(f'<div title="{title}" style="width:{width:.2f}%;background:{colour}">{label}</div>')
    return '<div class="strip">' + "".join(parts) + "</div>"


def _function_html(function: FunctionLines, native: bool) -> str:
    top = max((s.peak for s in function.lines), default=0)
    scale = max((abs(s.increment) for s in function.lines), default=0) or 1
    head = ["Line", "Increment", "", "Peak", "Kept", "Blocks"]
    if native:
        head.append("Native")
    head.append("Hits")
    cells = "".join(f"<th>{h}</th>" for h in head) + '<th class="code">Source</th>'
    body = []
    for s in function.lines:
        code = html.escape(s.source)
        if s.hits == 0 and not s.kept:
            blanks = "<td></td>" * (len(head) - 1)
            body.append(
                f'<tr class="idle"><td class="no">{s.lineno}</td>{blanks}<td class="code">{code}</td></tr>'
            )
            continue
        width = 130.0 * abs(s.increment) / scale
        neg = " neg" if s.increment < 0 else ""
        bar = f'<span class="bar{neg}" style="width:{width:.1f}px"></span>' if s.increment else ""
        row = [
            f'<td class="no">{s.lineno}</td>',
            f"<td>{html.escape(_size(s.increment, True))}</td>",
            f'<td class="barcell">{bar}</td>',
            f"<td>{html.escape(_size(s.peak))}</td>",
            f"<td>{html.escape(_size(s.kept))}</td>",
            f"<td>{s.blocks:,}</td>",
        ]
        if native:
            row.append(f"<td>{html.escape(_size(s.native or 0, True))}</td>")
        row.append(f"<td>{s.hits:,}{'~' if s.shared else ''}</td>")
        body.append(f'<tr{_heat(s.peak, top)}>{"".join(row)}<td class="code">{code}</td></tr>')
    title = html.escape(f"{function.qualname}  ({os.path.basename(function.filename)}:{function.first_line})")
    summary = html.escape(
        f"{function.calls} call(s) · increment {_size(function.increment, True)} · "
        f"peak {_size(function.peak)} · kept {_size(function.kept)} · {function.filename}"
    )
    return (
        f'<section class="function"><h2>{title}</h2><div class="meta">{summary}</div>'
        f"{_strip(function)}"
        f'<table class="src"><thead><tr>{cells}</tr></thead><tbody>{"".join(body)}</tbody></table></section>'
    )


def render_lines_html(profile: LineProfile) -> str:
    """A self-contained page (no scripts, no network): per function a strip of the lines'
    shares of the peak and the annotated source, rows shaded by their peak."""
    command = " ".join(profile.command) or "@memwatch.profile"
    sections = "".join(_function_html(f, profile.native) for f in profile.functions)
    if not sections:
        sections = "<p>None of the chosen functions ran.</p>"
    meta = html.escape(
        f"{command} · {profile.duration:.2f} s · {profile.threads} thread(s)"
        + (f" · exit code {profile.exit_code}" if profile.exit_code is not None else "")
    )
    legend = (
        '<div class="legend meta"><span><i class="sw" style="background:#e4572e"></i>increment (grew)</span>'
        '<span><i class="sw" style="background:#2e86ab"></i>increment (freed)</span>'
        "<span>row shade: the line's peak · strip: each line's share of the peaks · "
        "~ another profiled thread ran meanwhile</span></div>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>memwatch lines: {html.escape(command)}</title><style>{_CSS}</style></head><body>"
        f'<h1>Line-level memory</h1><div class="meta" id="command">{meta}</div>{legend}{sections}</body></html>'
    )
