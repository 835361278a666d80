"""/v1/programs/{program}/members: enroll, look up, read and merge-patch members."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from gateway.api.idempotent import run_write
from gateway.api.openapi import API_KEY, REPLAYED, problems
from gateway.api.state import connector_for, services
from gateway.domain.commands import EnrollRequest, MemberPatchRequest, WriteJob
from gateway.domain.errors import FieldError, InvalidRequest
from gateway.domain.models import Member, MemberList
from gateway.infra.logging import strip_secrets

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        description="Unique per intended write (e.g. a UUID); retries reuse it. 1-255 "
        "printable ASCII characters, optionally as a quoted string (IETF draft form).",
        min_length=1,
        max_length=257,
    ),
]
Include = Annotated[
    str | None,
    QueryParameter(name="include", description="`provider_data` adds the provider's own payload."),
]
MemberPin = Annotated[
    str | None,
    HeaderParameter(
        name="X-Member-PIN",
        description="The member's PIN, for programs whose provider checks one (IRT). "
        "Never logged or stored.",
        max_length=32,
        required=False,
    ),
]
LOOKUP_KEYS = ("email", "phone", "card_number")


def provider_data(include: str | None, payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """The provider's payload, without credentials, when ``?include=provider_data`` asks."""
    if not wants_provider_data(include) or payload is None:
        return None
    shown: dict[str, Any] = strip_secrets(payload)
    return shown


def wants_provider_data(include: str | None) -> bool:
    if include is None:
        return False
    parts = {p.strip() for p in include.split(",") if p.strip()}
    unknown = parts - {"provider_data"}
    if unknown:
        raise InvalidRequest(
            "Unknown include value.",
            errors=[FieldError(field="include", message=f"unknown: {', '.join(sorted(unknown))}")],
        )
    return True


class MemberController(Controller):
    path = "/v1/programs/{program:str}/members"
    tags = ["members"]
    security = API_KEY

    @post(
        "/",
        summary="Enroll a member",
        opt={"scope": "members:write", "idempotent": True, "body": EnrollRequest},
        status_code=201,
        responses=problems("enroll"),
        response_headers=[
            REPLAYED,
            ResponseHeader(
                name="Location", description="The new member's URL.", documentation_only=True
            ),
        ],
    )
    async def enroll(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        data: JSONBody[EnrollRequest],
        idempotency_key: IdempotencyKey,
        pin: MemberPin = None,
    ) -> Response[Member]:
        connector = connector_for(request, program)
        job = WriteJob(program=program, operation="enroll", enroll=data)
        return await run_write(request, connector, job, pin)

    @get(
        "/",
        summary="Look members up by email, phone or card number",
        opt={"scope": "members:read"},
        responses=problems("lookup"),
    )
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        email: FromQuery[str | None] = None,
        phone: FromQuery[str | None] = None,
        card_number: FromQuery[str | None] = None,
        include: Include = None,
    ) -> MemberList:
        given = {
            k: v
            for k, v in (("email", email), ("phone", phone), ("card_number", card_number))
            if v is not None
        }
        if len(given) != 1 or not next(iter(given.values())).strip():
            raise InvalidRequest(
                "Give exactly one of email, phone or card_number.",
                errors=[
                    FieldError(field="query", message="exactly one of " + ", ".join(LOOKUP_KEYS))
                ],
            )
        key, value = next(iter(given.items()))
        connector = connector_for(request, program)
        members = await services(request).reads.lookup(connector, key, value.strip())
        for member in members:
            member.provider_data = provider_data(include, member.provider_data)
        return MemberList(data=members)

    @get(
        "/{member_id:str}",
        summary="A member's profile",
        opt={"scope": "members:read"},
        responses=problems("get_member"),
    )
    async def get_member(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        include: Include = None,
        pin: MemberPin = None,
    ) -> Member:
        connector = connector_for(request, program)
        member = await services(request).reads.profile(connector, member_id, pin)
        member.provider_data = provider_data(include, member.provider_data)
        return member

    @patch(
        "/{member_id:str}",
        summary="Update a member (JSON Merge Patch, RFC 7396)",
        description="An absent field stays unchanged; a field set to null is cleared.",
        opt={"scope": "members:write", "body": MemberPatchRequest},
        responses=problems("update_member"),
    )
    async def update_member(
        self,
        request: Request[Any, Any, Any],
        program: FromPath[str],
        member_id: FromPath[str],
        data: JSONBody[MemberPatchRequest],
        pin: MemberPin = None,
    ) -> Member:
        svc = services(request)
        connector = connector_for(request, program)
        member = await svc.writes.update(connector, member_id, data.as_patch(), pin)
        member.provider_data = None
        return member
