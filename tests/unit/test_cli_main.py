from __future__ import annotations

import json

import click
import pytest

from memwatch import cli
from memwatch.errors import CheckFailed, ConfigError, DataError, MemwatchError, UsageError


def test_help_lists_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "probes" in out
    assert "0 ok, 1 a check failed, 2 usage or configuration error, 3 other" in out
    assert "4 no verdict (inconclusive)" in out


@pytest.mark.parametrize("argv", [[], ["baseline"], ["history", "-h"]])
def test_a_group_alone_shows_its_help_without_an_error_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(argv)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert text.startswith("Usage: memwatch"), text
    assert "error" not in text.splitlines()[0]
    assert "memwatch: error:" not in text
    assert code == (0 if "-h" in argv else 2)


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "memwatch: error: No such command 'frobnicate' (see 'memwatch --help')"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert "memwatch, version" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigError("bad size"), 2),
        (UsageError("bad target"), 2),
        (DataError("corrupt"), 2),
        (CheckFailed("leak"), 1),
        (MemwatchError("other"), 3),
        (MemwatchError("custom", exit_code=1), 1),
    ],
)
def test_errors_map_to_their_exit_codes_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: MemwatchError, code: int
) -> None:
    @click.command("boom")
    def boom() -> int:
        raise exc

    monkeypatch.setitem(cli.COMMANDS, "boom", ("tests.unit.test_cli_main", "raises"))
    monkeypatch.setattr(cli._LazyGroup, "get_command", lambda self, ctx, name: boom)
    assert cli.main(["boom"]) == code
    err = capsys.readouterr().err
    assert err == f"memwatch: error: {exc}\n"


def test_internal_errors_exit_3_with_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @click.command("bug")
    def bug() -> int:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(cli._LazyGroup, "get_command", lambda self, ctx, name: bug)
    assert cli.main(["bug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.rstrip().endswith("memwatch: internal error: ZeroDivisionError: oops")


def test_probes_command_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["probes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rss ")
    assert "budget" in out
    assert cli.main(["probes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rss"]["unit"] == "bytes"
    assert data["rss"]["value"] > 0
    assert data["budget"]["limit"] > 0
    assert "gpu" in data
