"""Which errors each route can answer: one table, built from the error vocabulary
(``gateway/domain/errors.py``) and what the route does (its auth, limits, body and provider
calls). The OpenAPI document lists exactly these (``openapi.problems``), and
``tests/integration/test_conformance.py`` provokes every one of them against the simulators.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.domain.errors import (
    Forbidden,
    GatewayError,
    HeadersTooLarge,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InsufficientPoints,
    InvalidRequest,
    MemberAlreadyEnrolled,
    MemberInactive,
    MemberNotFound,
    OperationNotSupported,
    PayloadTooLarge,
    ProgramNotFound,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    UpstreamOutcomeUnknown,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

Errors = tuple[type[GatewayError], ...]

#: the server's connection limits, on any route (gateway/http_limits.py): head or body too
#: slow, head too large, the worker at its connection limit
CONNECTION: Errors = (RequestTimeout, HeadersTooLarge, ServiceUnavailable)
#: the API key or member token, and the caller's rate limit: every /v1 route
CALLER: Errors = (Unauthorized, RateLimited)
#: a scope the key must hold; a member token reaches only its own memberships
SCOPED: Errors = (Forbidden,)
#: a program id outside the slug rule is not a program either: 404, like an unknown one
PROGRAM: Errors = (ProgramNotFound,)
#: a member id outside the id rule or the provider's alphabet: 400 naming the field
MEMBER_ID: Errors = (InvalidRequest,)
MEMBER: Errors = (*MEMBER_ID, MemberNotFound)
BODY: Errors = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType)
#: a provider read: not offered, failing (circuit open, gateway saturated), too slow
READS: Errors = (OperationNotSupported, UpstreamUnavailable, UpstreamTimeout)
#: a provider write: refused, or not sent (503); a timeout is an unknown outcome (502),
#: never a 504, since the write may have been applied
WRITES: Errors = (OperationNotSupported, UpstreamUnavailable, UpstreamRejected, MemberInactive)
#: the Idempotency-Key and its record in Redis (503 when the store cannot keep it)
IDEMPOTENT: Errors = (
    IdempotencyKeyMissing,
    IdempotencyRequestInProgress,
    IdempotencyKeyReused,
    UpstreamOutcomeUnknown,
    ServiceUnavailable,
)

_MEMBER_READ = CALLER + SCOPED + PROGRAM + MEMBER + READS
_MEMBER_WRITE = CALLER + SCOPED + PROGRAM + MEMBER + BODY + IDEMPOTENT + WRITES

#: route handler name -> the errors it can answer (besides CONNECTION)
ROUTES: dict[str, Errors] = {
    "healthz": (ServiceUnavailable,),  # the embedded Redis down
    "readyz": (ServiceUnavailable,),
    "list_programs": CALLER,
    "get_program": CALLER + PROGRAM,
    "program_health": CALLER + PROGRAM,  # an unreachable provider is a 200 that says so
    # 400: not one search key; 422: a value the provider will not search by
    "lookup": (*CALLER, *SCOPED, *PROGRAM, InvalidRequest, *READS, UpstreamRejected),
    "enroll": (*CALLER, *SCOPED, *PROGRAM, *BODY, *IDEMPOTENT, *WRITES, MemberAlreadyEnrolled),
    "get_member": (*_MEMBER_READ, UpstreamRejected),  # IRT: a wrong PIN
    # a PATCH sets fields, so a timed-out one can be repeated as is: 504, not 502
    "update_member": (
        *_MEMBER_READ,
        *BODY,
        UpstreamRejected,
        MemberInactive,
        MemberAlreadyEnrolled,
    ),
    "balance": _MEMBER_READ,
    "activity": (*_MEMBER_READ, UpstreamRejected),  # ShopYourWay: dates it does not take
    "offers": _MEMBER_READ,
    # API.md: an aggregate answers 200 once its envelope is built; a part that fails
    # (member unknown, provider failing or slow) is an error inside it
    "overview": CALLER + SCOPED + PROGRAM + MEMBER_ID,
    "earn": _MEMBER_WRITE,
    "redeem": (*_MEMBER_WRITE, InsufficientPoints),
    "void": _MEMBER_WRITE,
    "wallet": CALLER + SCOPED + BODY,  # each item's failure is inside the 200
}


def codes_by_status(errors: Iterable[type[GatewayError]]) -> dict[int, list[str]]:
    """``{status: [code, ...]}`` of ``errors`` and the connection-level ones, codes in the
    order first given and each once."""
    by_status: dict[int, list[str]] = {}
    for error in (*errors, *CONNECTION):
        codes = by_status.setdefault(error.status, [])
        if error.code not in codes:
            codes.append(error.code)
    return dict(sorted(by_status.items()))


#: what each code means here, for the document's response descriptions
MEANING: dict[str, str] = {
    "invalid_request": "a path parameter, query or body field is invalid (per-field `errors`)",
    "idempotency_key_missing": "the write needs an `Idempotency-Key` header",
    "unauthorized": "missing or unknown API key or member token",
    "forbidden": "the client lacks the scope, or a member token is not for this membership",
    "program_not_found": "no such program for this client",
    "member_not_found": "the provider has no such member",
    "request_timeout": "the request's headers (server.header_timeout_seconds) or body "
    "(server.body_timeout_seconds) did not arrive in time; the connection is closed",
    "member_already_enrolled": "the provider already knows this member",
    "idempotency_request_in_progress": "a request with this key is still running (`Retry-After`)",
    "payload_too_large": "the body is above the limit",
    "unsupported_media_type": "send the body as application/json "
    "(application/merge-patch+json also for PATCH)",
    "insufficient_points": "not enough points for the redemption",
    "member_inactive": "the member's status does not allow it",
    "upstream_rejected": "the provider refused (`upstream` says why)",
    "idempotency_key_reused": "this key was used for a different request",
    "rate_limited": "the client's rate limit is used up (`Retry-After`)",
    "request_header_fields_too_large": "more header fields or bytes than the server allows",
    "operation_not_supported": "this program's provider cannot do it",
    "upstream_outcome_unknown": "the provider may have applied the write; retry with the "
    "same Idempotency-Key (after `Retry-After` seconds when given): the gateway looks the "
    "write up first, and resolves it in the background too",
    "upstream_unavailable": "the provider is failing; `upstream.code` `circuit_open`: calls "
    "of this operation group are paused, see `Retry-After`; `gateway_saturated`: the "
    "gateway's connections to the provider are all in use, `Retry-After: 1`, nothing was sent",
    "service_unavailable": "the gateway's store is unavailable, or this worker serves its "
    "limit of connections (`Retry-After: 1`)",
    "upstream_timeout": "the provider did not answer the read in time",
}
