"""The reads that are not cached — a member's profile, lookups, activity, offers and a
program's health — so the HTTP edge talks to services only, as it does for balances and
writes. Each checks that the program's provider can do it (``501`` otherwise)."""

from __future__ import annotations

import time

from gateway.connectors.base import (
    ActivityReader,
    Connector,
    HealthProbe,
    MemberLookup,
    OfferReader,
    ProfileReader,
    require,
)
from gateway.connectors.common import utcnow
from gateway.domain.commands import ActivityQuery
from gateway.domain.errors import GatewayError, OperationNotSupported
from gateway.domain.models import ActivityPage, Member, Offer, ProgramHealth


class ReadService:
    async def profile(self, connector: Connector, member_id: str, pin: str | None) -> Member:
        return await require(connector, "profile", ProfileReader).get_member(member_id, pin=pin)

    async def lookup(self, connector: Connector, key: str, value: str) -> list[Member]:
        """Members whose ``key`` (email, phone, card_number) is ``value``."""
        finder = require(connector, "lookup", MemberLookup)
        if key not in connector.lookup_keys:
            raise OperationNotSupported(
                f"Program {connector.program.id!r} cannot look members up by {key}; "
                f"it supports: {', '.join(connector.lookup_keys)}."
            )
        return await finder.lookup(key, value)

    async def activity(
        self, connector: Connector, member_id: str, query: ActivityQuery
    ) -> ActivityPage:
        return await require(connector, "activity", ActivityReader).activity(member_id, query)

    async def offers(self, connector: Connector, member_id: str) -> list[Offer]:
        return await require(connector, "offers", OfferReader).offers(member_id)

    async def health(self, connector: Connector) -> ProgramHealth:
        """Whether the provider answers its probe, how fast, and the program's circuits; an
        unreachable provider is an answer (``reachable: false``), not an error."""
        started = time.perf_counter()
        reachable, detail = True, None
        if isinstance(connector, HealthProbe):
            try:
                await connector.probe()
            except GatewayError as exc:
                reachable, detail = False, exc.detail
        return ProgramHealth(
            program=connector.program.id,
            provider=connector.provider,
            reachable=reachable,
            latency_ms=round((time.perf_counter() - started) * 1000, 2) if reachable else None,
            circuit=connector.circuit_state(),
            checked_at=utcnow(),
            detail=detail,
            circuits=connector.circuit_states(),
        )
