"""The environment a run was measured in, and the key baselines are matched on.

Memory figures are only comparable between like environments: another Python
version, interpreter build, operating system or CPU architecture changes object
sizes and allocator behaviour. :func:`environment_key` joins exactly those four
into a readable key (``cpython3.11-linux-x86_64``); a baseline is used only for runs
with the same key. The rest of the fingerprint (CPU model, memory limit, package
versions, the full build string) is recorded and reported as a difference, but
does not by itself make a baseline unusable.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from memwatch.probes.system import cpu_model
from memwatch.regression.check import environment_differences

__all__ = [
    "DEFAULT_PACKAGES",
    "KEY_FIELDS",
    "environment_differences",
    "environment_fingerprint",
    "environment_key",
    "git_info",
]

# Packages whose version changes memory figures often enough to be worth recording.
DEFAULT_PACKAGES: tuple[str, ...] = ("memwatch", "numpy", "scipy", "pytest", "SQLAlchemy")
# Fingerprint fields that must match for a baseline to be used.
KEY_FIELDS: tuple[str, ...] = ("implementation", "python_minor", "system", "machine")


def environment_fingerprint(packages: Sequence[str] = DEFAULT_PACKAGES) -> dict[str, Any]:
    """Describe this interpreter and machine: python version and build, platform, CPU,
    memory limit and the versions of ``packages`` (absent ones are left out)."""
    fp = dict(_static_fingerprint())
    fp["memory_limit"], fp["memory_limit_source"] = _memory_limit()
    versions: dict[str, str] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    fp["packages"] = versions
    return fp


@functools.cache
def _static_fingerprint() -> dict[str, Any]:
    build_no, build_date = platform.python_build()
    return {
        "implementation": platform.python_implementation().lower(),
        "python": platform.python_version(),
        "python_minor": f"{sys.version_info.major}.{sys.version_info.minor}",
        "python_build": f"{build_no} {build_date} {platform.python_compiler()}".strip(),
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "system": platform.system().lower(),
        "release": platform.release(),
        "machine": platform.machine().lower(),
        "cpu": cpu_model() or "unknown",
        "cpu_count": os.cpu_count() or 0,
        "host": socket.gethostname(),
    }


def _memory_limit() -> tuple[int | None, str]:
    try:
        from memwatch.probes.system import memory_budget

        budget = memory_budget()
    except Exception as exc:  # a probe that fails must not stop a run being recorded
        return None, f"unavailable ({type(exc).__name__})"
    return int(budget.limit), budget.source


def environment_key(fp: Mapping[str, Any] | str | None) -> str:
    """The key baselines are matched on: ``cpython3.11-linux-x86_64``.

    A string is taken as a key already; ``None`` means this environment.
    """
    if isinstance(fp, str):
        return fp
    if fp is None:
        fp = environment_fingerprint(())
    impl = str(fp.get("implementation", "unknown"))
    minor = str(fp.get("python_minor") or ".".join(str(fp.get("python", "?")).split(".")[:2]))
    return f"{impl}{minor}-{fp.get('system', 'unknown')}-{fp.get('machine', 'unknown')}"


def git_info(cwd: str | None = None) -> tuple[str | None, str | None]:
    """(sha, branch) of the git checkout at ``cwd``, from CI variables or ``git``; None when unknown."""
    sha = os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA")
    branch = (
        os.environ.get("GITHUB_HEAD_REF")
        or os.environ.get("GITHUB_REF_NAME")
        or os.environ.get("CI_COMMIT_REF_NAME")
    )
    if sha is None:
        sha = _git(["rev-parse", "HEAD"], cwd)
    if branch is None:
        branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
        if branch == "HEAD":  # detached
            branch = None
    return sha, branch


def _git(args: list[str], cwd: str | None) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else None
