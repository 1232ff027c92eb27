"""The validation suite: configured components x plug-in checks, run at a level.

``memwatch validate --level quick|comprehensive|nightly`` and :func:`run_suite`.
Register a check of your own with :func:`register_check`.
"""

from memwatch.suite.checks import SuiteContext, available_checks, register_check
from memwatch.suite.output import write_reports
from memwatch.suite.runner import run_suite
from memwatch.suite.spec import LEVELS, resolve_target

__all__ = [
    "LEVELS",
    "SuiteContext",
    "available_checks",
    "register_check",
    "resolve_target",
    "run_suite",
    "write_reports",
]
