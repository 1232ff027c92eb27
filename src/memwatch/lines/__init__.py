"""Line-level memory: ``@memwatch.profile`` and ``memwatch lines script.py``.

:class:`~memwatch.lines.tracer.LineTracer` is the engine; :func:`profile` the decorator;
:func:`run_script` runs a script with chosen functions traced. Results are
:class:`~memwatch.model.lines.LineProfile`; :mod:`memwatch.reporters.lines` renders them.
"""

from memwatch.lines.decorator import profile
from memwatch.lines.script import run_script
from memwatch.lines.tracer import LineTracer

__all__ = ["LineTracer", "profile", "run_script"]
