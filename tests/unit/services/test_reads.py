"""services/reads.py: each read checks the provider can do it, then asks it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.domain.commands import ActivityQuery
from gateway.domain.errors import OperationNotSupported, UpstreamUnavailable
from gateway.services.reads import ReadService


class _Program:
    id = "p"


class Provider:
    """A connector with every read (the Protocols are structural)."""

    provider = "fake"
    program = _Program()
    lookup_keys = ("email",)

    def __init__(self, probe_fails: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.probe_fails = probe_fails

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Any:
        self.calls.append(("profile", (member_id, pin)))
        return "member"

    async def lookup(self, key: str, value: str) -> list[Any]:
        self.calls.append(("lookup", (key, value)))
        return ["found"]

    async def activity(self, member_id: str, query: ActivityQuery) -> Any:
        self.calls.append(("activity", member_id))
        return "page"

    async def offers(self, member_id: str) -> list[Any]:
        self.calls.append(("offers", member_id))
        return ["offer"]

    async def probe(self) -> None:
        if self.probe_fails:
            raise UpstreamUnavailable("down")

    def circuit_state(self) -> str:
        return "closed"

    def circuit_states(self) -> dict[str, str]:
        return {"reads": "closed"}


class NoReads:
    provider = "bare"
    program = _Program()
    lookup_keys = ()


def test_each_read_is_handed_to_the_provider() -> None:
    provider, reads = Provider(), ReadService()
    assert asyncio.run(reads.profile(provider, "m1", "1234")) == "member"
    assert asyncio.run(reads.lookup(provider, "email", "a@b.c")) == ["found"]
    assert asyncio.run(reads.activity(provider, "m1", ActivityQuery())) == "page"
    assert asyncio.run(reads.offers(provider, "m1")) == ["offer"]
    assert [name for name, _ in provider.calls] == ["profile", "lookup", "activity", "offers"]


def test_a_read_the_provider_lacks_is_501() -> None:
    reads = ReadService()
    for call in (
        reads.profile(NoReads(), "m", None),
        reads.activity(NoReads(), "m", ActivityQuery()),
        reads.offers(NoReads(), "m"),
        reads.lookup(Provider(), "phone", "1"),  # not a lookup key
    ):
        with pytest.raises(OperationNotSupported):
            asyncio.run(call)


def test_health_reports_an_unreachable_provider_as_an_answer() -> None:
    reads = ReadService()
    up = asyncio.run(reads.health(Provider()))
    down = asyncio.run(reads.health(Provider(probe_fails=True)))
    assert up.reachable is True
    assert up.latency_ms is not None
    assert up.circuits == {"reads": "closed"}
    assert down.reachable is False
    assert down.latency_ms is None
    assert down.detail == "down"
