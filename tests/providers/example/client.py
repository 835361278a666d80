"""Example Stamps connector: Bearer REST, stamps as points, earns de-duplicated by reference."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import msgspec

from gateway.connectors.base import Connector
from gateway.connectors.common import StaticAuth, check_static_auth, static_auth_headers, utcnow
from gateway.connectors.http import UpstreamClient
from gateway.connectors.transport import Transport
from gateway.domain.commands import EarnCommand
from gateway.domain.models import Balance, Member, Transaction
from gateway.infra.store import Store
from gateway.settings import ProgramSettings
from tests.providers.example import wire
from tests.providers.example.errors import PROVIDER, map_error

_account = msgspec.json.Decoder(wire.Account)
_earned = msgspec.json.Decoder(wire.EarnReply)
_failure = msgspec.json.Decoder(wire.Failure)
_encoder = msgspec.json.Encoder()


class ExampleOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: the path prefix of the accounts collection
    accounts_path: str = "/accounts"


class ExampleConnector(Connector):
    provider = PROVIDER
    Options = ExampleOptions
    options: ExampleOptions
    Auth = StaticAuth
    secret_keys = ("token",)
    operations = ("balance", "profile", "earn")
    member_id_pattern = re.compile(r"[A-Z0-9]{1,20}")
    native_idempotency = frozenset({"earn"})

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

    def _path(self, member_id: str) -> str:
        return f"{self.options.accounts_path}/{quote(member_id, safe='')}"

    async def _account(self, member_id: str, operation: str) -> wire.Account:
        response = await self.http.request("GET", self._path(member_id), operation=operation)
        if response.status_code != 200:
            raise _failed(response, write=False)
        return _account.decode(response.content)

    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        account = await self._account(member_id, "balance")
        return Balance(
            program=self.program.id,
            member_id=member_id,
            points=account.stamps,
            available_points=account.stamps,
            as_of=utcnow(),
        )

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member:
        account = await self._account(member_id, "profile")
        return Member(
            program=self.program.id, member_id=member_id, status="active", email=account.email
        )

    async def earn(self, member_id: str, command: EarnCommand) -> Transaction:
        body = wire.EarnRequest(stamps=command.points, reference=command.idempotency_token)
        response = await self.http.request(
            "POST",
            self._path(member_id) + "/stamps",
            operation="earn",
            write=True,
            content=_encoder.encode(body),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code not in (200, 201):
            raise _failed(response, write=True)
        reply = _earned.decode(response.content)
        return Transaction(
            id=reply.entry_id,
            program=self.program.id,
            member_id=member_id,
            points=command.points,
            reason=command.reason,
            reference=command.reference,
            status="completed",
            created_at=utcnow(),
            balance_after=reply.stamps_after,
        )


def _failed(response: httpx.Response, *, write: bool) -> Exception:
    try:
        code = _failure.decode(response.content).error
    except msgspec.DecodeError:
        code = ""
    return map_error(response.status_code, code, write=write)
