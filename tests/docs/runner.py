"""Run one document's blocks in a fresh interpreter: ``python runner.py PLAN.json RESULTS.json``.

The docs tests (test_docs.py) write the plan: the steps of one document in order. Python
blocks run in this process, in one namespace shared by the whole document; console blocks
run in bash, one bash per block, so ``cd`` and variables last to the end of the block;
file blocks are written out. Each step's output (stdout and stderr together) goes to the
results file. Nothing is compared here.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import traceback
import types
from pathlib import Path
from typing import Any

MARK = "__memwatch_docs_command_{}__"


class BlockTimeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise BlockTimeout("the block ran past its time limit")


def run_python(step: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    cwd = step["cwd"]
    os.makedirs(cwd, exist_ok=True)
    os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    buffer = io.StringIO()
    error = None
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(step["timeout"]))
    try:
        code = compile(step["code"], step["name"], "exec")
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            exec(code, namespace)
    except BaseException:  # the block's own failure is the result
        error = traceback.format_exc()
    finally:
        signal.alarm(0)
    return {"output": buffer.getvalue(), "error": error}


def run_shell(step: dict[str, Any]) -> dict[str, Any]:
    lines = ["exec 2>&1", "__docs_rc=0"]
    for i, command in enumerate(step["commands"]):
        lines += [f"printf '%s\\n' {MARK.format(i)}", "(exit $__docs_rc)", command, "__docs_rc=$?"]
    env = dict(os.environ)
    env.update(step.get("env", {}))
    os.makedirs(step["cwd"], exist_ok=True)
    try:
        done = subprocess.run(
            ["bash", "-c", "\n".join(lines)],
            cwd=step["cwd"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=step["timeout"],
            check=False,
        )
        text, error = done.stdout.decode("utf-8", "replace"), None
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode("utf-8", "replace")
        error = f"the block ran past its time limit of {step['timeout']} s"
    outputs: list[str] = []
    for i in range(len(step["commands"])):
        head, sep, text = text.partition(MARK.format(i) + "\n")
        if i and sep:
            outputs.append(head)
        if not sep:
            break
    outputs.append(text)
    return {"outputs": outputs[: len(step["commands"])], "error": error}


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    results: list[dict[str, Any]] = []
    # The blocks run as the __main__ module of a script would, so names they define are
    # module globals (a retention path reads "module __main__._LOG", as it would for the reader).
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__
    for step in plan:
        if step["kind"] == "python":
            results.append(run_python(step, namespace))
        elif step["kind"] == "shell":
            results.append(run_shell(step))
        else:
            target = Path(step["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step["text"], encoding="utf-8")
            results.append({"output": "", "error": None})
        Path(sys.argv[2]).write_text(json.dumps(results))  # after every step: a crash keeps the rest


if __name__ == "__main__":
    main()
