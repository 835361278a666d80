"""The one place providers are listed: provider name -> connector class."""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.connectors.alpha.client import AlphaConnector
from gateway.connectors.base import Connector, circuit_groups
from gateway.connectors.cpextender.client import CPExtenderConnector
from gateway.connectors.irt.client import IRTConnector
from gateway.connectors.shopyourway.client import ShopYourWayConnector
from gateway.infra.store import Store
from gateway.settings import ConfigError, ProgramSettings

PROVIDERS: dict[str, Any] = {
    "cpextender": CPExtenderConnector,
    "alpha": AlphaConnector,
    "irt": IRTConnector,
    "shopyourway": ShopYourWayConnector,
}


def validate_program(program: ProgramSettings, where: str) -> None:
    """Check the provider name, its ``options`` and its ``auth`` block at config load."""
    cls = PROVIDERS.get(program.provider)
    if cls is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"{where}.provider: unknown provider {program.provider!r} ({known})")
    try:
        msgspec.convert(program.options, cls.Options, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc).replace("`$.", f"`{where}.options.").replace("`$`", f"`{where}.options`")
        raise ConfigError(f"{where}.options: {message}") from None
    problem = cls.check_auth(program.auth)
    if problem:
        raise ConfigError(f"{where}.{problem}")


def build_connector(program: ProgramSettings, store: Store | None = None) -> Connector:
    connector: Connector = PROVIDERS[program.provider](program, store)
    connector.http.circuits.export(circuit_groups(connector))
    return connector
