"""``memwatch dashboard``: the planted steps and only those, statuses, escaping, errors; on both backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from memwatch.cli import main
from memwatch.config.schema import RegressionConfig
from memwatch.dashboard.pages import page_name
from memwatch.dashboard.scope import select_runs
from memwatch.dashboard.site import MARKER, build_site, iter_analysed
from memwatch.model.history import ResultRow
from memwatch.store import open_store
from memwatch.store.stream import all_runs, iter_series
from tests.integration import store_backends
from tests.integration.dashboard_history import ENV_A, EVIL, RUNS, STEP_RUN, SWITCH_RUN, planted

pytestmark = pytest.mark.integration
db_url = store_backends.db_url  # the fixture, on SQLite and PostgreSQL


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = str(tmp_path_factory.mktemp("planted") / "history.db")
    planted(url)
    return url


@pytest.fixture(scope="module")
def site(planted_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    with open_store(planted_db) as store:
        build_site(store, out)
    return out


def _analysed(url: str) -> dict[tuple[str, str], object]:
    with open_store(url) as store:
        scope = select_runs(all_runs(store), where=url)
        return {
            (a.test_id, a.metric): a
            for g in iter_analysed(store, scope, config=RegressionConfig())
            for a in g
        }


def test_exactly_the_planted_step_counts_on_both_backends(db_url: str) -> None:
    planted(db_url)
    found = _analysed(db_url)
    steps = [(f.test_id, f.metric, f.run.id, f.check.status) for a in found.values() for f in a.findings]  # type: ignore[attr-defined]
    assert steps == [("tests/test_step.py::test_triple", "peak", STEP_RUN, "regressed")]
    (finding,) = found[("tests/test_step.py::test_triple", "peak")].findings  # type: ignore[attr-defined]
    assert finding.check.severity == "critical"
    assert 1.9 < finding.check.relative < 2.1  # a 3x step: +200 %
    assert finding.check.ci_low > 2.5
    assert finding.run.git_sha.startswith(f"{STEP_RUN:04d}")
    statuses = {key[0].split("::")[-1]: a.status for key, a in found.items() if key[1] == "peak"}  # type: ignore[attr-defined]
    assert statuses == {
        "test_triple": "regressed",
        "test_slow": "ok",
        "test_noise": "ok",
        "test_switch": "ok",
        "test_gone": "missing",
        "test_fresh": "new",
        EVIL.split("::")[-1]: "ok",
    }


def test_streamed_series_equal_the_stored_trend(db_url: str) -> None:
    planted(db_url)
    with open_store(db_url) as store:
        series = {(s.test_id, s.metric): s for s in iter_series(store)}
        trend = store.trend("tests/test_step.py::test_triple", "peak", limit=None)
        assert len(series) == 8
        s = series[("tests/test_step.py::test_triple", "peak")]
        assert s.run_ids.tolist() == [p.run_id for p in trend]
        assert s.values.tolist() == pytest.approx([p.value for p in trend], rel=1e-13)
        assert len(next(iter_series(store, since_run=55))) <= 6


def test_regressions_page_lists_the_step_with_its_run_commit_and_interval(site: Path) -> None:
    text = (site / "regressions.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="f\d+">(.*?)</tr>', text, flags=re.S)
    assert len(rows) == 1
    assert "test_triple" in rows[0]
    assert f">{STEP_RUN}</a>" in rows[0]
    assert f"main@{STEP_RUN:04d}c0f" in rows[0]
    assert re.search(r"\+19\d\.\d% … \+20\d\.\d%", rows[0])
    assert "critical" in rows[0]
    assert "No step down passes the gates." in text


def test_test_page_marks_step_switch_and_hover_commits(site: Path) -> None:
    page = (site / page_name("tests/test_step.py::test_triple")).read_text(encoding="utf-8")
    assert page.count('class="step up"') == 1
    assert page.count('<g class="switch">') == 2  # peak and growth charts: runs 30 -> 31
    assert f"run {STEP_RUN} · " in page
    assert f"main@{STEP_RUN:04d}c0f" in page
    assert 'class="band"' in page
    switch = (site / page_name("tests/test_env.py::test_switch")).read_text(encoding="utf-8")
    assert 'class="step' not in switch
    assert "environment switch: cpython3.11-linux-x86_64 → cpython3.12-linux-x86_64" in switch


def test_overview_is_worst_first_and_escapes_hostile_ids(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    tests = re.findall(r'<tr data-test="([^"]*)" data-metric="([^"]*)"', index)
    assert tests[0] == ("tests/test_step.py::test_triple", "peak")
    assert tests[1][0] == "tests/test_gone.py::test_gone"
    for path in site.rglob("*.html"):
        assert "<script>alert" not in path.read_text(encoding="utf-8"), path
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;-&#34;q&#34;-ünï-😀" in index
    evil_page = site / page_name(EVIL)
    assert evil_page.exists()
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.html", evil_page.name)


def test_runs_and_environments_pages(site: Path) -> None:
    runs = (site / "runs.html").read_text(encoding="utf-8")
    assert runs.count('<tr id="run-') == RUNS
    assert 'id="run-60"' in runs
    assert "1 min 12 s" in runs  # run 60: 12.5 + 59 s
    envs = (site / "environments.html").read_text(encoding="utf-8")
    assert envs.count('class="envcard"') == 2
    assert f"{SWITCH_RUN - 1} runs" in envs


def test_cli_writes_and_rewrites_its_own_folder(
    planted_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert main(["dashboard", "--db", planted_db, "-o", str(out)]) == 0
    assert "1 change points up" in capsys.readouterr().out
    assert (out / MARKER).exists()
    assert main(["dashboard", "--db", planted_db, "-o", str(out), "--branch", "main"]) == 0
    assert "runs 1–59" in (out / "index.html").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "pypy3.10-linux-x86_64"], "no runs in environment 'pypy3.10-linux-x86_64' in "),
        (["--branch", "nope"], "no runs on branch 'nope' in "),
        (["--since", "2030-01-01"], "no runs since 2030-01-01 00:00 UTC in "),
        (["--since", "yesterday"], "invalid --since 'yesterday'"),
    ],
)
def test_bad_filters_are_one_line_usage_errors(
    planted_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["dashboard", "--db", planted_db, "-o", str(tmp_path / "s"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_empty_and_single_run_databases_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "h.db")
    open_store(url).close()
    assert main(["dashboard", "--db", url, "-o", str(tmp_path / "s")]) == 2
    assert "no runs recorded in" in capsys.readouterr().err
    with open_store(url) as store:
        store.record_run(
            "pytest", [ResultRow("t::a", "peak", "bytes", (1.0,))], env=ENV_A, git_sha=None, git_branch=None
        )
    assert main(["dashboard", "--db", url, "-o", str(tmp_path / "s")]) == 2
    assert "only 1 run in" in capsys.readouterr().err
    assert main(["dashboard", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "s")]) == 2


def test_a_foreign_folder_is_never_overwritten(
    planted_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "docs"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["dashboard", "--db", planted_db, "-o", str(mine)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_history_without_test_id_lists_runs_and_statuses(
    planted_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", planted_db]) == 0
    out = capsys.readouterr().out
    assert "Recent runs in" in out
    assert out.index("test_triple") < out.index("test_noise")
    assert "regressed (critical)" in out
    assert "1 regressed, 1 missing, 1 new, 5 ok." in out


def test_history_diff_markdown_and_exit_codes(planted_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "diff", "--db", planted_db, "--base", "run:40", "--head", "main"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### memwatch: memory of main@0059c0f (run 59) against feature/x@0040c0f (run 40)")
    assert "**1 regressed**, 0 improved, 0 new, 1 missing" in out
    assert "| 🔴 | <code>tests/test_step.py::test_triple</code> | peak |" in out
    assert (
        main(
            [
                "history",
                "diff",
                "--db",
                planted_db,
                "--base",
                "0044",
                "--head",
                "0045",
                "--fail-on-regression",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "history",
                "diff",
                "--db",
                planted_db,
                "--base",
                "0045",
                "--head",
                "0046",
                "--fail-on-regression",
            ]
        )
        == 1
    )
    capsys.readouterr()
    assert main(["history", "diff", "--db", planted_db, "--base", "nope-branch"]) == 2
    assert "--base 'nope-branch': no run recorded for that branch or commit" in capsys.readouterr().err
