"""The pytest plugin's parts; the entry point is :mod:`memwatch.pytest_plugin`.

options (command line and ini keys), markers (help, levels, argument parsing),
recorder (measuring a test body, collecting records), checks (verdicts that write
their own failure text), leakloop (the body through the leak engine), freed
(``assert_freed``), fixtures, report (JSON, Markdown, job summary, store, table),
session (the stateful plugin object), isolate (``--memwatch-isolate``).
"""

__all__: list[str] = []
