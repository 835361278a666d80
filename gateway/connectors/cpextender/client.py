"""CP Extender connector: a small Bearer REST API that answers with HTTP status codes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import msgspec

from gateway.connectors.base import Connector
from gateway.connectors.common import (
    StaticAuth,
    check_static_auth,
    decode_json,
    error_message,
    static_auth_headers,
    utcnow,
)
from gateway.connectors.cpextender import transform, wire
from gateway.connectors.cpextender.errors import PROVIDER, map_error
from gateway.connectors.http import UpstreamClient
from gateway.connectors.transport import Transport
from gateway.domain.commands import ActivityQuery, EarnCommand, RedeemCommand
from gateway.domain.errors import UpstreamDetail, UpstreamUnavailable
from gateway.domain.models import ActivityPage, Balance, Member, Redemption, Transaction
from gateway.domain.pagination import activity_page
from gateway.infra.store import Store
from gateway.settings import ProgramSettings

_encoder = msgspec.json.Encoder()


class CPExtenderOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: ``Reason`` sent with an earn when the caller gave none
    default_reason: str = "Points earned"
    #: a customer number whose BalanceCheck proves the API works (else any HTTP answer does)
    health_customer_number: str | None = None


class CPExtenderConnector(Connector):
    provider = PROVIDER
    Options = CPExtenderOptions
    Auth = StaticAuth
    secret_keys = ("token",)
    operations = (
        "balance",
        "profile",
        "earn",
        "redeem",
        "activity",
        "find_earn",
        "find_redemption",
        "health",
    )
    #: customer numbers such as ``2059378440`` or ``CPOL-123185`` (a path segment at CP)
    member_id_pattern = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    options: CPExtenderOptions

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

    async def _balance_check(
        self, member_id: str, operation: str, window: wire.DateWindow | None = None
    ) -> tuple[wire.Loyalty, Any]:
        response = await self.http.request(
            "GET",
            f"/Loyalty/{quote(member_id, safe='')}/BalanceCheck",
            operation=operation,
            content=_encoder.encode(window) if window else None,
            headers={"Content-Type": "application/json"} if window else None,
        )
        if response.status_code != 200:
            raise map_error(response.status_code, error_message(response), write=False)
        raw = decode_json(response)
        try:
            return transform.decode_balance_check(raw), raw
        except msgspec.ValidationError as exc:
            raise UpstreamUnavailable(
                "CP Extender answered with an unexpected body.",
                upstream=UpstreamDetail(provider=PROVIDER, status=200, message=str(exc)),
            ) from None

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member:
        loyalty, raw = await self._balance_check(member_id, "profile")
        member = transform.to_member(self.program.id, member_id, loyalty)
        member.provider_data = _without_history(raw)
        return member

    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        loyalty, raw = await self._balance_check(member_id, "balance")
        balance = transform.to_balance(self.program, member_id, loyalty, utcnow())
        balance.provider_data = _without_history(raw)
        return balance

    async def activity(self, member_id: str, query: ActivityQuery) -> ActivityPage:
        window = None
        if query.since or query.until:
            window = wire.DateWindow(
                startDate=transform.format_date(query.since) if query.since else None,
                endDate=transform.format_date(query.until) if query.until else None,
            )
        loyalty, raw = await self._balance_check(member_id, "activity", window)
        return activity_page(
            self.program.id,
            member_id,
            transform.to_activity(loyalty.history),
            query,
            raw if isinstance(raw, dict) else None,
        )

    async def earn(self, member_id: str, command: EarnCommand) -> Transaction:
        body = transform.earn_body(
            member_id,
            command.points,
            command.reason or self.options.default_reason,
            command.reference,
        )
        response = await self.http.request(
            "POST",
            "/Loyalty/Earn",
            operation="earn",
            write=True,
            content=_encoder.encode(body),
            headers={"Content-Type": "application/json"},
        )
        if not 200 <= response.status_code < 300:
            raise map_error(response.status_code, error_message(response), write=True)
        return self._transaction(member_id, command)

    def _transaction(self, member_id: str, command: EarnCommand) -> Transaction:
        # Earn answers 204 with no body: the reference we sent is the only handle CP keeps
        # (it shows up as the History line's Document).
        return Transaction(
            id=command.reference,
            program=self.program.id,
            member_id=member_id,
            points=command.points,
            reason=command.reason,
            reference=command.reference,
            status="completed",
            created_at=utcnow(),
            point_type=command.point_type,
        )

    async def _history_since(
        self, member_id: str, since: dt.datetime, operation: str
    ) -> list[wire.HistoryEntry]:
        # endDate a day ahead: a line CP dated by a clock ahead of ours is still in range
        window = wire.DateWindow(
            startDate=transform.format_date(since),
            endDate=transform.format_date(utcnow() + dt.timedelta(days=1)),
        )
        loyalty, _ = await self._balance_check(member_id, operation, window)
        return loyalty.history

    async def find_earn(
        self, member_id: str, command: EarnCommand, *, since: dt.datetime
    ) -> Transaction | None:
        for entry in await self._history_since(member_id, since, "find_earn"):
            if entry.document == command.reference and entry.point_amount == command.points:
                return self._transaction(member_id, command)
        return None

    async def find_redemption(
        self, member_id: str, command: RedeemCommand, *, since: dt.datetime
    ) -> Redemption | None:
        history = await self._history_since(member_id, since, "find_redemption")
        found, line = transform.find_hold(history, command.reference, command.points)
        if found == "ambiguous":
            raise UpstreamUnavailable(
                "CP Extender's history holds another authorization with this SaleId and a "
                "different amount; the gateway cannot tell whether this one was applied.",
                upstream=UpstreamDetail(provider=PROVIDER),
            )
        if line is None:
            return None
        redemption = transform.located_redemption(
            self.program, member_id, command.points, command.reference, line
        )
        redemption.point_type = command.point_type
        return redemption

    async def redeem(self, member_id: str, command: RedeemCommand) -> Redemption:
        body = transform.authorize_body(member_id, command.points, command.reference)
        response = await self.http.request(
            "POST",
            "/Loyalty/Authorize",
            operation="redeem",
            write=True,
            content=_encoder.encode(body),
            headers={"Content-Type": "application/json"},
        )
        if not 200 <= response.status_code < 300:
            raise map_error(response.status_code, error_message(response), write=True)
        try:
            answer = msgspec.convert(decode_json(response), wire.AuthorizeResponse, strict=False)
        except msgspec.ValidationError as exc:
            # The authorization may exist upstream but we could not read its code.
            raise UpstreamUnavailable(
                "CP Extender answered the authorization with an unexpected body.",
                upstream=UpstreamDetail(
                    provider=PROVIDER, status=response.status_code, message=str(exc)
                ),
                outcome="ambiguous",
            ) from None
        redemption = transform.to_redemption(
            self.program, member_id, command.points, command.reference, answer, utcnow()
        )
        redemption.point_type = command.point_type
        return redemption

    async def probe(self) -> None:
        probe_id = self.options.health_customer_number or "gateway-health-probe"
        response = await self.http.request(
            "GET", f"/Loyalty/{quote(probe_id, safe='')}/BalanceCheck", operation="health"
        )
        if response.status_code in (401, 403) or response.status_code >= 500:
            raise map_error(response.status_code, error_message(response), write=False)
        if self.options.health_customer_number and response.status_code != 200:
            raise map_error(response.status_code, error_message(response), write=False)


def _without_history(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("Loyalty"), dict):
        return None
    loyalty = {k: v for k, v in raw["Loyalty"].items() if k != "History"}
    return {"Loyalty": loyalty}
