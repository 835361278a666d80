"""OpenAPI documentation helpers: problem responses and documented headers per route."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec

from gateway.api.problems import PROBLEM_JSON, Problem

_WHEN = {
    400: "invalid_request (per-field `errors`) or idempotency_key_missing",
    401: "unauthorized: missing or unknown API key",
    403: "forbidden: the client lacks the scope",
    404: "program_not_found or member_not_found",
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
    503: "upstream_unavailable",
    504: "upstream_timeout",
}
READ = (400, 401, 403, 404, 429, 431, 501, 503, 504)
WRITE = (400, 401, 403, 404, 409, 413, 415, 422, 429, 431, 501, 502, 503, 504)


def problems(statuses: tuple[int, ...]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_WHEN[status],
            generate_examples=False,
        )
        for status in statuses
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
