"""``memwatch config convert FILE``: document 000's validation config in memwatch's schema."""

from __future__ import annotations

from pathlib import Path

import click

from memwatch.errors import ConfigError

__all__ = ["command"]


@click.group("config")
def command() -> None:
    """Work with configuration files.

    Exit codes: 0 done, 2 a file that cannot be read or converted.
    """


@command.command("convert")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the YAML here.",
)
def convert_command(file: Path, output: Path | None) -> None:
    """Convert document 000's memory_validation.yaml (validation_levels:, thresholds:) into
    memwatch's schema.

    The converted YAML goes to standard output (or --output); the mapping, one line per key
    (document 000's key -> memwatch's), goes to standard error (standard output with
    --output). The result is checked against memwatch's schema before it is written.
    memwatch also reads the original file as it is: converting is for owning the new keys.
    """
    import yaml

    from memwatch.config.schema import _load_yaml, validate_config
    from memwatch.config.seed000 import convert, is_seed000

    if not file.is_file():
        raise ConfigError(f"config file {file} does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc}") from None
    data, _lines = _load_yaml(text, str(file))
    if not is_seed000(data):
        raise ConfigError(
            f"{file}: not document 000's format (no validation_levels: or thresholds: at the top); "
            "memwatch reads it as it is"
        )
    result = convert(data, source=str(file))
    validate_config(result.data, source=f"{file} (converted)")
    body = yaml.safe_dump(result.data, sort_keys=False, default_flow_style=False)
    header = f"# memwatch config converted from {file.name} by `memwatch config convert`\n"
    if output is not None:
        try:
            output.write_text(header + body, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{output}: cannot write: {exc.strerror or exc}") from None
        click.echo(result.mapping_text())
        click.echo(f"wrote {output}")
    else:
        click.echo(result.mapping_text(), err=True)
        click.echo(header + body, nl=False)
