"""``memwatch probes``: what every probe reads here, or why it cannot."""

from __future__ import annotations

import json

import click

from memwatch.probes import SIGNALS, signal
from memwatch.probes.gpu import nvml_devices, torch_memory
from memwatch.probes.psi import read_pressure
from memwatch.probes.system import memory_budget
from memwatch.units import format_size

__all__ = ["command"]


@click.command("probes")
@click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
def command(as_json: bool) -> int:
    """Show what each memory probe reads on this machine, or why it cannot."""
    rows: dict[str, object] = {}
    for name in SIGNALS:
        sig = signal(name)
        rows[name] = {
            "unit": sig.unit,
            "value": sig.read() if sig.available else None,
            "unavailable": sig.reason,
        }
    budget = memory_budget()
    pressure = read_pressure()
    gpus, gpu_reason = nvml_devices()
    torch_mem, torch_reason = torch_memory()
    rows["budget"] = {"limit": budget.limit, "source": budget.source, "detail": budget.detail}
    rows["pressure"] = {
        "some_avg10": pressure.some_avg10,
        "full_avg10": pressure.full_avg10,
        "source": pressure.source,
        "unavailable": pressure.reason,
    }
    rows["gpu"] = {"devices": [vars(d) for d in gpus], "unavailable": gpu_reason}
    rows["torch"] = {"devices": [vars(d) for d in torch_mem], "unavailable": torch_reason}
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    for name in SIGNALS:
        entry = rows[name]
        assert isinstance(entry, dict)
        if entry["unavailable"]:
            text = f"unavailable ({entry['unavailable']})"
        elif entry["unit"] == "bytes":
            text = format_size(float(entry["value"]))
        else:
            text = f"{entry['value']:,.0f}"
        click.echo(f"{name:<12} {text}")
    click.echo(f"{'budget':<12} {format_size(budget.limit)} from {budget.source} ({budget.detail})")
    if pressure.available:
        click.echo(
            f"{'pressure':<12} some {pressure.some_avg10:.2f}% full "
            f"{pressure.full_avg10 or 0:.2f}% (avg10, {pressure.source})"
        )
    else:
        click.echo(f"{'pressure':<12} unavailable ({pressure.reason})")
    if gpus:
        for dev in gpus:
            click.echo(
                f"{'gpu' + str(dev.index):<12} {format_size(dev.used)} of "
                f"{format_size(dev.total)} ({dev.name})"
            )
    else:
        click.echo(f"{'gpu':<12} unavailable ({gpu_reason})")
    return 0
