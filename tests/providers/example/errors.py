"""Example Stamps' error answers as contract errors: one table, by HTTP status and code."""

from __future__ import annotations

from gateway.domain.errors import (
    GatewayError,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROVIDER = "example"

_BY_CODE: dict[tuple[int, str], type[GatewayError]] = {
    (404, "no_such_account"): MemberNotFound,
    (400, "bad_request"): UpstreamRejected,
}


def map_error(status: int, code: str, *, write: bool) -> GatewayError:
    upstream = UpstreamDetail(provider=PROVIDER, status=status, code=code or None)
    found = _BY_CODE.get((status, code))
    if found is not None:
        return found("Example Stamps refused the request.", upstream=upstream)
    return UpstreamUnavailable(
        "Example Stamps failed to answer.",
        upstream=upstream,
        outcome="ambiguous" if write and status >= 500 else "not_sent",
    )
