"""The IRT provider, as the registry lists it."""

from __future__ import annotations

from gateway.connectors.irt.client import IRTConnector
from gateway.connectors.provider import Provider

PROVIDER = Provider(
    name="irt",
    title="IRT",
    connector=IRTConnector,
    simulator="gateway.connectors.irt.simulator",
    document="irt-partner-api.postman.json",
    docs_page="docs/providers/irt.md",
)
