"""UpstreamClient sends to the transport directly: URL joining and header merging."""

from __future__ import annotations

import asyncio

import httpx

from gateway.connectors.http import UpstreamClient, _merged
from gateway.settings import ProgramSettings


def _program() -> ProgramSettings:
    return ProgramSettings(
        id="p", name="P", provider="cpextender", base_url="http://provider.test/api/"
    )


def test_default_headers_are_overridden_regardless_of_case() -> None:
    defaults = {"Authorization": "Bearer a", "User-Agent": "ua"}
    assert _merged(defaults, {}) is defaults
    assert _merged(defaults, {"authorization": "Bearer b", "X-Request-ID": "r"}) == {
        "User-Agent": "ua",
        "authorization": "Bearer b",
        "X-Request-ID": "r",
    }


def test_paths_join_the_base_url_and_whole_urls_are_kept() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async def main() -> None:
        client = UpstreamClient(
            _program(),
            "cpextender",
            headers={"Authorization": "Bearer t"},
            transport=httpx.MockTransport(answer),
        )
        first = await client.request("GET", "/Loyalty/1/BalanceCheck", operation="balance")
        assert first.json() == {"ok": True}
        await client.request("POST", "https://idp.test/token", operation="token", data={"a": "b"})
        await client.aclose()

    asyncio.run(main())
    assert str(seen[0].url) == "http://provider.test/api/Loyalty/1/BalanceCheck"
    assert seen[0].headers["authorization"] == "Bearer t"
    assert seen[0].headers["user-agent"].startswith("loyalty-gateway/")
    assert str(seen[1].url) == "https://idp.test/token"
    assert seen[1].content == b"a=b"
    assert seen[1].extensions["timeout"]["connect"] > 0
