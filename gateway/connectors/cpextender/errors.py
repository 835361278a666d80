"""CP Extender answers errors with HTTP status codes and a short text; this maps them."""

from __future__ import annotations

from gateway.domain.errors import (
    GatewayError,
    InsufficientPoints,
    MemberInactive,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROVIDER = "cpextender"


def map_error(status: int, message: str, *, write: bool) -> GatewayError:
    """One CP error answer as a contract error, with CP's words in ``upstream``."""
    upstream = UpstreamDetail(provider=PROVIDER, status=status, message=message)
    text = message.lower()
    if status == 404 or (status == 400 and "not enrolled" in text):
        return MemberNotFound("The member was not found at CP Extender.", upstream=upstream)
    if status == 400 and ("balance" in text or "insufficient" in text):
        return InsufficientPoints("The member does not have enough points.", upstream=upstream)
    if status == 400 and ("inactive" in text or "suspended" in text):
        return MemberInactive("The member's account is not active.", upstream=upstream)
    if status in (400, 409, 422):
        return UpstreamRejected("CP Extender rejected the request.", upstream=upstream)
    if status in (401, 403):
        return UpstreamUnavailable(
            "The gateway's credentials were refused by CP Extender.", upstream=upstream
        )
    # A 5xx during a write may come after the write was applied: the outcome is unknown.
    return UpstreamUnavailable(
        "CP Extender failed to answer.",
        upstream=upstream,
        outcome="ambiguous" if write and status >= 500 else "not_sent",
    )
