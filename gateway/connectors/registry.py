"""The one place providers are listed: provider name -> :class:`Provider`.

Each built-in provider is one line of ``_BUILT_IN``; anything else (a plug-in, the example
provider of the tests) joins through :func:`register`. Settings never import this module
(``gateway/config.py`` joins the two), so no provider is imported by the settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from gateway.connectors.alpha.provider import PROVIDER as ALPHA
from gateway.connectors.base import Connector, circuit_groups
from gateway.connectors.cpextender.provider import PROVIDER as CP_EXTENDER
from gateway.connectors.irt.provider import PROVIDER as IRT
from gateway.connectors.provider import Provider
from gateway.connectors.shopyourway.provider import PROVIDER as SHOPYOURWAY
from gateway.infra.store import Store
from gateway.settings import ConfigError, ProgramSettings

_BUILT_IN = (CP_EXTENDER, ALPHA, IRT, SHOPYOURWAY)

PROVIDERS: dict[str, Provider] = {provider.name: provider for provider in _BUILT_IN}


def register(provider: Provider) -> None:
    """Add a provider (the public seam for one outside this package); names are unique."""
    if provider.name in PROVIDERS:
        raise ValueError(f"a provider named {provider.name!r} is registered already")
    if provider.connector.provider != provider.name:
        raise ValueError(f"{provider.connector.__name__}.provider is not {provider.name!r}")
    PROVIDERS[provider.name] = provider


def unregister(name: str) -> None:
    """Remove a provider added with :func:`register` (tests); built-in ones stay."""
    if any(provider.name == name for provider in _BUILT_IN):
        raise ValueError(f"{name!r} is built in")
    PROVIDERS.pop(name, None)


def providers() -> Iterator[Provider]:
    """Every registered provider, built-in ones first, in the order they were listed."""
    return iter(list(PROVIDERS.values()))


def secret_keys(provider: str) -> tuple[str, ...]:
    """The keys of this provider's ``auth`` that hold secrets (none for an unknown name)."""
    found = PROVIDERS.get(provider)
    return found.connector.secret_keys if found else ()


def _known_auth_keys() -> frozenset[str]:
    return frozenset().union(*(provider.auth_keys for provider in PROVIDERS.values()))


def _convert(raw: object, shape: type[msgspec.Struct], where: str) -> msgspec.Struct:
    try:
        return msgspec.convert(raw, shape, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc).replace("`$.", f"`{where}.").replace("`$`", f"`{where}`")
        raise ConfigError(f"{where}: {message}") from None


def validate_program(program: ProgramSettings, where: str) -> None:
    """Check the provider name, its ``options`` and its ``auth`` block at config load."""
    provider = PROVIDERS.get(program.provider)
    if provider is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"{where}.provider: unknown provider {program.provider!r} ({known})")
    cls = provider.connector
    _convert(program.options, cls.Options, f"{where}.options")
    # A key of another provider's auth shape is accepted and ignored, as documented; a key
    # no provider knows is a typo and refused, as the one shared auth block once did.
    unknown = sorted(set(program.auth) - _known_auth_keys())
    if unknown:
        raise ConfigError(f"{where}.auth: Object contains unknown field `{unknown[0]}`")
    problem = cls.check_auth(_convert(program.auth, cls.Auth, f"{where}.auth"))
    if problem:
        raise ConfigError(f"{where}.{problem}")


def build_connector(program: ProgramSettings, store: Store | None = None) -> Connector:
    connector = PROVIDERS[program.provider].connector(program, store)
    connector.http.circuits.export(circuit_groups(connector))
    return connector
