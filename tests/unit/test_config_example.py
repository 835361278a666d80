"""config/example.yaml, the documented full example, loads with its listed variables."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec
import pytest
import yaml

import gateway.settings as settings_module
from gateway.config import load_settings
from gateway.connectors.registry import PROVIDERS
from gateway.connectors.shopyourway.config import MessageVersions
from gateway.connectors.shopyourway.simulator.keys import DEMO_PRIVATE_KEY_PEM
from gateway.settings import ConfigError, Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

#: every variable the example needs without a default (the header's first list)
REQUIRED_ENV = {
    "CP_API_TOKEN": "cp",
    "ALPHA_API_TOKEN": "alpha",
    "ALPHA_STAFF_API_KEY": "staff",
    "IRT_USER": "irt-user",
    "IRT_PASS": "irt-pass",
    "SYW_CLIENT_ID": "EXT_PARTNER",
    "SYW_REQUESTOR_ID": "REQ1",
    "SYW_OFFER_ID": "PARTNER_BONUS",
    "KIOSK_API_KEY_SHA256": hashlib.sha256(b"kiosk").hexdigest(),
    "MOBILE_API_KEY_SHA256": hashlib.sha256(b"mobile").hexdigest(),
}


def test_example_loads_with_the_variables_it_lists() -> None:
    env = {**REQUIRED_ENV, "SYW_PRIVATE_KEY": DEMO_PRIVATE_KEY_PEM}
    settings = load_settings(EXAMPLE, env)
    assert {p.provider for p in settings.programs} == {"cpextender", "alpha", "irt", "shopyourway"}
    assert settings.programs[0].auth["token"] == "cp"
    irt = settings.program("irt-rewards")
    assert irt is not None
    assert (irt.auth["type"], irt.auth["username"], irt.auth["password"]) == (
        "credentials",
        "irt-user",
        "irt-pass",
    )
    syw = settings.program("syw-rewards")
    assert syw is not None
    assert syw.auth["type"] == "jwt_bearer"
    assert syw.auth["client_id"] == "EXT_PARTNER"
    assert syw.auth["private_key"] == DEMO_PRIVATE_KEY_PEM
    assert syw.options["requestor_id"] == "REQ1"
    # the per-program resilience keys are used at least once
    written = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["programs"]
    assert any("operations" in p.get("timeouts", {}) for p in written)
    assert any("circuit" in p for p in written)
    assert any("retries" in p for p in written)


def test_example_takes_the_shopyourway_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "syw-private-key.pem"
    key_file.write_text(DEMO_PRIVATE_KEY_PEM, encoding="utf-8")
    env = {**REQUIRED_ENV, "SYW_PRIVATE_KEY_FILE": str(key_file)}
    syw = load_settings(EXAMPLE, env).program("syw-rewards")
    assert syw is not None
    assert syw.auth["private_key"] == ""  # empty: the file is used
    assert syw.auth["private_key_file"] == str(key_file)


def test_example_without_a_shopyourway_key_names_the_file(tmp_path: Path) -> None:
    env = {**REQUIRED_ENV, "SYW_PRIVATE_KEY_FILE": str(tmp_path / "missing.pem")}
    with pytest.raises(ConfigError, match=r"auth\.private_key_file: cannot read it"):
        load_settings(EXAMPLE, env)


def test_example_header_lists_every_variable_it_uses() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", body))
    without_default = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", body))
    assert without_default == set(REQUIRED_ENV)
    assert not [name for name in used if not re.search(rf"\b{name}\b", header)]


def test_every_settings_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = []

    def walk(struct: type, prefix: str) -> None:
        for name in struct.__struct_fields__:  # type: ignore[attr-defined]
            if not re.search(rf"`{re.escape(name)}`", text):
                missing.append(prefix + name)

    walk(Settings, "")
    sections = [
        value
        for value in vars(settings_module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == settings_module.__name__
    ]
    for section in sections:
        walk(section, section.__name__ + ".")
    for name, provider in PROVIDERS.items():
        walk(provider.connector.Options, f"{name}.options.")
        walk(provider.connector.Auth, f"{name}.auth.")
    walk(MessageVersions, "shopyourway.options.message_versions.")
    assert not missing, f"undocumented keys: {missing}"
