"""The ShopYourWay provider, as the registry lists it."""

from __future__ import annotations

from gateway.connectors.provider import Provider
from gateway.connectors.shopyourway.client import ShopYourWayConnector

PROVIDER = Provider(
    name="shopyourway",
    title="ShopYourWay",
    connector=ShopYourWayConnector,
    simulator="gateway.connectors.shopyourway.simulator",
    document="shopyourway-rewards-api.txt",
    docs_page="docs/providers/shopyourway.md",
)
