"""Alpha signals errors with HTTP status codes; 422 carries per-field messages."""

from __future__ import annotations

import msgspec

from gateway.connectors.alpha import wire
from gateway.connectors.alpha.transform import field_errors
from gateway.domain.errors import (
    GatewayError,
    InvalidRequest,
    MemberAlreadyEnrolled,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROVIDER = "alpha"
_TAKEN = ("taken", "already", "unique", "exists")


def map_error(status: int, message: str, body: object, *, write: bool) -> GatewayError:
    upstream = UpstreamDetail(provider=PROVIDER, status=status, message=message)
    if status == 404:
        return MemberNotFound("The recipient was not found at Alpha.", upstream=upstream)
    if status == 422:
        try:
            failure = msgspec.convert(body, wire.ValidationFailure, strict=False)
        except msgspec.ValidationError:
            failure = wire.ValidationFailure(message=message)
        errors = field_errors(failure)
        unique_clash = [
            e
            for e in errors
            if e.field in ("email", "card_number")
            and any(word in e.message.lower() for word in _TAKEN)
        ]
        if unique_clash:
            return MemberAlreadyEnrolled(
                "A recipient with this email or public key already exists.",
                upstream=upstream,
                errors=unique_clash,
            )
        if errors:
            # The provider judged the caller's data: report it per field like our own checks.
            return InvalidRequest(
                "Alpha rejected some fields.",
                upstream=upstream,
                errors=errors,
                outcome="answered",
            )
        return UpstreamRejected("Alpha rejected the request.", upstream=upstream)
    if status in (400, 409):
        return UpstreamRejected("Alpha rejected the request.", upstream=upstream)
    if status in (401, 403):
        return UpstreamUnavailable(
            "The gateway's credentials were refused by Alpha.", upstream=upstream
        )
    return UpstreamUnavailable(
        "Alpha failed to answer.",
        upstream=upstream,
        outcome="ambiguous" if write and status >= 500 else "not_sent",
    )
