"""JUnit XML for CI systems: one testcase per (component, check), metrics as properties."""

from __future__ import annotations

import datetime as _dt
from xml.etree import ElementTree as ET

from memwatch.model.suite import SuiteReport

__all__ = ["render_junit"]


def render_junit(report: object) -> str:
    """A ``<testsuites>`` document; fail -> ``<failure>``, error -> ``<error>``, skipped -> ``<skipped>``."""
    if not isinstance(report, SuiteReport):
        from memwatch.reporters import unsupported

        raise unsupported("junit", report)
    suites = ET.Element("testsuites", name="memwatch")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"memwatch.validate.{report.level}",
        tests=str(len(report.outcomes)),
        failures=str(report.count("fail")),
        errors=str(report.count("error")),
        skipped=str(report.count("skipped")),
        time=f"{report.duration:.3f}",
        timestamp=_dt.datetime.fromtimestamp(report.started_at, tz=_dt.UTC).isoformat(),
    )
    props = ET.SubElement(suite, "properties")
    for key, value in sorted(report.environment.items()):
        ET.SubElement(props, "property", name=f"env.{key}", value=str(value))
    for outcome in report.outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"memwatch.{outcome.component}",
            name=outcome.check,
            time=f"{outcome.duration:.3f}",
        )
        cprops = ET.SubElement(case, "properties")
        ET.SubElement(cprops, "property", name="severity", value=outcome.severity)
        ET.SubElement(cprops, "property", name="status", value=outcome.status)
        for key, value in sorted(outcome.metrics.items()):
            unit = outcome.units.get(key, "")
            ET.SubElement(cprops, "property", name=f"{key}[{unit}]" if unit else key, value=repr(value))
        if outcome.status == "fail":
            node = ET.SubElement(case, "failure", message=outcome.summary, type=outcome.severity)
            node.text = outcome.details or outcome.summary
        elif outcome.status == "error":
            node = ET.SubElement(case, "error", message=outcome.summary)
            node.text = outcome.details or outcome.summary
        elif outcome.status == "skipped":
            ET.SubElement(case, "skipped", message=outcome.summary)
        elif outcome.status == "warn":
            out = ET.SubElement(case, "system-out")
            out.text = f"WARNING ({outcome.severity}): {outcome.summary}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
