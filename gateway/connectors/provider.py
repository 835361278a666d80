"""What a provider package declares about itself: one :class:`Provider`.

A provider is one package under ``gateway/connectors/`` (or anywhere, for a plug-in): its
connector class (with its ``Options`` and ``Auth`` shapes, their checks, its secret keys,
its operation names and capabilities), its simulator and the facts the docs print. The
registry (``registry.py``) lists the built-in ones; docs/adding-a-provider.md walks a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.connectors.base import Connector, capabilities_of


@dataclass(frozen=True, kw_only=True)
class Provider:
    #: the ``provider:`` value of a program in the configuration file
    name: str
    #: how people call it (docs, the demo banner)
    title: str
    connector: type[Connector]
    #: the module of its simulator, imported by the sandbox only (``gateway demo``, tests):
    #: it exports ``simulator() -> gateway.sandbox.simulator.Simulator``
    simulator: str
    #: the provider's own document (under ``seeds/``) its connector and simulator follow
    document: str
    #: its page under docs/providers/ (``None`` for one documented elsewhere, e.g. a test's)
    docs_page: str | None = None

    @property
    def capabilities(self) -> list[str]:
        """The capabilities its programs publish, in the order they list them."""
        return capabilities_of(self.connector)

    @property
    def auth_keys(self) -> frozenset[str]:
        return frozenset(self.connector.Auth.__struct_fields__)
