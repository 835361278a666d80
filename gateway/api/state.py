"""What handlers reach through ``request.app.state``: built once in the lifespan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar.connection import ASGIConnection

from gateway.api.auth import caller_of
from gateway.infra.identity import MemberTokens
from gateway.infra.store import Store
from gateway.services.access import Access
from gateway.services.aggregates import AggregateService
from gateway.services.balances import BalanceService
from gateway.services.idempotency import IdempotencyService
from gateway.services.programs import ProgramDirectory
from gateway.services.reads import ReadService
from gateway.services.writes import WriteService
from gateway.settings import Settings

if TYPE_CHECKING:  # the edge holds a connector only to hand it back to a service
    from gateway.connectors.base import Connector


class Services(msgspec.Struct):
    settings: Settings
    store: Store
    directory: ProgramDirectory
    balances: BalanceService
    writes: WriteService
    aggregates: AggregateService
    idempotency: IdempotencyService
    access: Access
    reads: ReadService
    identity: MemberTokens | None = None
    #: the store is the gateway's own embedded Redis (its health is the gateway's health)
    embedded_store: bool = False


def services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    found: Services = connection.app.state.services
    return found


def connector_for(connection: ASGIConnection[Any, Any, Any, Any], program: str) -> Connector:
    """The program's connector, if the caller may see the program (else 404)."""
    return services(connection).directory.connector(caller_of(connection), program)
