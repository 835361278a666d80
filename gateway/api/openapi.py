"""OpenAPI documentation: problem responses and documented headers per route, and what the
generated document is finished with (closed request bodies, path patterns, links)."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIResponse,
    Parameter,
    Schema,
    SecurityRequirement,
)

from gateway.api.problems import PROBLEM_JSON, Problem
from gateway.domain.ids import SEGMENT
from gateway.settings import SLUG

_WHEN = {
    400: "invalid_request (per-field `errors`) or idempotency_key_missing",
    401: "unauthorized: missing or unknown API key",
    403: "forbidden: the client lacks the scope",
    404: "program_not_found or member_not_found",
    408: "request_timeout: the request's headers (server.header_timeout_seconds) or body "
    "(server.body_timeout_seconds) did not arrive in time; the connection is closed",
    409: "member_already_enrolled or idempotency_request_in_progress",
    413: "payload_too_large",
    415: "unsupported_media_type: send the body as application/json "
    "(application/merge-patch+json also for PATCH)",
    422: "insufficient_points, member_inactive, upstream_rejected or idempotency_key_reused",
    429: "rate_limited (with Retry-After)",
    431: "request_header_fields_too_large: more header fields or bytes than the server allows",
    501: "operation_not_supported by this program's provider",
    502: "upstream_outcome_unknown: the provider may have applied the write; retry with the "
    "same Idempotency-Key (after `Retry-After` seconds when given): the gateway looks the "
    "write up first, and resolves it in the background too",
    503: "upstream_unavailable (the provider failing; `upstream.code` `circuit_open`: calls of "
    "this operation group are paused, see `Retry-After`; `gateway_saturated`: the gateway's "
    "connections to the provider are all in use, `Retry-After: 1`, nothing was sent), or "
    "service_unavailable (the gateway's store is unavailable, or this worker serves its "
    "limit of connections: `Retry-After: 1`)",
    504: "upstream_timeout",
}
READ = (400, 401, 403, 404, 408, 429, 431, 501, 503, 504)
WRITE = (400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 431, 501, 502, 503, 504)


#: answered by the server's connection limits on any route (gateway/http_limits.py)
CONNECTION = (408, 431, 503)


def problems(statuses: tuple[int, ...]) -> dict[int, ResponseSpec]:
    """The problem answers of a route: ``statuses`` and the connection-level ones."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_WHEN[status],
            generate_examples=False,
        )
        for status in sorted({*statuses, *CONNECTION})
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
REQUEST_ID = ResponseHeader(
    name="X-Request-ID",
    description="The request id (taken from the request or made).",
    documentation_only=True,
)


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
    closed request objects, path-parameter patterns, links, this deployment's wallet size."""
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
            for status, response in (operation.responses or {}).items():
                links = _LINKS.get((operation.operation_id or "", status))
                if links and isinstance(response, OpenAPIResponse):
                    response.links = {
                        name: Link(operation_id=target, parameters=dict(parameters))
                        for name, (target, parameters) in links.items()
                    }
