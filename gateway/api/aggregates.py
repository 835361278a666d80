"""The BFF endpoints: a member's overview and a multi-program wallet, in one call each.

Both answer 200 whenever the envelope could be built: each part carries its data or its own
problem object, ``complete`` says whether any part failed (a part the provider cannot do is
marked ``operation_not_supported`` and does not make the answer incomplete), and the header
``X-Aggregate-Complete`` repeats it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from gateway.api.auth import caller_of
from gateway.api.members import MemberPin
from gateway.api.openapi import API_KEY, problems
from gateway.api.problems import Problem, problem_of
from gateway.api.state import connector_for, services
from gateway.domain.errors import FieldError, GatewayError, InvalidRequest
from gateway.domain.models import ActivityEntry, Balance, Member, Money, Offer
from gateway.services.aggregates import totals
from gateway.services.balances import BalanceRead

COMPLETE_HEADER = "X-Aggregate-Complete"


class MemberPart(msgspec.Struct, omit_defaults=True):
    data: Member | None = None
    error: Problem | None = None


class BalancePart(msgspec.Struct, omit_defaults=True):
    data: Balance | None = None
    error: Problem | None = None
    cache_status: str | None = None


class ActivityPart(msgspec.Struct, omit_defaults=True):
    data: list[ActivityEntry] | None = None
    error: Problem | None = None


class OffersPart(msgspec.Struct, omit_defaults=True):
    data: list[Offer] | None = None
    error: Problem | None = None


class Overview(msgspec.Struct):
    program: str
    member_id: str
    complete: bool
    member: MemberPart
    balance: BalancePart
    activity: ActivityPart
    offers: OffersPart


class Membership(msgspec.Struct, forbid_unknown_fields=True):
    program: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    member_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class WalletRequest(msgspec.Struct, forbid_unknown_fields=True):
    memberships: Annotated[list[Membership], msgspec.Meta(min_length=1, max_length=100)]


class WalletItem(msgspec.Struct, omit_defaults=True):
    program: str
    member_id: str
    data: Balance | None = None
    error: Problem | None = None
    cache_status: str | None = None


class Wallet(msgspec.Struct):
    complete: bool
    items: list[WalletItem]
    #: available value per currency, over the items that succeeded
    totals: list[Money]


def _failed(*errors: Any) -> bool:
    return any(isinstance(e, GatewayError) and e.code != "operation_not_supported" for e in errors)


def _balance_part(result: Any) -> BalancePart:
    if isinstance(result, GatewayError):
        return BalancePart(error=problem_of(result))
    read: BalanceRead = result
    read.balance.provider_data = None
    return BalancePart(data=read.balance, cache_status=read.cache_status)


def _answer(body: Any, complete: bool) -> Response[Any]:
    return Response(body, headers={COMPLETE_HEADER: "true" if complete else "false"})


class AggregateController(Controller):
    path = "/v1"
    tags = ["aggregates"]
    security = API_KEY

    @get(
        "/programs/{program:str}/members/{member_id:str}/overview",
        summary="Member, balance, recent activity and offers in one call",
        description="Parts are fetched concurrently, each within the configured deadline "
        "(default 2 s); each part holds `data` or `error` (a problem object).",
        opt={"scope": "members:read"},
        responses=problems("overview"),
    )
    async def overview(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        pin: MemberPin = None,
    ) -> Response[Overview]:
        svc = services(request)
        connector = connector_for(request, program)
        result = await svc.aggregates.overview(connector, member_id, pin)
        member = (
            MemberPart(error=problem_of(result.member))
            if isinstance(result.member, GatewayError)
            else MemberPart(data=result.member)
        )
        if member.data is not None:
            member.data.provider_data = None
        activity = (
            ActivityPart(error=problem_of(result.activity))
            if isinstance(result.activity, GatewayError)
            else ActivityPart(data=result.activity.data)
        )
        offers = (
            OffersPart(error=problem_of(result.offers))
            if isinstance(result.offers, GatewayError)
            else OffersPart(data=result.offers)
        )
        complete = not _failed(result.member, result.balance, result.activity, result.offers)
        body = Overview(
            program=program,
            member_id=member_id,
            complete=complete,
            member=member,
            balance=_balance_part(result.balance),
            activity=activity,
            offers=offers,
        )
        return _answer(body, complete)

    @post(
        "/wallet",
        summary="Balances of several memberships in one call",
        description="Each item carries its balance or its own problem (a program outside the "
        "client's list is that item's `program_not_found`); `totals` sums the available value "
        "per currency over the items that succeeded.",
        opt={"scope": "members:read", "body": WalletRequest},
        status_code=200,
        responses=problems("wallet"),
    )
    async def wallet(
        self, request: Request[Any, Any, Any], data: JSONBody[WalletRequest]
    ) -> Response[Wallet]:
        svc = services(request)
        limit = svc.settings.aggregates.wallet_max_items
        if len(data.memberships) > limit:
            raise InvalidRequest(
                f"At most {limit} memberships per wallet request.",
                errors=[FieldError(field="memberships", message=f"at most {limit} items")],
            )
        caller = caller_of(request)
        for index, membership in enumerate(data.memberships):
            connector = svc.directory.find(caller, membership.program)
            if connector is not None:  # an unknown program is that item's own problem
                try:
                    connector.check_ids(membership.member_id)
                except InvalidRequest as exc:
                    field = f"memberships[{index}].member_id"
                    exc.errors = [
                        FieldError(field=field, message=e.message) for e in exc.errors or []
                    ]
                    raise
        results = await svc.aggregates.wallet(
            caller, [(m.program, m.member_id) for m in data.memberships]
        )
        items = []
        for result in results:
            part = _balance_part(result.balance)
            items.append(
                WalletItem(
                    program=result.program,
                    member_id=result.member_id,
                    data=part.data,
                    error=part.error,
                    cache_status=part.cache_status,
                )
            )
        values = [i.data.value for i in items if i.data is not None and i.data.value is not None]
        complete = not _failed(*(r.balance for r in results))
        return _answer(Wallet(complete=complete, items=items, totals=totals(values)), complete)
