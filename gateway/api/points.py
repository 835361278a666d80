"""Balance, earn, redemptions and activity of one member."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api.bodies import NoBody
from gateway.api.idempotent import run_write
from gateway.api.members import IdempotencyKey, Include, MemberPin, provider_data
from gateway.api.openapi import API_KEY, CACHE_HEADERS, REPLAYED, problems
from gateway.api.state import connector_for, services
from gateway.domain.commands import ActivityQuery, EarnRequest, RedemptionRequest, WriteJob
from gateway.domain.errors import FieldError, InvalidRequest
from gateway.domain.models import ActivityPage, Balance, OfferList, Redemption, Transaction
from gateway.services.balances import BalanceRead
from gateway.settings import Scope


def _no_cache(request: Request[Any, Any, Any]) -> bool:
    return forces_fresh(request.headers.get("cache-control", ""))


def forces_fresh(cache_control: str) -> bool:
    """The request's ``Cache-Control`` asks for a fresh read (API.md "Caching")."""
    directives = cache_control.lower()
    return any(d.strip() in ("no-cache", "no-store", "max-age=0") for d in directives.split(","))


#: what a caller needs to read a balance (also checked by gateway/api/fast_balance.py)
BALANCE_SCOPE: Scope = "members:read"


def balance_headers(read: BalanceRead) -> dict[str, str]:
    """The cache headers of a balance answer (API.md "Caching")."""
    return {
        "Cache-Status": read.cache_status,
        "Age": str(read.age),
        "Cache-Control": "private, no-cache",
    }


#: RFC 3339 date-time, as the document's ``format: date-time`` says (litestar alone would
#: also take a number as a Unix timestamp: ``until=0.5``)
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)?$")


def _utc(value: dt.datetime | None, name: str, raw: str | None) -> dt.datetime | None:
    if value is None:
        return None
    if raw is None or not _DATE_TIME.match(raw):
        raise InvalidRequest(
            f"{name} must be an ISO-8601 timestamp (e.g. 2024-01-31T00:00:00Z).",
            errors=[FieldError(field=name, message="not an ISO-8601 timestamp")],
        )
    if value.tzinfo is None:
        raise InvalidRequest(
            f"{name} needs a timezone (e.g. 2024-01-31T00:00:00Z).",
            errors=[FieldError(field=name, message="timestamp without timezone")],
        )
    return value.astimezone(dt.UTC)


class PointsController(Controller):
    path = "/v1/programs/{program:str}/members/{member_id:str}"
    tags = ["points"]
    security = API_KEY

    @get(
        "/balance",
        summary="The member's points balance (cached)",
        description="Send `Cache-Control: no-cache` to force a fresh read. The answer carries "
        "`Cache-Status` (RFC 9211) and `Age`.",
        opt={"scope": BALANCE_SCOPE},
        responses=problems("balance"),
        response_headers=CACHE_HEADERS,
    )
    async def balance(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        include: Include = None,
        pin: MemberPin = None,
    ) -> Response[Balance]:
        svc = services(request)
        connector = connector_for(request, program)
        read = await svc.balances.read(connector, member_id, no_cache=_no_cache(request), pin=pin)
        read.balance.provider_data = provider_data(include, read.balance.provider_data)
        return Response(read.balance, headers=balance_headers(read))

    @post(
        "/earn",
        summary="Add points",
        opt={"scope": "points:earn", "idempotent": True, "body": EarnRequest},
        status_code=201,
        responses=problems("earn"),
        response_headers=[REPLAYED],
    )
    async def earn(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        data: JSONBody[EarnRequest],
        idempotency_key: IdempotencyKey,
        pin: MemberPin = None,
    ) -> Response[Transaction]:
        connector = connector_for(request, program)
        job = WriteJob(program=program, operation="earn", member_id=member_id, earn=data)
        return await run_write(request, connector, job, pin)

    @post(
        "/redemptions",
        summary="Redeem (authorize) points",
        opt={"scope": "points:redeem", "idempotent": True, "body": RedemptionRequest},
        status_code=201,
        responses=problems("redeem"),
        response_headers=[REPLAYED],
    )
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        data: JSONBody[RedemptionRequest],
        idempotency_key: IdempotencyKey,
        pin: MemberPin = None,
    ) -> Response[Redemption]:
        connector = connector_for(request, program)
        job = WriteJob(program=program, operation="redeem", member_id=member_id, redemption=data)
        return await run_write(request, connector, job, pin)

    @post(
        "/redemptions/{redemption_id:str}/void",
        summary="Reverse a redemption",
        opt={"scope": "points:redeem", "idempotent": True, "body": NoBody},
        status_code=200,
        responses=problems("void"),
        response_headers=[REPLAYED],
    )
    async def void(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        redemption_id: FromPath[str],
        idempotency_key: IdempotencyKey,
    ) -> Response[Redemption]:
        connector = connector_for(request, program)
        job = WriteJob(
            program=program, operation="void", member_id=member_id, redemption_id=redemption_id
        )
        return await run_write(request, connector, job)

    @get(
        "/activity",
        summary="Ledger entries, newest first",
        description="`since` is inclusive and `until` exclusive (ISO-8601 with a timezone); "
        "follow `next_cursor` for older entries.",
        opt={"scope": "members:read"},
        responses=problems("activity"),
    )
    async def activity(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        since: FromQuery[dt.datetime | None] = None,
        until: FromQuery[dt.datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        include: Include = None,
    ) -> ActivityPage:
        connector = connector_for(request, program)
        raw = request.query_params
        start = _utc(since, "since", raw.get("since"))
        end = _utc(until, "until", raw.get("until"))
        if start is not None and end is not None and end <= start:
            # a provider refuses an empty window its own way (ShopYourWay: 422)
            raise InvalidRequest(
                "until must be later than since.",
                errors=[FieldError(field="until", message="not later than since")],
            )
        query = ActivityQuery(since=start, until=end, limit=limit, cursor=cursor)
        page = await services(request).reads.activity(connector, member_id, query)
        page.provider_data = provider_data(include, page.provider_data)
        return page

    @get(
        "/offers",
        summary="Offers the member can use",
        opt={"scope": "members:read"},
        responses=problems("offers"),
    )
    async def offers(
        self, request: Request[Any, Any, Any], program: FromPath[str], member_id: FromPath[str]
    ) -> OfferList:
        connector = connector_for(request, program)
        offers = await services(request).reads.offers(connector, member_id)
        return OfferList(program=program, member_id=member_id, data=offers)
