"""ShopYourWay Telluride connector: JWT-bearer OAuth, ``client_id``/``access_token`` headers,
JSON bodies whose outcome sits in a status code inside the body."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
import structlog

from gateway.connectors.base import Connector
from gateway.connectors.common import utcnow
from gateway.connectors.http import UpstreamClient
from gateway.connectors.shopyourway import checks, errors, locate, oauth, transform, wire
from gateway.connectors.shopyourway.config import ShopYourWayAuth, ShopYourWayOptions
from gateway.connectors.shopyourway.errors import PROVIDER
from gateway.connectors.shopyourway.telluride import Telluride, require_ok
from gateway.connectors.transport import Transport
from gateway.domain.commands import ActivityQuery, EarnCommand, EnrollRequest, RedeemCommand
from gateway.domain.errors import (
    InvalidRequest,
    MemberNotFound,
    UpstreamDetail,
    UpstreamUnavailable,
)
from gateway.domain.models import ActivityPage, Balance, Member, Offer, Redemption, Transaction
from gateway.domain.pagination import activity_page
from gateway.infra.store import Store
from gateway.settings import ProgramSettings

_log = structlog.get_logger("gateway.shopyourway")
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
_encoder = msgspec.json.Encoder()
_REDEMPTION_NOTE_SECONDS = 90 * 86_400


class ShopYourWayConnector(Connector):
    provider = PROVIDER
    #: ``MemberNumber`` (18) or ``MemberIdentifier`` (64); AuthorizationCode (10), or the
    #: activity's TransactionID for a redemption found there
    member_id_pattern = re.compile(r"[A-Za-z0-9-]{1,64}")
    redemption_id_pattern = re.compile(r"[A-Za-z0-9-]{1,64}")
    Options = ShopYourWayOptions
    options: ShopYourWayOptions
    Auth = ShopYourWayAuth
    auth: ShopYourWayAuth
    secret_keys = ("private_key",)
    operations = (
        "token",
        "balance",
        "lookup",
        "enroll",
        "earn",
        "redeem",
        "void",
        "activity",
        "offers",
    )
    lookup_keys = ("email", "phone", "card_number")
    #: a second void of one authorization is refused (93 "Redemption already voided"), so a
    #: void not found in the activity is re-sent without waiting for the settle time
    refuses_duplicates = frozenset({"void"})
    uses_token_endpoint = True

    def __init__(
        self,
        program: ProgramSettings,
        store: Store | None = None,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(program, store)
        self.http = UpstreamClient(
            program,
            PROVIDER,
            transport=transport,
            # an expired token signalled as HTTP 500 is not the provider failing
            benign=lambda response: errors.auth_code_in(response.text) is not None,
        )
        self.telluride = Telluride(self.http, program, self.auth, store)

    @staticmethod
    def check_auth(auth: ShopYourWayAuth) -> str | None:
        if auth.type != "jwt_bearer":
            return "auth.type: ShopYourWay needs type jwt_bearer"
        if not auth.client_id:
            return "auth.client_id: required (Telluride client id)"
        if not auth.token_url:
            return "auth.token_url: required (Telluride OAuth token URL)"
        if not (auth.private_key or auth.private_key_file):
            return "auth.private_key: required (or auth.private_key_file)"
        try:
            pem = oauth.load_private_key(auth)
        except OSError as exc:
            return f"auth.private_key_file: cannot read it ({exc.strerror})"
        if not oauth.usable_private_key(pem):
            key = "private_key" if auth.private_key else "private_key_file"
            return f"auth.{key}: not a PEM RSA private key"
        return None

    def _now(self) -> dt.datetime:
        return utcnow()

    # -- members ---------------------------------------------------------------------------
    async def _lookup(self, search_type: str, field: str, value: str) -> list[Member]:
        body = wire.MemberLookup(
            requestor_id=self.options.requestor_id,
            message_version=self.options.message_versions.member_lookup,
            search_type=search_type,
            **{field: value},
        )
        data = await self.telluride.post("/profile/GetMemberLookup", body, operation="lookup")
        try:
            require_ok(data, errors.lookup_error)
        except MemberNotFound:
            return []
        members = transform.members_of(transform.reply_of(data))
        return [transform.to_member(self.program.id, m) for m in members]

    async def lookup(self, key: str, value: str) -> list[Member]:
        if key == "email":
            return await self._lookup("02", "email_address", value)
        if key == "phone":
            digits = "".join(ch for ch in value if ch.isdigit())
            return await self._lookup("04", "phone_number", digits)
        return await self._lookup("05", "member_number", value)

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member:
        found = await self._lookup("05", "member_number", member_id)
        if not found:
            raise MemberNotFound("ShopYourWay has no such member.")
        return found[0]

    async def enroll(
        self, request: EnrollRequest, idempotency_token: str, *, pin: str | None = None
    ) -> Member:
        problems = checks.enroll_errors(request, pin)
        if problems:
            raise InvalidRequest("ShopYourWay needs other member details.", errors=problems)
        body = transform.create_member_body(request, self.options, self._now(), pin)
        data = await self.telluride.post(
            "/profile/CreateMember", body, operation="enroll", write=True
        )
        require_ok(data, errors.create_member_error, write=True)
        members = transform.members_of(transform.reply_of(data))
        if members:
            return transform.to_member(self.program.id, members[0])
        found = await self.find_enrollment(request)
        if found is None:
            raise UpstreamUnavailable(
                "ShopYourWay enrolled the member but did not return it.", outcome="ambiguous"
            )
        return found

    async def find_enrollment(self, request: EnrollRequest) -> Member | None:
        if not request.email:
            return None
        found = await self._lookup("02", "email_address", request.email)
        return found[0] if found else None

    # -- points ----------------------------------------------------------------------------
    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        now = self._now()
        body = wire.RewardBalance(
            current_date=now.strftime("%Y-%m-%d"),
            current_time=now.strftime("%H:%M:%S"),
            requestor_id=self.options.requestor_id,
            store_number=self.options.store_number,
            member_number=member_id,
            message_version=self.options.message_versions.reward_balance,
        )
        data = await self.telluride.post("/profile/GetRewardBalance", body, operation="balance")
        require_ok(data, errors.balance_error)
        balance = transform.to_balance(self.program, member_id, data, now)
        balance.provider_data = data
        return balance

    async def earn(self, member_id: str, command: EarnCommand) -> Transaction:
        now = self._now()
        number = transform.transaction_number(command.idempotency_token)
        options = self.options
        body = wire.ExternalBonus(
            offer_id=options.offer_id,
            points_to_add=str(command.points),
            requestor_id=options.requestor_id,
            store_number=options.store_number,
            member_number=member_id,
            transaction_ts=now.strftime("%Y-%m-%dT%H:%M:%S"),
            message_version=options.message_versions.external_bonus,
            register_number=options.terminal,
            file_identifier=options.file_identifier or options.requestor_id,
            transaction_number=number,
        )
        data = await self.telluride.post(
            "/transaction/PostExternalBonus", body, operation="earn", write=True
        )
        require_ok(data, errors.bonus_error, write=True)
        return self._transaction(
            member_id, command, number, now, transform.integer(data, "CurrentBalance")
        )

    def _transaction(
        self,
        member_id: str,
        command: EarnCommand,
        number: str,
        when: dt.datetime,
        balance_after: int | None,
    ) -> Transaction:
        return Transaction(
            id=number,
            program=self.program.id,
            member_id=member_id,
            points=command.points,
            reason=command.reason,
            reference=command.reference,
            status="completed",
            created_at=when,
            balance_after=balance_after,
            point_type=command.point_type,
        )

    async def _activity_since(self, member_id: str, since: dt.datetime) -> Any:
        # a day ahead: a row Telluride dated by a clock ahead of ours is still in range
        return await self._activity_window(member_id, since, self._now() + dt.timedelta(days=1))

    async def find_earn(
        self, member_id: str, command: EarnCommand, *, since: dt.datetime
    ) -> Transaction | None:
        """An earn that may have been applied: look for its TransactionNumber in the activity."""
        number = transform.transaction_number(command.idempotency_token)
        data = await self._activity_since(member_id, since)
        for item in locate.rows(data):
            if transform.text(item, "TransactionNumber") == number:
                when = transform.parse_timestamp(transform.text(item, "TransactionDTTM"))
                return self._transaction(
                    member_id,
                    command,
                    number,
                    when or self._now(),
                    transform.integer(item, "PointBalance"),
                )
        return None

    async def find_redemption(
        self, member_id: str, command: RedeemCommand, *, since: dt.datetime
    ) -> Redemption | None:
        number = transform.transaction_number(command.idempotency_token)
        data = await self._activity_since(member_id, since)
        found, row = locate.find(
            data,
            "R",
            number,
            command.reference[:40],
            lambda r: locate.redeemed(r) == command.points,
        )
        if found == "ambiguous":
            raise _cannot_tell("redemption")
        if row is None:
            return None
        code = locate.authorization_code(row) or transform.text(row, "TransactionID") or number
        return Redemption(
            id=code,
            program=self.program.id,
            member_id=member_id,
            points=locate.redeemed(row) or command.points,
            value=transform.dollars(transform.text(row, "DollarValueOfPointsRedeemed")),
            reference=command.reference,
            order_id=command.reference,
            status="completed",
            created_at=_row_time(row) or self._now(),
            point_type=command.point_type,
        )

    async def find_void(
        self, member_id: str, redemption_id: str, idempotency_token: str, *, since: dt.datetime
    ) -> Redemption | None:
        number = transform.transaction_number(idempotency_token)
        data = await self._activity_since(member_id, since)
        _, row = locate.find(
            data, "V", number, redemption_id[:40], lambda r: locate.voids(r, redemption_id)
        )
        if row is None:
            return None  # a void is never ambiguous: the authorization code decides
        return Redemption(
            id=redemption_id,
            program=self.program.id,
            member_id=member_id,
            points=abs(locate.redeemed(row)),
            value=transform.dollars(transform.text(row, "DollarValueOfPointsRedeemed")),
            reference=redemption_id,
            order_id=redemption_id,
            status="voided",
            created_at=_row_time(row) or self._now(),
        )

    def _redemption_body(
        self,
        member_id: str,
        function: str,
        points: int,
        number: str,
        order_id: str,
        now: dt.datetime,
        authorization_code: str | msgspec.UnsetType = msgspec.UNSET,
    ) -> wire.ProcessRedemption:
        options = self.options
        return wire.ProcessRedemption(
            message_version=options.message_versions.process_redemption,
            function=function,
            requestor_id=options.requestor_id,
            member_number=member_id,
            pick_up_store_number=options.store_number,
            order_store_number=options.store_number,
            register_number=options.terminal,
            transaction_date=now.strftime("%Y-%m-%d"),
            transaction_time=now.strftime("%H:%M:%S"),
            associate_id=options.associate_id,
            redemption_points=str(points),
            transaction_number=number,
            order_id=order_id[:40],
            apply_function=options.apply_function,
            authorization_code=authorization_code,
        )

    async def redeem(self, member_id: str, command: RedeemCommand) -> Redemption:
        now = self._now()
        number = transform.transaction_number(command.idempotency_token)
        body = self._redemption_body(member_id, "R", command.points, number, command.reference, now)
        data = await self.telluride.post(
            "/transaction/ProcessRedemption", body, operation="redeem", write=True
        )
        require_ok(data, errors.redemption_error, write=True)
        code = transform.text(data, "AuthorizationCode")
        if code is None:
            raise UpstreamUnavailable(
                "ShopYourWay redeemed without an AuthorizationCode.", outcome="ambiguous"
            )
        if self.store is not None:
            note = msgspec.json.encode({"points": command.points, "member": member_id})
            try:
                await self.store.put_note(
                    self.program.id, "redemption", code, note, _REDEMPTION_NOTE_SECONDS
                )
            except Exception:  # the void can still run without it
                _log.warning("syw_redemption_note_failed", program=self.program.id)
        return Redemption(
            id=code,
            program=self.program.id,
            member_id=member_id,
            points=transform.integer(data, "RedemptionPoints") or command.points,
            value=transform.dollars(transform.text(data, "RedemptionDollarValue")),
            reference=command.reference,
            order_id=command.reference,
            status="completed",
            created_at=now,
            point_type=command.point_type,
        )

    async def void(self, member_id: str, redemption_id: str, idempotency_token: str) -> Redemption:
        now = self._now()
        points = 0
        if self.store is not None:
            try:
                note = await self.store.get_note(self.program.id, "redemption", redemption_id)
            except Exception:
                note = None
            if note:
                points = int(msgspec.json.decode(note).get("points", 0))
        number = transform.transaction_number(idempotency_token)
        body = self._redemption_body(
            member_id, "V", points, number, redemption_id, now, authorization_code=redemption_id
        )
        data = await self.telluride.post(
            "/transaction/ProcessRedemption", body, operation="void", write=True
        )
        found = transform.status_of(data)
        # 93 "Redemption already voided": the void the caller wants is in place.
        if found is None or found[0].strip().lstrip("0") != "93":
            require_ok(data, errors.redemption_error, write=True)
        return Redemption(
            id=redemption_id,
            program=self.program.id,
            member_id=member_id,
            points=transform.integer(data, "RedemptionPoints") or points,
            value=transform.dollars(transform.text(data, "RedemptionDollarValue")),
            reference=redemption_id,
            order_id=redemption_id,
            status="voided",
            created_at=now,
        )

    # -- activity and offers ---------------------------------------------------------------
    async def _activity_window(self, member_id: str, start: dt.datetime, end: dt.datetime) -> Any:
        body = wire.ActivityDetail(
            member_number=member_id,
            start_dttm=start.strftime("%Y-%m-%dT%H:%M:%S"),
            end_dttm=end.strftime("%Y-%m-%dT%H:%M:%S"),
            message_version=self.options.message_versions.activity_detail,
            requestor_id=self.options.requestor_id,
        )
        data = await self.telluride.post(
            "/transaction/GetMemberActivityDetail", body, operation="activity"
        )
        require_ok(data, errors.activity_error)
        return data

    async def activity(self, member_id: str, query: ActivityQuery) -> ActivityPage:
        now = self._now()
        until = query.until or now + dt.timedelta(seconds=1)
        since = query.since or until - dt.timedelta(days=self.options.activity_days)
        data = await self._activity_window(member_id, since, until)
        return activity_page(self.program.id, member_id, transform.to_activity(data), query, data)

    async def offers(self, member_id: str) -> list[Offer]:
        now = self._now()
        body = wire.ApplicableOffers(
            message_version=self.options.message_versions.applicable_offers,
            member_number=member_id,
            requestor_id=self.options.requestor_id,
            order_store_number=self.options.store_number,
            current_dttm=now.strftime("%Y-%m-%d %H:%M:%S"),
        )
        data = await self.telluride.post(
            "/transaction/GetApplicableOffers", body, operation="offers"
        )
        require_ok(data, errors.offers_error)
        return transform.to_offers(data)

    async def probe(self) -> None:
        await self.telluride.tokens.get()


def _row_time(row: Any) -> dt.datetime | None:
    return transform.parse_timestamp(transform.text(row, "TransactionDTTM", "PostTS"))


def _cannot_tell(write: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        f"ShopYourWay's activity holds another {write} with this OrderId and a different "
        "amount; the gateway cannot tell whether this one was applied.",
        upstream=UpstreamDetail(provider=PROVIDER),
    )
