"""The error vocabulary of the contract (API.md "Errors").

Every failure the gateway reports is one of these classes; the HTTP edge turns them into
RFC 9457 problems. ``outcome`` tells the idempotency layer what happened upstream:

- ``"not_sent"``: nothing reached the provider, so the key is released and a retry runs;
- ``"answered"``: the provider gave a definite answer, which is stored and replayed;
- ``"ambiguous"``: the write may or may not have been applied;
- ``"unresolved"``: nothing was sent now, but an earlier attempt with the key is still in
  question (its outcome could not be established yet): the key stays unknown.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

Outcome = Literal["not_sent", "answered", "ambiguous", "unresolved"]


class UpstreamDetail(msgspec.Struct, omit_defaults=True):
    """The provider's own words, kept next to the normalized code."""

    provider: str
    status: int | None = None
    code: str | None = None
    message: str | None = None


class FieldError(msgspec.Struct):
    """One invalid input field: ``field`` is a JSON-pointer-like path, ``message`` says why."""

    field: str
    message: str


class GatewayError(Exception):
    """Base of the error vocabulary; subclasses fix ``code``, ``status`` and ``title``."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    default_outcome: ClassVar[Outcome] = "not_sent"

    def __init__(
        self,
        detail: str | None = None,
        *,
        upstream: UpstreamDetail | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.upstream = upstream
        self.errors = errors
        self.headers = headers or {}
        self.outcome: Outcome = outcome or self.default_outcome


class InvalidRequest(GatewayError):
    code, status, title = "invalid_request", 400, "Invalid request"


class Unauthorized(GatewayError):
    code, status, title = "unauthorized", 401, "Unauthorized"


class Forbidden(GatewayError):
    code, status, title = "forbidden", 403, "Forbidden"


class NotFound(GatewayError):
    code, status, title = "not_found", 404, "Not found"


class MethodNotAllowed(GatewayError):
    code, status, title = "method_not_allowed", 405, "Method not allowed"


class PayloadTooLarge(GatewayError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class UnsupportedMediaType(GatewayError):
    code, status, title = "unsupported_media_type", 415, "Unsupported media type"


class RequestTimeout(GatewayError):
    code, status, title = "request_timeout", 408, "Request timeout"


class HeadersTooLarge(GatewayError):
    code, status, title = "request_header_fields_too_large", 431, "Request header fields too large"


class ProgramNotFound(GatewayError):
    code, status, title = "program_not_found", 404, "Program not found"


class MemberNotFound(GatewayError):
    code, status, title = "member_not_found", 404, "Member not found"
    default_outcome = "answered"


class MemberAlreadyEnrolled(GatewayError):
    code, status, title = "member_already_enrolled", 409, "Member already enrolled"
    default_outcome = "answered"


class InsufficientPoints(GatewayError):
    code, status, title = "insufficient_points", 422, "Insufficient points"
    default_outcome = "answered"


class MemberInactive(GatewayError):
    code, status, title = "member_inactive", 422, "Member inactive"
    default_outcome = "answered"


class UpstreamRejected(GatewayError):
    code, status, title = "upstream_rejected", 422, "Rejected by the provider"
    default_outcome = "answered"


class IdempotencyKeyMissing(GatewayError):
    code, status, title = "idempotency_key_missing", 400, "Idempotency-Key header required"


class IdempotencyKeyReused(GatewayError):
    code, status, title = "idempotency_key_reused", 422, "Idempotency-Key reused"


class IdempotencyRequestInProgress(GatewayError):
    code, status, title = "idempotency_request_in_progress", 409, "Request in progress"


class RateLimited(GatewayError):
    code, status, title = "rate_limited", 429, "Too many requests"


class OperationNotSupported(GatewayError):
    code, status, title = "operation_not_supported", 501, "Operation not supported"


class UpstreamOutcomeUnknown(GatewayError):
    code, status, title = "upstream_outcome_unknown", 502, "Upstream outcome unknown"
    default_outcome = "ambiguous"


class UpstreamUnavailable(GatewayError):
    code, status, title = "upstream_unavailable", 503, "Upstream unavailable"


class ServiceUnavailable(GatewayError):
    code, status, title = "service_unavailable", 503, "Service unavailable"


class UpstreamTimeout(GatewayError):
    code, status, title = "upstream_timeout", 504, "Upstream timeout"
