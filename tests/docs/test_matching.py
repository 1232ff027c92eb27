"""The docs harness itself: block parsing, output patterns and the rewrite that keeps elisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import markdown, matching


def matches(expected: str, actual: str, exact: bool = False) -> bool:
    return matching.match(expected.splitlines(), actual.splitlines(), exact) is not None


def test_numbers_vary_but_words_and_units_families_do_not() -> None:
    assert matches(
        "LEAK in f: 80 B/iter, 78.1 KiB per 1,000 calls", "LEAK in f: 96 B/iter, 1.2 MiB per 1,000 calls"
    )
    assert not matches("LEAK in f: 80 B/iter", "no leak in f: 80 B/iter")
    assert not matches("took 1.10 s", "took 1.10 MiB")  # a time is not a size
    assert matches("took 1.10 s", "took 980.2 ms")
    assert matches("growth +8.6 MiB", "growth -1.2 MiB")
    assert not matches("5 stretches", "5 streches")


def test_a_line_that_is_only_a_number_is_exact() -> None:
    assert matches("$?\n1", "$?\n1")
    assert not matches("1", "0")
    assert matches("3 passed", "4 passed")
    assert not matches("3 passed", "4 passed", exact=True)


def test_ellipsis_lines_and_inline() -> None:
    expected = "first\n...\nlast .../leaky.py:35 done"
    assert matches(expected, "first\nlast /tmp/x/leaky.py:35 done")
    assert matches(expected, "first\na\nb\nlast /tmp/x/leaky.py:40 done")
    assert not matches(expected, "first\na\nb")
    assert not matches(expected, "first\nlast /tmp/x/leaky.py:35 done\nextra")


def test_spaces_and_rules_stretch() -> None:
    assert matches("==== memwatch ====\na    1.0 s  ok", "======== memwatch ========\na      12.5 s  ok")
    assert matches("┏━━━┳━━━┓", "┏━━━━━━┳━┓")


def test_rewrite_refreshes_numbers_and_keeps_elisions() -> None:
    expected = ["peak 99.5 MiB at .../job.json", "...", "done in 1.10 s"]
    actual = ["peak 101.2 MiB at /tmp/w/job.json", "x", "y", "done in 1.31 s"]
    assert matching.rewrite(expected, actual) == ["peak 101.2 MiB at .../job.json", "...", "done in 1.31 s"]


def test_rewrite_of_a_changed_output_keeps_what_still_matches() -> None:
    expected = ["LEAK in f: 80 B/iter", "...", "kept alive by: X", "gone line"]
    actual = ["new first line", "LEAK in f: 90 B/iter", "a", "b", "kept alive by: X", "new last line"]
    assert matching.rewrite(expected, actual) == [
        "new first line",
        "LEAK in f: 90 B/iter",
        "...",
        "kept alive by: X",
        "new last line",
    ]


def test_blocks_directives_and_commands(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(
        "Text\n\n<!-- docs: cwd: examples -->\n```console\n$ echo a \\\n  b\na b\n$ echo $?\n0\n```\n\n"
        "```python\nprint(1)\n```\n\n```\n1\n```\n\nprints\n\n<!-- docs: skip: why; not parsed -->\n```\nx\n```\n"
    )
    found = markdown.blocks(doc)
    assert [b.lang for b in found] == ["console", "python", "", ""]
    assert found[0].directives == {"cwd": "examples"}
    assert found[3].directives == {"skip": "why; not parsed"}
    assert [b.prose_before for b in found] == [True, False, False, True]
    cmds = markdown.commands(found[0])
    assert [(c.command, c.expected) for c in cmds] == [("echo a \\\n  b", ["a b"]), ("echo $?", ["0"])]


def test_bad_directives_are_refused(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text("<!-- docs: skipp -->\n```\nx\n```\n")
    with pytest.raises(ValueError, match="unknown docs directive 'skipp'"):
        markdown.blocks(doc)
    doc.write_text("<!-- docs: cwd: x -->\nsome prose\n```\nx\n```\n")
    with pytest.raises(ValueError, match="right above a block"):
        markdown.blocks(doc)
