"""config/example.yaml, the documented full example, loads with its listed variables."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from gateway.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_example_loads_with_the_variables_it_lists() -> None:
    env = {
        "CP_API_TOKEN": "cp",
        "ALPHA_API_TOKEN": "alpha",
        "ALPHA_STAFF_API_KEY": "staff",
        "KIOSK_API_KEY_SHA256": hashlib.sha256(b"kiosk").hexdigest(),
        "MOBILE_API_KEY_SHA256": hashlib.sha256(b"mobile").hexdigest(),
    }
    settings = load_settings(EXAMPLE, env)
    assert {p.provider for p in settings.programs} >= {"cpextender", "alpha"}
    assert settings.programs[0].auth.token == "cp"


def test_every_settings_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = []

    def walk(struct: type, prefix: str) -> None:
        for name in struct.__struct_fields__:  # type: ignore[attr-defined]
            if not re.search(rf"`{re.escape(name)}`", text):
                missing.append(prefix + name)

    walk(Settings, "")
    for section in (
        "ServerSettings",
        "RedisSettings",
        "LoggingSettings",
        "IdempotencySettings",
        "ClientSettings",
        "AuthSettings",
        "TimeoutSettings",
        "PointsValueSettings",
        "ProgramSettings",
    ):
        import gateway.settings as module

        walk(getattr(module, section), section + ".")
    assert not missing, f"undocumented keys: {missing}"
