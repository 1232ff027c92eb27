"""Configuration: the schema (every default once), finding the file, targets, and the option resolvers.

This package imports nothing heavy: :mod:`memwatch.config.find` works without pydantic, so the
pytest plugin can ask whether a config file exists on every run; :mod:`memwatch.config.schema`
validates it.
"""
