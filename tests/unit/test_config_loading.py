"""gateway/config.py: the settings' rules plus the provider registry's check of each program."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_settings, parse_settings
from gateway.sandbox.world import World
from gateway.settings import ConfigError, ProgramSettings
from gateway.settings_parse import parse_document

TEXT = World().config_yaml(redis_url="redis://127.0.0.1:1")


def test_the_registry_checks_each_program() -> None:
    with pytest.raises(ConfigError, match=r"programs\[0\]\.provider: unknown provider 'nope'"):
        parse_settings(TEXT.replace("provider: cpextender", "provider: nope", 1))


def test_the_settings_alone_leave_providers_to_the_check_they_are_given() -> None:
    seen: list[tuple[str, str]] = []

    def check(program: ProgramSettings, where: str) -> None:
        seen.append((program.provider, where))

    parse_document(TEXT.replace("provider: cpextender", "provider: nope", 1), check)
    assert seen[0] == ("nope", "programs[0]")
    assert len(seen) == 4


def test_load_reads_the_file_and_says_when_it_cannot(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(TEXT, encoding="utf-8")
    assert load_settings(path).programs[0].id == "cafe-rewards"
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")
