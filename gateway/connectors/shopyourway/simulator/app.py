"""The litestar app: the token route, then every Rewards route after the client_id /
access_token check, with faults and the request log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request, Response, post
from litestar.exceptions import HTTPException

from gateway.connectors.shopyourway.simulator.activity import (
    get_applicable_offers,
    get_member_activity_detail,
    post_external_bonus,
)
from gateway.connectors.shopyourway.simulator.lookup import get_member_lookup, get_reward_balance
from gateway.connectors.shopyourway.simulator.members import Reply, create_member
from gateway.connectors.shopyourway.simulator.oauth import TokenRefused, _token_answer
from gateway.connectors.shopyourway.simulator.redemptions import process_redemption
from gateway.connectors.shopyourway.simulator.state import AUTH_MESSAGES, TOKEN_PATH, SYWState
from gateway.sandbox.common import DroppedConnection, record_request

REWARDS_CALLS: dict[str, Callable[[SYWState, dict[str, Any], float], Reply]] = {
    "profile/CreateMember": create_member,
    "profile/GetMemberLookup": get_member_lookup,
    "profile/GetRewardBalance": get_reward_balance,
    "transaction/ProcessRedemption": process_redemption,
    "transaction/PostExternalBonus": post_external_bonus,
    "transaction/GetApplicableOffers": get_applicable_offers,
    "transaction/GetMemberActivityDetail": get_member_activity_detail,
    "transaction/GetMemberActivityDetails": get_member_activity_detail,
}


def _auth_refusal(state: SYWState, request: Request[Any, Any, Any]) -> Response[Any] | None:
    def refuse(code: str, status: int = 401) -> Response[Any]:
        return Response({"code": code, "message": AUTH_MESSAGES[code]}, status_code=status)

    client = request.headers.get("client_id", "").strip()
    if not client:
        return refuse("CLIENT_ID_REQUIRED")
    if client != state.client_id:
        return refuse("CLIENT_ID_INVALID")
    token = request.headers.get("access_token", "").strip()
    if not token:
        return refuse("ACCESSTOKEN_REQUIRED")
    with state.lock:
        issued = state.tokens.get(token)
        if issued is None or issued.client_id != client:
            return refuse("ACCESSTOKEN_INVALID")
        if issued.expired or state.clock() >= issued.expires_at:
            return refuse("ACCESSTOKEN_EXPIRED", 500 if state.expired_token_as_http_500 else 401)
    if not state.application_permitted:
        return refuse("APPLICATION_NOT_PERMITTED")
    return None


def create_app(state: SYWState) -> Litestar:
    def answer(body: dict[str, Any]) -> Response[Any]:
        if state.faults.malformed():
            raw = json.dumps(body).encode()
            return Response(
                content=raw[: max(1, len(raw) // 2)], status_code=200, media_type="application/json"
            )
        return Response(body)

    @post(TOKEN_PATH, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        state.requests.append(await record_request(request))
        # faults reach the token endpoint only when named in only_paths
        if (
            state.faults.faults.only_paths
            and (failure := await state.faults.before(request.url.path)) is not None
        ):
            return failure
        with state.lock:
            state.token_requests += 1
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            return Response(_token_answer(state, content_type, await request.body()))
        except TokenRefused as refused:
            return Response(
                {"error": refused.error, "error_description": refused.description},
                status_code=401,
            )

    def rewards_handler(paths: list[str], call: Callable[..., Reply]) -> Any:
        @post(paths, status_code=200, name=call.__name__)
        async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
            state.requests.append(await record_request(request))
            if (refused := _auth_refusal(state, request)) is not None:
                return refused
            if (failure := await state.faults.before(request.url.path)) is not None:
                return failure
            started = time.perf_counter()
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = {}
            with state.lock:
                reply, applied = call(state, body if isinstance(body, dict) else {}, started)
            if applied:
                state.faults.after_apply()
            return answer(reply)

        return handler

    by_call: dict[Callable[..., Reply], list[str]] = {}
    for path, call in REWARDS_CALLS.items():
        by_call.setdefault(call, []).append(f"/tellurideAS/{path}")
    handlers = [rewards_handler(paths, call) for call, paths in by_call.items()]

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, DroppedConnection):
            raise exc  # the server closes the connection without an answer
        if isinstance(exc, HTTPException) and exc.status_code != 500:
            return Response({"Message": str(exc.detail)}, status_code=exc.status_code)
        return Response({"Message": "An error has occurred."}, status_code=500)

    return Litestar(
        [token, *handlers], exception_handlers={Exception: on_error}, openapi_config=None
    )
