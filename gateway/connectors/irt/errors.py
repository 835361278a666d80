"""IRT's body ``status`` codes mapped onto the contract's error vocabulary."""

from __future__ import annotations

from gateway.connectors.irt import wire
from gateway.domain.errors import (
    FieldError,
    GatewayError,
    InsufficientPoints,
    MemberAlreadyEnrolled,
    MemberInactive,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROVIDER = "irt"
_INSUFFICIENT = ("insufficient", "not enough", "exceeds", "balance too low")


def map_status(status: int, message: str) -> GatewayError:
    """A non-zero IRT ``status`` as a contract error; IRT's ``message`` goes to ``upstream``."""
    upstream = UpstreamDetail(provider=PROVIDER, status=200, code=str(status), message=message)
    text = message.lower()
    if status in (wire.INVALID_CARD, wire.NOT_ENROLLED):
        return MemberNotFound(
            "IRT does not know this card as an enrolled member.", upstream=upstream
        )
    if status == wire.ALREADY_ENROLLED:
        return MemberAlreadyEnrolled("This card is already enrolled.", upstream=upstream)
    if status == wire.PHONE_USED:
        return MemberAlreadyEnrolled(
            "Another member already uses this phone number.",
            upstream=upstream,
            errors=[FieldError(field="phone", message=message or "phone already used")],
        )
    if status == wire.PHONE_VERIFICATION:
        return UpstreamRejected(
            "IRT requires the phone number to be verified first.", upstream=upstream
        )
    if status == wire.INVALID_ACCOUNT:
        return MemberInactive("IRT reports the member's account as invalid.", upstream=upstream)
    if status == wire.UNAUTHORIZED:
        return UpstreamUnavailable("IRT refused the gateway's credentials.", upstream=upstream)
    if status in (wire.IDEMPOTENCY_MISMATCH, wire.INVALID_IDEMPOTENCY_KEY):
        # The gateway derives the key from its own record, so this is a defect or misuse on
        # the gateway's side, never a problem with the member: nothing was applied.
        return UpstreamRejected(
            "IRT refused the gateway's idempotency key; please report this request_id.",
            upstream=upstream,
        )
    if status == wire.FATAL and any(word in text for word in _INSUFFICIENT):
        return InsufficientPoints("The member does not have enough points.", upstream=upstream)
    return UpstreamRejected("IRT rejected the request.", upstream=upstream)
