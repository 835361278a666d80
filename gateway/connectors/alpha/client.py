"""Alpha connector: a recipients REST API whose recipients carry a points balance."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from gateway.connectors.alpha import transform, wire
from gateway.connectors.alpha.errors import PROVIDER, map_error
from gateway.connectors.base import Connector
from gateway.connectors.common import (
    StaticAuth,
    check_static_auth,
    decode_json,
    error_message,
    static_auth_headers,
    utcnow,
)
from gateway.connectors.http import UpstreamClient
from gateway.connectors.transport import Transport
from gateway.domain.commands import EnrollRequest, MemberPatch
from gateway.domain.errors import (
    GatewayError,
    InvalidRequest,
    MemberAlreadyEnrolled,
    UpstreamDetail,
    UpstreamUnavailable,
)
from gateway.domain.models import Balance, Member
from gateway.infra.store import Store
from gateway.settings import ProgramSettings

_encoder = msgspec.json.Encoder()
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class AlphaOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: path of the collection, as the document writes it (trailing slash included)
    recipients_path: str = "/recipients/"


class AlphaConnector(Connector):
    provider = PROVIDER
    #: recipient ids such as ``OLMKne7Y3N`` (a path segment at Alpha)
    member_id_pattern = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
    Options = AlphaOptions
    options: AlphaOptions
    Auth = StaticAuth
    secret_keys = ("token",)
    operations = ("balance", "profile", "lookup", "enroll", "update", "find_enrollment", "health")
    lookup_keys = ("email", "card_number")

    def __init__(
        self,
        program: ProgramSettings,
        store: Store | None = None,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(program, store)
        self.http = UpstreamClient(
            program, PROVIDER, headers=static_auth_headers(self.auth), transport=transport
        )

    @staticmethod
    def check_auth(auth: StaticAuth) -> str | None:
        return check_static_auth(auth)

    def _path(self, recipient: str) -> str:
        return self.options.recipients_path.rstrip("/") + "/" + quote(recipient, safe="@")

    async def _fetch(self, recipient: str, operation: str) -> tuple[wire.Recipient, Any]:
        response = await self.http.request(
            "GET", self._path(recipient), operation=operation, headers=_JSON
        )
        if response.status_code != 200:
            raise _failure(response, write=False)
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> tuple[wire.Recipient, Any]:
        raw = decode_json(response)
        try:
            return transform.decode_recipient(raw), raw
        except msgspec.ValidationError as exc:
            raise UpstreamUnavailable(
                "Alpha answered with an unexpected body.",
                upstream=UpstreamDetail(
                    provider=PROVIDER, status=response.status_code, message=str(exc)
                ),
            ) from None

    async def _matching(
        self, value: str, field: str, operation: str
    ) -> tuple[wire.Recipient, Any] | None:
        """The recipient whose ``field`` is ``value``, or None (404 or another recipient)."""
        response = await self.http.request(
            "GET", self._path(value), operation=operation, headers=_JSON
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _failure(response, write=False)
        recipient, raw = self._decode(response)
        # One path slot serves id, email and public key: only an exact match counts.
        if str(getattr(recipient, field) or "").lower() != value.lower():
            return None
        return recipient, raw

    def _member(self, recipient: wire.Recipient, raw: Any) -> Member:
        member = transform.to_member(self.program.id, recipient)
        member.provider_data = raw if isinstance(raw, dict) else None
        return member

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member:
        return self._member(*await self._fetch(member_id, "profile"))

    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        recipient, raw = await self._fetch(member_id, "balance")
        balance = transform.to_balance(self.program, recipient, utcnow())
        balance.provider_data = raw if isinstance(raw, dict) else None
        return balance

    async def lookup(self, key: str, value: str) -> list[Member]:
        field = {"email": "email", "card_number": "public_key"}[key]
        found = await self._matching(value, field, "lookup")
        return [self._member(*found)] if found else []

    async def enroll(
        self, request: EnrollRequest, idempotency_token: str, *, pin: str | None = None
    ) -> Member:
        errors = transform.missing_required(request)
        if errors:
            raise InvalidRequest("Alpha needs more fields to enroll a member.", errors=errors)
        assert request.email is not None
        if await self._matching(request.email, "email", "lookup") or (
            request.card_number
            and await self._matching(request.card_number, "public_key", "lookup")
        ):
            raise MemberAlreadyEnrolled("A recipient with this email or public key exists.")
        body = _encoder.encode(transform.create_body(request))
        response = await self.http.request(
            "POST",
            self.options.recipients_path,
            operation="enroll",
            write=True,
            content=body,
            headers=_JSON,
        )
        if response.status_code == 405:
            # The document's prose says PUT where its heading says POST; accept both.
            response = await self.http.request(
                "PUT",
                self.options.recipients_path,
                operation="enroll",
                write=True,
                content=body,
                headers=_JSON,
            )
        if response.status_code not in (200, 201):
            raise _failure(response, write=True)
        body_json = decode_json(response)
        if isinstance(body_json, dict) and ("id" in body_json or "data" in body_json):
            return self._member(*self._decode(response))
        return self._member(*await self._fetch(request.email, "enroll"))

    async def find_enrollment(self, request: EnrollRequest) -> Member | None:
        """The recipient an earlier, ambiguous create may have made (looked up by email)."""
        if request.email is None:
            return None
        found = await self._matching(request.email, "email", "find_enrollment")
        return self._member(*found) if found else None

    async def update_member(
        self, member_id: str, patch: MemberPatch, *, pin: str | None = None
    ) -> Member:
        body, errors = transform.update_body(patch)
        if errors:
            raise InvalidRequest("Some fields cannot be changed that way.", errors=errors)
        if not body:
            return await self.get_member(member_id)
        response = await self.http.request(
            "PUT",
            self._path(member_id),
            operation="update",
            write=True,
            content=_encoder.encode(body),
            headers=_JSON,
        )
        if response.status_code not in (200, 201, 204):
            raise _failure(response, write=True)
        body_json = decode_json(response)
        if isinstance(body_json, dict) and "id" in body_json:
            return self._member(*self._decode(response))
        return await self.get_member(member_id)

    async def probe(self) -> None:
        response = await self.http.request(
            "GET", self._path("gateway-health-probe"), operation="health", headers=_JSON
        )
        if response.status_code in (401, 403) or response.status_code >= 500:
            raise _failure(response, write=False)


def _failure(response: httpx.Response, *, write: bool) -> GatewayError:
    """An Alpha error answer as a contract error (``errors.map_error`` on its parts)."""
    return map_error(
        response.status_code, error_message(response), decode_json(response), write=write
    )
