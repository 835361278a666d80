"""IRT connector: one RPC endpoint, form-encoded POSTs, the outcome in the body's ``status``."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
import structlog

from gateway.connectors.base import Connector
from gateway.connectors.common import utcnow
from gateway.connectors.http import UpstreamClient
from gateway.connectors.irt import transform, wire
from gateway.connectors.irt.errors import PROVIDER, map_status
from gateway.connectors.transport import Transport
from gateway.domain.commands import EarnCommand, EnrollRequest, MemberPatch, RedeemCommand
from gateway.domain.errors import (
    FieldError,
    GatewayError,
    InvalidRequest,
    MemberAlreadyEnrolled,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.domain.models import Balance, Member, Redemption, Transaction
from gateway.infra.store import Store
from gateway.settings import ProgramSettings

_log = structlog.get_logger("gateway.irt")
_reply = msgspec.json.Decoder(wire.Reply, strict=False)
PIN_HEADER = "X-Member-PIN"


class IRTOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: IRT's security mode for this program; in ``high`` every member call carries the PIN
    security_mode: Literal["low", "medium", "high"] = "medium"
    #: path of the RPC endpoint below ``base_url``
    path: str = "/"


class IRTAuth(msgspec.Struct, kw_only=True):
    """``type: credentials``: IRT's ``user`` and ``pass``, sent in every call's form."""

    type: str = "none"
    username: str | None = None
    password: str | None = None


def _need_pin() -> InvalidRequest:
    return InvalidRequest(
        f"This operation needs the member's PIN in the {PIN_HEADER} header.",
        errors=[FieldError(field=PIN_HEADER, message="required by this program's provider")],
    )


class IRTConnector(Connector):
    provider = PROVIDER
    #: card numbers (``cardnumber``, e.g. ``1234567812345678``)
    member_id_pattern = re.compile(r"[A-Za-z0-9-]{1,32}")
    Options = IRTOptions
    options: IRTOptions
    Auth = IRTAuth
    auth: IRTAuth
    secret_keys = ("password",)
    operations = (
        "balance",
        "profile",
        "lookup",
        "enroll",
        "update",
        "earn",
        "redeem",
        "health",
    )
    lookup_keys = ("card_number",)
    native_idempotency = frozenset({"earn", "redeem"})

    def __init__(
        self,
        program: ProgramSettings,
        store: Store | None = None,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(program, store)
        self.http = UpstreamClient(program, PROVIDER, transport=transport)
        self._credentials = {
            "user": self.auth.username or "",
            "pass": self.auth.password or "",
        }

    @staticmethod
    def check_auth(auth: IRTAuth) -> str | None:
        if auth.type != "credentials":
            return "auth.type: IRT needs type credentials (username and password)"
        if not auth.username:
            return "auth.username: required (IRT 'user')"
        if not auth.password:
            return "auth.password: required (IRT 'pass')"
        return None

    @property
    def balance_cacheable(self) -> bool:
        # In high security mode a balance read checks the PIN; a cache hit would skip that.
        return self.options.security_mode != "high"

    async def _call(
        self, call: str, fields: dict[str, str], *, operation: str, write: bool = False
    ) -> wire.Reply:
        """One RPC; a non-zero ``status`` raises the mapped contract error."""
        form = {"call": call, **self._credentials, **fields}
        try:
            reply = await self._send(form, operation=operation, write=write)
        except GatewayError as exc:
            if not (write and exc.outcome == "ambiguous" and "idempotencyKey" in fields):
                raise
            # Safe by IRT's contract: the same key and data never apply twice.
            _log.info("irt_resend_same_idempotency_key", operation=operation)
            reply = await self._send(form, operation=operation, write=write)
        if reply.status != wire.OK:
            raise map_status(reply.status, reply.message or "")
        return reply

    async def _send(self, form: dict[str, str], *, operation: str, write: bool) -> wire.Reply:
        response = await self.http.request(
            "POST", self.options.path, operation=operation, write=write, data=form
        )
        ambiguous: Any = "ambiguous" if write else "not_sent"
        if response.status_code != 200:
            raise UpstreamUnavailable(
                "IRT failed to answer.",
                upstream=UpstreamDetail(provider=PROVIDER, status=response.status_code),
                outcome=ambiguous if response.status_code >= 500 else "not_sent",
            )
        try:
            return _reply.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            _log.warning("irt_unreadable_reply", operation=operation, reason=str(exc)[:200])
            raise UpstreamUnavailable(
                "IRT answered with a body that is not the documented JSON.",
                upstream=UpstreamDetail(provider=PROVIDER, status=200),
                outcome=ambiguous,
            ) from None

    def _pin_fields(self, pin: str | None, *, required: bool) -> dict[str, str]:
        if pin:
            return {"PIN": pin}
        if required or self.options.security_mode == "high":
            raise _need_pin()
        return {}

    async def _registered(self, card: str) -> bool:
        try:
            await self._call("check_registered", {"cardnumber": card}, operation="lookup")
        except GatewayError as exc:
            if exc.upstream and exc.upstream.code in (
                str(wire.NOT_ENROLLED),
                str(wire.INVALID_CARD),
            ):
                return False
            raise
        return True

    async def lookup(self, key: str, value: str) -> list[Member]:
        if not await self._registered(value):
            return []
        return [Member(program=self.program.id, member_id=value, status="active")]

    async def enroll(
        self, request: EnrollRequest, idempotency_token: str, *, pin: str | None = None
    ) -> Member:
        card = request.card_number
        if not card:
            raise InvalidRequest(
                "IRT enrolls an issued card: card_number is required.",
                errors=[FieldError(field="card_number", message="required by this provider")],
            )
        try:
            await self._call("check_registered", {"cardnumber": card}, operation="enroll")
        except GatewayError as exc:
            code = exc.upstream.code if exc.upstream else None
            if code == str(wire.INVALID_CARD):
                raise UpstreamRejected(
                    "This card cannot be enrolled (IRT reports it invalid or cancelled).",
                    upstream=exc.upstream,
                ) from None
            if code != str(wire.NOT_ENROLLED):
                raise
        else:
            raise MemberAlreadyEnrolled("This card is already enrolled.")
        fields = {
            "cardnumber": card,
            **self._pin_fields(pin, required=False),
            **transform.register_fields(request),
        }
        await self._call("register", fields, operation="enroll", write=True)
        return self._enrolled(request)

    def _enrolled(self, request: EnrollRequest) -> Member:
        assert request.card_number is not None
        return request.as_member(self.program.id, request.card_number)

    async def find_enrollment(self, request: EnrollRequest) -> Member | None:
        assert request.card_number is not None
        return self._enrolled(request) if await self._registered(request.card_number) else None

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member:
        fields = {"cardnumber": member_id, **self._pin_fields(pin, required=True)}
        reply = await self._call("getinfo", fields, operation="profile")
        member = transform.to_member(self.program.id, member_id, reply.data)
        member.provider_data = reply.data if isinstance(reply.data, dict) else None
        return member

    async def update_member(
        self, member_id: str, patch: MemberPatch, *, pin: str | None = None
    ) -> Member:
        fields = {"cardnumber": member_id, **self._pin_fields(pin, required=True)}
        await self._call(
            "update", {**fields, **transform.update_fields(patch)}, operation="update", write=True
        )
        return await self.get_member(member_id, pin=pin)

    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        fields = {"cardnumber": member_id, **self._pin_fields(pin, required=False)}
        reply = await self._call("getbalance", fields, operation="balance")
        balance = transform.to_balance(self.program, member_id, reply.data, utcnow())
        balance.provider_data = reply.data if isinstance(reply.data, dict) else None
        return balance

    def _points_fields(
        self, member_id: str, command: EarnCommand | RedeemCommand
    ) -> dict[str, str]:
        fields = {
            "cardnumber": member_id,
            "points": str(command.points),
            "reference": command.reference,
            "idempotencyKey": command.idempotency_token,
            **self._pin_fields(command.pin, required=False),
        }
        if command.point_type:
            fields["pointType"] = transform.point_type(command.point_type) or command.point_type
        return fields

    async def earn(self, member_id: str, command: EarnCommand) -> Transaction:
        fields = self._points_fields(member_id, command)
        if command.reason:
            fields["reason"] = command.reason
        reply = await self._call("issuepoints", fields, operation="earn", write=True)
        return transform.to_transaction(
            self.program.id,
            member_id,
            command.points,
            command.reason,
            command.reference,
            command.point_type,
            command.idempotency_token,
            reply.data,
            utcnow(),
        )

    async def redeem(self, member_id: str, command: RedeemCommand) -> Redemption:
        fields = self._points_fields(member_id, command)
        reply = await self._call("redeem", fields, operation="redeem", write=True)
        return transform.to_redemption(
            self.program,
            member_id,
            command.points,
            command.reference,
            command.point_type,
            command.idempotency_token,
            reply.data,
            utcnow(),
        )

    async def probe(self) -> None:
        await self._call("Heartbeat", {}, operation="health")
