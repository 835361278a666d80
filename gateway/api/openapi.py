"""OpenAPI documentation: problem responses and documented headers per route, and what the
generated document is finished with (closed request bodies, path patterns, links)."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Schema,
    SecurityRequirement,
)

from gateway.api import examples
from gateway.api.problems import PROBLEM_JSON, Problem
from gateway.api.route_errors import MEANING, ROUTES, codes_by_status
from gateway.domain.ids import SEGMENT
from gateway.settings import SLUG


def problems(route: str) -> dict[int, ResponseSpec]:
    """The problem answers of a route: exactly the errors ``route_errors.ROUTES[route]``
    names and the connection-level ones, each status with the codes it can carry."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description="; or ".join(f"`{code}`: {MEANING[code]}" for code in codes),
            generate_examples=False,
        )
        for status, codes in codes_by_status(ROUTES[route]).items()
    }


REPLAYED = ResponseHeader(
    name="Idempotent-Replayed",
    description="`true` when this is the stored answer to an earlier request with this key.",
    documentation_only=True,
    required=False,
)
CACHE_HEADERS = [
    ResponseHeader(
        name="Cache-Status",
        description="RFC 9211, e.g. `loyalty-gateway; hit; ttl=12` or `loyalty-gateway; fwd=miss`.",
        documentation_only=True,
    ),
    ResponseHeader(
        name="Age", description="Seconds since the provider answered.", documentation_only=True
    ),
]


# -- the document as a whole --------------------------------------------------------------------
#: every /v1 operation takes the API key (or a member token); /healthz and /readyz do not
API_KEY: list[SecurityRequirement] = [{"apiKey": []}]

#: request bodies go through one strict decoder (gateway/api/bodies.py): unknown fields are
#: refused, so the documents say so
_REQUEST_SCHEMAS = (
    "EnrollRequest",
    "MemberPatchRequest",
    "EarnRequest",
    "RedemptionRequest",
    "WalletRequest",
    "Membership",
    "Address",
    "AddressPatch",
)

#: path parameters, as gateway/domain/ids.py and the program-id rule of gateway/settings.py
#: check them (a provider may narrow an id further: then 400 invalid_request names it)
_PATH_PATTERNS = {
    "program": (SLUG.pattern, "A program id from `GET /v1/programs` (a lowercase slug)."),
    "member_id": (
        f"^{SEGMENT.pattern}$",
        "The provider's member id: one path segment; each provider narrows the alphabet and "
        "length (`400 invalid_request` names the field).",
    ),
    "redemption_id": (
        f"^{SEGMENT.pattern}$",
        "The redemption's `id` as the redemption answer gave it.",
    ),
}

_OPERATIONS = {
    "GetMember": "V1ProgramsMembersMemberIdGetMember",
    "UpdateMember": "V1ProgramsMembersMemberIdUpdateMember",
    "Balance": "V1ProgramsMembersMemberIdBalanceBalance",
    "Activity": "V1ProgramsMembersMemberIdActivityActivity",
    "Offers": "V1ProgramsMembersMemberIdOffersOffers",
    "Overview": "V1ProgramsMembersMemberIdOverviewOverview",
    "Earn": "V1ProgramsMembersMemberIdEarnEarn",
    "Redeem": "V1ProgramsMembersMemberIdRedemptionsRedeem",
    "Void": "V1ProgramsMembersMemberIdRedemptionsRedemptionIdVoidVoid",
}
_MEMBER = {"program": "$request.path.program", "member_id": "$response.body#/id"}
_SAME_MEMBER = {"program": "$request.path.program", "member_id": "$request.path.member_id"}
_MEMBER_READS = ("GetMember", "Balance", "Activity", "Offers", "Overview")
#: OpenAPI links: what a response's ids let a client (and a stateful fuzzer) call next
_LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("V1ProgramsListPrograms", "200"): {
        "GetProgram": ("V1ProgramsGetProgram", {"program": "$response.body#/data/0/id"}),
        "Enroll": ("V1ProgramsMembersEnroll", {"program": "$response.body#/data/0/id"}),
    },
    ("V1ProgramsMembersEnroll", "201"): {
        **{name: (_OPERATIONS[name], _MEMBER) for name in _MEMBER_READS},
        "Earn": (_OPERATIONS["Earn"], _MEMBER),
        "Redeem": (_OPERATIONS["Redeem"], _MEMBER),
        "UpdateMember": (_OPERATIONS["UpdateMember"], _MEMBER),
    },
    ("V1ProgramsMembersLookup", "200"): {
        "GetMember": (
            _OPERATIONS["GetMember"],
            {"program": "$request.path.program", "member_id": "$response.body#/data/0/id"},
        ),
    },
    ("V1ProgramsMembersMemberIdEarnEarn", "201"): {
        "Balance": (_OPERATIONS["Balance"], _SAME_MEMBER),
        "Activity": (_OPERATIONS["Activity"], _SAME_MEMBER),
    },
    ("V1ProgramsMembersMemberIdRedemptionsRedeem", "201"): {
        "Void": (_OPERATIONS["Void"], {**_SAME_MEMBER, "redemption_id": "$response.body#/id"}),
        "Balance": (_OPERATIONS["Balance"], _SAME_MEMBER),
    },
}


def finish(document: OpenAPI, *, wallet_max_items: int) -> None:
    """What litestar's generator cannot say, added to the generated document (in place):
    closed request objects, path-parameter patterns, links, this deployment's wallet size;
    and what it says wrongly taken out (its default error responses); the demo world's
    answers as examples (gateway/api/examples.py)."""
    examples.attach(document)
    schemas = document.components.schemas if document.components else None
    for name in _REQUEST_SCHEMAS:
        if schemas and name in schemas:
            schemas[name].additional_properties = False
    wallet = schemas.get("WalletRequest") if schemas else None
    if wallet is not None and wallet.properties:
        memberships = wallet.properties["memberships"]
        if isinstance(memberships, Schema):
            memberships.max_items = wallet_max_items
    for item in (document.paths or {}).values():
        for operation in (item.get, item.post, item.patch):
            if operation is None:
                continue
            for parameter in operation.parameters or []:
                if not isinstance(parameter, Parameter) or parameter.param_in != "path":
                    continue
                rule = _PATH_PATTERNS.get(parameter.name)
                if rule and isinstance(parameter.schema, Schema):
                    parameter.schema.pattern, parameter.description = rule
            responses = operation.responses or {}
            for status in [s for s, r in responses.items() if _framework_error(s, r)]:
                # litestar adds its own 400 ("Validation Exception", application/json) to
                # every route with parameters; the gateway never answers that shape, and a
                # route that can answer 400 documents its problem already
                del responses[status]
            for status, response in responses.items():
                if isinstance(response, OpenAPIResponse):
                    _type_headers(response)
                links = _LINKS.get((operation.operation_id or "", status))
                if links and isinstance(response, OpenAPIResponse):
                    response.links = {
                        name: Link(operation_id=target, parameters=dict(parameters))
                        for name, (target, parameters) in links.items()
                    }


def _framework_error(status: str, response: OpenAPIResponse | object) -> bool:
    if not status.isdigit() or int(status) < 400 or not isinstance(response, OpenAPIResponse):
        return False
    return PROBLEM_JSON not in (response.content or {})


#: documentation-only response headers come without a schema (generated clients then type
#: them ``unknown``); every one of ours is a string, ``Age`` a number of seconds
_HEADER_TYPES = {"Age": OpenAPIType.INTEGER}


def _type_headers(response: OpenAPIResponse) -> None:
    for name, header in (response.headers or {}).items():
        if isinstance(header, OpenAPIHeader) and header.schema is None:
            header.schema = Schema(type=_HEADER_TYPES.get(name, OpenAPIType.STRING))
