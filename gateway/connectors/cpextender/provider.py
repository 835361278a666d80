"""The CP Extender provider, as the registry lists it."""

from __future__ import annotations

from gateway.connectors.cpextender.client import CPExtenderConnector
from gateway.connectors.provider import Provider

PROVIDER = Provider(
    name="cpextender",
    title="CP Extender",
    connector=CPExtenderConnector,
    simulator="gateway.connectors.cpextender.simulator",
    document="cp-extender-loyalty.txt",
    docs_page="docs/providers/cpextender.md",
)
