"""The provider registry: the built-in list, the register seam, and the provider part of a
program checked through it (options and auth in each provider's own shape)."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.connectors import registry
from gateway.connectors.cpextender.provider import PROVIDER as CP
from gateway.connectors.irt.provider import PROVIDER as IRT
from gateway.settings import ConfigError, ProgramSettings


def _program(provider: str, auth: dict[str, object], **options: object) -> ProgramSettings:
    return ProgramSettings(
        id="p", name="P", provider=provider, base_url="http://x", auth=auth, options=options
    )


def test_the_built_in_providers_in_their_order() -> None:
    assert [p.name for p in registry.providers()] == ["cpextender", "alpha", "irt", "shopyourway"]
    assert registry.PROVIDERS["irt"].connector.provider == "irt"


def test_register_adds_a_provider_and_unregister_removes_it() -> None:
    class Renamed(CP.connector):  # type: ignore[misc, valid-type]
        provider = "cp-copy"

    copy = dataclasses.replace(CP, name="cp-copy", connector=Renamed)
    registry.register(copy)
    try:
        assert registry.PROVIDERS["cp-copy"] is copy
        registry.validate_program(_program("cp-copy", {"type": "bearer", "token": "t"}), "x")
    finally:
        registry.unregister("cp-copy")
    assert "cp-copy" not in registry.PROVIDERS


def test_register_refuses_a_taken_name_and_a_mismatched_connector() -> None:
    with pytest.raises(ValueError, match="registered already"):
        registry.register(CP)
    with pytest.raises(ValueError, match="is not 'other'"):
        registry.register(dataclasses.replace(CP, name="other"))
    with pytest.raises(ValueError, match="built in"):
        registry.unregister("irt")


def test_secret_keys_are_each_providers_own() -> None:
    assert registry.secret_keys("cpextender") == ("token",)
    assert registry.secret_keys("irt") == ("password",)
    assert registry.secret_keys("shopyourway") == ("private_key",)
    assert registry.secret_keys("nope") == ()


@pytest.mark.parametrize(
    ("program", "message"),
    [
        (_program("nope", {}), "x.provider: unknown provider 'nope' (alpha, cpextender, irt"),
        (_program("irt", {"type": "credentials"}), "x.auth.username: required (IRT 'user')"),
        (_program("irt", {"type": "bearer", "token": "t"}), "x.auth.type: IRT needs type"),
        (_program("irt", {"typo": 1}), "x.auth: Object contains unknown field `typo`"),
        (_program("irt", {"username": 5}), "x.auth: Expected `str | null`, got `int`"),
        (_program("cpextender", {}, nonsense=1), "x.options: Object contains unknown field"),
    ],
)
def test_a_program_is_checked_in_its_providers_shape(
    program: ProgramSettings, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        registry.validate_program(program, "x")
    assert str(raised.value).startswith(message)


def test_a_key_of_another_providers_auth_is_accepted() -> None:
    registry.validate_program(
        _program("irt", {"type": "credentials", "username": "u", "password": "p", "token": "t"}),
        "x",
    )


def test_build_connector_gives_the_connector_its_typed_auth() -> None:
    program = _program("irt", {"type": "credentials", "username": "u", "password": "p"})
    connector = registry.build_connector(program)
    assert type(connector) is IRT.connector
    assert (connector.auth.username, connector.auth.password) == ("u", "p")
