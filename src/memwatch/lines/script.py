"""Run a script under the line tracer: ``memwatch lines script.py [args]``.

The script runs in this process as ``__main__`` (``sys.argv`` and ``sys.path[0]`` set as
``python script.py`` would), with the chosen functions traced in every thread. A
``sys.exit`` in the script ends the run with its code and the profile is still made; an
exception is printed as Python would and gives exit code 1.
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import CodeType

from memwatch.errors import UsageError
from memwatch.lines.decorator import set_active_tracer
from memwatch.lines.source import iter_functions
from memwatch.lines.tracer import LineTracer
from memwatch.model.lines import LineProfile

__all__ = ["choose_functions", "compile_script", "run_script"]


def compile_script(path: str | os.PathLike[str]) -> tuple[Path, CodeType]:
    """Read and compile ``path``; a missing file or a syntax error is a one-line UsageError."""
    script = Path(path)
    if not script.exists():
        raise UsageError(f"script {script} does not exist")
    if not script.is_file():
        raise UsageError(f"script {script} is not a file")
    try:
        source = script.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read script {script}: {exc.strerror}") from None
    try:
        code = compile(source, str(script.resolve()), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise UsageError(f"cannot compile {script}: line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # null bytes
        raise UsageError(f"cannot compile {script}: {exc}") from None
    return script, code


def choose_functions(code: CodeType, names: Sequence[str] = ()) -> list[CodeType]:
    """The functions of a compiled script called ``names`` (name or qualified name), or all.

    Comprehensions and lambdas are not chosen on their own: their memory counts on the
    line that runs them. A name that is not in the script is a UsageError listing the names.
    """
    functions = [c for c in iter_functions(code) if not c.co_name.startswith("<")]
    if not names:
        return functions
    chosen = []
    for name in names:
        found = [c for c in functions if name in (c.co_name, c.co_qualname)]
        if not found:
            known = ", ".join(sorted({c.co_qualname for c in functions})) or "none"
            raise UsageError(f"function {name!r} is not defined in the script (its functions: {known})")
        chosen.extend(found)
    return chosen


def run_script(
    path: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    functions: Sequence[str] = (),
    native: bool = False,
) -> LineProfile:
    """Run the script with the chosen functions traced; returns their line profile."""
    script, code = compile_script(path)
    tracer = LineTracer(choose_functions(code, functions), native=native)
    namespace = {"__name__": "__main__", "__file__": str(script.resolve()), "__builtins__": builtins}
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    sys.argv = [str(script), *args]
    if sys.path:
        sys.path[0] = str(script.resolve().parent)
    exit_code: int = 0
    set_active_tracer(tracer)
    tracer.install(all_threads=True)
    try:
        exec(code, namespace)
    except SystemExit as stop:
        exit_code = _exit_code(stop.code)
    except KeyboardInterrupt:
        tracer.uninstall()
        raise
    except BaseException:
        tracer.uninstall()
        traceback.print_exc()
        exit_code = 1
    finally:
        tracer.uninstall()
        set_active_tracer(None)
        sys.argv = saved_argv
        if saved_path0 is not None:
            sys.path[0] = saved_path0
    return tracer.result(command=(str(script), *args), exit_code=exit_code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
