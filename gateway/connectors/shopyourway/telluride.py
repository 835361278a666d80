"""The calls every Telluride Rewards operation makes: an access token from the OAuth server
(cached and shared by the replicas), the POST with the ``client_id``/``access_token``
headers, a refused token replaced once, and the answer's HTTP status and in-body status
checked. The operations themselves are ``client.py``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import structlog

from gateway.connectors.common import decode_json
from gateway.connectors.http import UpstreamClient
from gateway.connectors.shopyourway import errors, oauth, transform, wire
from gateway.connectors.shopyourway.config import ShopYourWayAuth
from gateway.connectors.shopyourway.errors import PROVIDER
from gateway.domain.errors import (
    GatewayError,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.infra import metrics
from gateway.infra.store import Store
from gateway.infra.tokens import Token, TokenCache
from gateway.settings import ProgramSettings

_log = structlog.get_logger("gateway.shopyourway")
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
_encoder = msgspec.json.Encoder()


class Telluride:
    def __init__(
        self,
        http: UpstreamClient,
        program: ProgramSettings,
        auth: ShopYourWayAuth,
        store: Store | None,
    ) -> None:
        self.http = http
        self.program = program
        self._client_id = auth.client_id or ""
        self._token_url = auth.token_url or ""
        self._private_key = oauth.load_private_key(auth)
        self.tokens = TokenCache(
            store,
            program.id,
            self.fetch_token,
            on_event=lambda result: metrics.child(metrics.TOKEN_CACHE, program.id, result).inc(),
        )

    async def fetch_token(self) -> Token:
        assertion = oauth.make_assertion(self._client_id, self._token_url, self._private_key)
        response = await self.http.request(
            "POST",
            self._token_url,
            operation="token",
            data={"grant_type": oauth.GRANT_TYPE, "assertion": assertion},
            headers={"Accept": "application/json"},
        )
        body = decode_json(response)
        token = oauth.token_from_answer(body, time.time()) if response.status_code == 200 else None
        if token is None:
            code = transform.text(body, "error", "code") or errors.auth_code_in(response.text)
            raise UpstreamUnavailable(
                "ShopYourWay did not grant an access token.",
                upstream=UpstreamDetail(
                    provider=PROVIDER,
                    status=response.status_code,
                    code=code,
                    message=transform.text(body, "error_description", "message"),
                ),
            )
        return token

    async def post(
        self, path: str, body: wire.Request, *, operation: str, write: bool = False
    ) -> Any:
        """POST with the current token; a refused token is dropped, refreshed, retried once."""
        token = await self.tokens.get()
        for attempt in (1, 2):
            response = await self.http.request(
                "POST",
                path,
                operation=operation,
                write=write,
                content=_encoder.encode(body),
                headers={**_JSON, "client_id": self._client_id, "access_token": token.value},
            )
            data = decode_json(response)
            auth_code = None
            if response.status_code != 200 or transform.status_of(data) is None:
                auth_code = errors.auth_code_in(response.text)
            if auth_code is None:
                return _checked(response, data, write=write)
            if auth_code in errors.RETRY_WITH_NEW_TOKEN and attempt == 1:
                _log.info("syw_token_refused", program=self.program.id, code=auth_code)
                await self.tokens.invalidate(token)
                token = await self.tokens.get()
                continue
            raise errors.auth_failure(auth_code, response.status_code)
        raise AssertionError("unreachable")  # pragma: no cover


def _checked(response: httpx.Response, data: Any, *, write: bool) -> Any:
    if response.status_code >= 500:
        raise UpstreamUnavailable(
            "ShopYourWay failed to answer.",
            upstream=UpstreamDetail(provider=PROVIDER, status=response.status_code),
            outcome="ambiguous" if write else "not_sent",
        )
    if response.status_code in (401, 403, 404, 405):
        # credentials or a wrong base_url: a configuration problem, nothing was applied
        raise UpstreamUnavailable(
            "ShopYourWay refused the gateway's request.",
            upstream=UpstreamDetail(provider=PROVIDER, status=response.status_code),
        )
    if response.status_code != 200:
        raise UpstreamRejected(
            "ShopYourWay refused the request.",
            upstream=UpstreamDetail(
                provider=PROVIDER,
                status=response.status_code,
                message=response.text[:200] or None,
            ),
        )
    if not isinstance(data, dict):
        raise UpstreamUnavailable(
            "ShopYourWay answered with a body that is not the documented JSON.",
            upstream=UpstreamDetail(provider=PROVIDER, status=200),
            outcome="ambiguous" if write else "not_sent",
        )
    return data


def require_ok(
    data: Any, to_error: Callable[[str, str], GatewayError], *, write: bool = False
) -> None:
    found = transform.status_of(data)
    if found is None:
        # A write answered without a status may have been applied.
        raise UpstreamUnavailable(
            "ShopYourWay's answer carries no status.",
            upstream=UpstreamDetail(provider=PROVIDER, status=200),
            outcome="ambiguous" if write else "not_sent",
        )
    status, text = found
    if not transform.is_ok(status):
        raise to_error(status, text)
