"""Shared fixtures for unit tests: provider payloads copied from the documents, programs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import PointsValueSettings, ProgramSettings

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def load_json_fixture(provider: str, name: str) -> Any:
    """``tests/fixtures/<provider>/<name>.json`` parsed; a fresh object on every call."""
    filename = name if name.endswith(".json") else f"{name}.json"
    path = FIXTURES_DIR / provider / filename
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def load_fixture() -> Callable[[str, str], Any]:
    """``load_fixture("alpha", "recipient")`` -> the parsed JSON payload."""
    return load_json_fixture


@pytest.fixture
def make_program() -> Callable[..., ProgramSettings]:
    """Build a ProgramSettings for a provider, optionally with a points value rate."""

    def make(
        provider: str = "cpextender",
        *,
        program_id: str | None = None,
        points_per_unit: int | None = None,
        currency: str = "USD",
    ) -> ProgramSettings:
        return ProgramSettings(
            id=program_id or f"{provider}-test",
            name=f"{provider} test program",
            provider=provider,
            base_url=f"https://{provider}.example.test",
            auth={"type": "bearer", "token": "test-token"},
            points_value=(
                PointsValueSettings(points_per_unit=points_per_unit, currency=currency)
                if points_per_unit is not None
                else None
            ),
        )

    return make
