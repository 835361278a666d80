"""Loading the configuration: the settings model and its rules (``gateway/settings.py``)
with each program's provider part checked by the provider registry. Kept apart from
``settings.py`` so that the settings, which every connector imports, import no connector."""

from __future__ import annotations

from pathlib import Path

from gateway.connectors.registry import validate_program
from gateway.settings import Settings, parse_document, read_document


def parse_settings(text: str, env: dict[str, str] | None = None) -> Settings:
    """Parse and validate a YAML configuration document."""
    return parse_document(text, validate_program, env)


def load_settings(path: str | Path, env: dict[str, str] | None = None) -> Settings:
    """Read and validate the configuration file at ``path``; see ``docs/configuration.md``."""
    return parse_settings(read_document(path), env)
