"""Loading the configuration: the settings model (``gateway/settings.py``) read and checked
by ``gateway/settings_parse.py``, with each program's provider part checked by the provider
registry. Kept apart from both so that the settings, which every connector imports, import
no connector."""

from __future__ import annotations

from pathlib import Path

from gateway import settings_parse
from gateway.connectors.registry import secret_keys, validate_program
from gateway.settings import Settings
from gateway.settings_parse import parse_document, read_document


def parse_settings(text: str, env: dict[str, str] | None = None) -> Settings:
    """Parse and validate a YAML configuration document."""
    return parse_document(text, validate_program, env)


def load_settings(path: str | Path, env: dict[str, str] | None = None) -> Settings:
    """Read and validate the configuration file at ``path``; see ``docs/configuration.md``."""
    return parse_settings(read_document(path), env)


def inline_secrets(text: str) -> list[str]:
    """Key paths of secrets written into the file itself (``settings_parse.inline_secrets``), with
    each provider's secret keys from the registry."""
    return settings_parse.inline_secrets(text, secret_keys)
