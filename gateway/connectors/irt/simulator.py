"""A faithful IRT simulator: one form-encoded RPC endpoint, always HTTP 200 with ``status``.

Built from the IRT partner document: ``call`` selects the operation, ``user``/``pass`` are
checked on every call, optional fields that are omitted are kept and blank ones cleared,
``idempotencyKey`` on issuepoints/redeem replays the first answer for identical data and
answers status 409 for changed data. Parameter names the document does not give follow
``docs/providers/irt.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import uuid
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, post

from gateway.sandbox.common import (
    DroppedConnection,
    FaultPlan,
    RecordedRequest,
    record_request,
)
from gateway.sandbox.simulator import Served, program_yaml

PROFILE_FIELDS = (
    "Email",
    "FirstName",
    "LastName",
    "Phone",
    "Birthday",
    "Address1",
    "Address2",
    "Address3",
    "City",
    "State",
    "Zip",
    "Country",
)
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Card(msgspec.Struct, kw_only=True):
    number: str
    enrolled: bool = False
    cancelled: bool = False
    pin: str | None = None
    spendable: int = 0
    annual: int = 0
    enrolled_on: str | None = None
    profile: dict[str, str] = msgspec.field(default_factory=dict)


class LedgerEntry(msgspec.Struct):
    call: str
    card: str
    points: int
    idempotency_key: str | None


class IRTState:
    def __init__(self, user: str, password: str, *, security_mode: str = "medium") -> None:
        self.user = user
        self.password = password
        self.security_mode = security_mode
        self.cards: dict[str, Card] = {}
        self.ledger: list[LedgerEntry] = []
        self.requests: list[RecordedRequest] = []
        self.idempotency: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.faults = FaultPlan()
        self.lock = threading.Lock()

    def add(self, card: Card) -> Card:
        self.cards[card.number] = card
        return card


def reply(status: int, message: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if data is not None:
        body["data"] = data
    return body


class _Calls:
    """One method per documented ``call``; each returns the JSON body to send."""

    def __init__(self, state: IRTState) -> None:
        self.state = state

    def _card(self, form: dict[str, str]) -> Card | dict[str, Any]:
        card = self.state.cards.get(form.get("cardnumber", ""))
        if card is None or card.cancelled:
            return reply(1, "Invalid card number.")
        return card

    def _enrolled(self, form: dict[str, str], *, pin: bool) -> Card | dict[str, Any]:
        card = self._card(form)
        if isinstance(card, dict):
            return card
        if not card.enrolled:
            return reply(5, "Card is not enrolled.")
        if pin and form.get("PIN") != card.pin:
            return reply(4, "Invalid card number or PIN.")
        return card

    def check_registered(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._card(form)
        if isinstance(card, dict):
            return card
        return (
            reply(0, "Card is registered.") if card.enrolled else reply(5, "Card is not enrolled.")
        )

    def _phone_taken(self, phone: str | None, owner: str) -> bool:
        return bool(phone) and any(
            c.profile.get("Phone") == phone and c.number != owner for c in self.state.cards.values()
        )

    def register(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._card(form)
        if isinstance(card, dict):
            return card
        if card.enrolled:
            return reply(2, "Card is already enrolled.")
        if self._phone_taken(form.get("Phone"), card.number):
            return reply(6, "Phone number is already used by another member.")
        card.profile = {k: form[k] for k in PROFILE_FIELDS if form.get(k)}
        card.pin = form.get("PIN") or card.pin
        card.enrolled = True
        card.enrolled_on = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        return reply(0, "Member Registered Successfully.")

    def getinfo(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._enrolled(form, pin=True)
        if isinstance(card, dict):
            return card
        data = {"cardnumber": card.number, "EnrollDate": card.enrolled_on}
        data.update({k: card.profile.get(k, "") for k in PROFILE_FIELDS})
        return reply(0, "Success", data)

    def update(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._enrolled(form, pin=True)
        if isinstance(card, dict):
            return card
        if "Phone" in form and self._phone_taken(form["Phone"], card.number):
            return reply(6, "Phone number is already used by another member.")
        for name in PROFILE_FIELDS:
            if name not in form:
                continue  # omitted: keep
            if form[name] == "":
                card.profile.pop(name, None)  # present but blank: clear
            else:
                card.profile[name] = form[name]
        return reply(0, "Member Updated Successfully.")

    def _high_security_pin(self, form: dict[str, str], card: Card) -> dict[str, Any] | None:
        if self.state.security_mode == "high" and form.get("PIN") != card.pin:
            return reply(4, "PIN required (high security mode).")
        return None

    def getbalance(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._card(form)
        if isinstance(card, dict):
            return card
        if (refused := self._high_security_pin(form, card)) is not None:
            return refused
        return reply(
            0,
            "Success",
            {
                "balance": card.spendable + card.annual,
                "spendable": card.spendable,
                "annual": card.annual,
            },
        )

    def _points(self, form: dict[str, str], card: Card, sign: int, call: str) -> dict[str, Any]:
        if (refused := self._high_security_pin(form, card)) is not None:
            return refused
        try:
            points = int(form.get("points", ""))
        except ValueError:
            return reply(4, "Invalid points value.")
        if points <= 0:
            return reply(4, "Invalid points value.")
        kind = form.get("pointType") or "Spendable"
        if kind not in ("Annual", "Spendable"):
            return reply(4, "Invalid pointType.")
        bucket = "annual" if kind == "Annual" else "spendable"
        if sign < 0 and getattr(card, bucket) < points:
            return reply(4, "Insufficient points balance.")
        setattr(card, bucket, getattr(card, bucket) + sign * points)
        self.state.ledger.append(
            LedgerEntry(call, card.number, sign * points, form.get("idempotencyKey"))
        )
        return reply(
            0,
            "Success",
            {
                "balance": card.spendable + card.annual,
                "loyalty_transaction_number": uuid.uuid4().hex[:12].upper(),
            },
        )

    def issuepoints(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._card(form)
        return card if isinstance(card, dict) else self._points(form, card, +1, "issuepoints")

    def redeem(self, form: dict[str, str]) -> dict[str, Any]:
        card = self._enrolled(form, pin=False)
        return card if isinstance(card, dict) else self._points(form, card, -1, "redeem")

    def Heartbeat(self, form: dict[str, str]) -> dict[str, Any]:
        return reply(0, "OK")


def _data_hash(form: dict[str, str]) -> str:
    data = {k: v for k, v in form.items() if k not in ("user", "pass", "idempotencyKey")}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def create_app(state: IRTState) -> Litestar:
    calls = _Calls(state)
    idempotent_calls = ("issuepoints", "redeem")

    @post(["/", "/api"], status_code=200)
    async def rpc(request: Request[Any, Any, Any]) -> Response[Any]:
        state.requests.append(await record_request(request))
        if (failure := await state.faults.before(request.url.path)) is not None:
            return failure
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return Response(reply(4, "Invalid API request."))
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("user") != state.user or form.get("pass") != state.password:
            return Response(reply(401, "Unauthorized"))
        call = form.get("call", "")
        handler = getattr(calls, call, None) if not call.startswith("_") else None
        if handler is None:
            return Response(reply(4, "Invalid API request."))
        key = form.get("idempotencyKey")
        with state.lock:
            if call in idempotent_calls and key is not None:
                if not _KEY.match(key):
                    return Response(reply(422, "INVALID_IDEMPOTENCY_KEY"))
                previous = state.idempotency.get(key)
                if previous is not None:
                    digest, when, body = previous
                    if digest != _data_hash(form):
                        return Response(
                            reply(
                                409,
                                "IDEMPOTENCY_KEY_HASH_MISMATCH: Request has changed since the "
                                f"original request on {when}",
                            )
                        )
                    return Response(body)
            body = handler(form)
            if call in idempotent_calls and key is not None and body["status"] == 0:
                when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                state.idempotency[key] = (_data_hash(form), when, body)
        if body["status"] == 0 and call in ("register", "update", *idempotent_calls):
            state.faults.after_apply()
        if state.faults.malformed():
            return Response(
                content=b"<html>Service Unavailable</html>", status_code=200, media_type="text/html"
            )
        return Response(body)

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, DroppedConnection):
            raise exc
        return Response({"status": 4, "message": "Fatal error."}, status_code=500)

    return Litestar([rpc], exception_handlers={Exception: on_error}, openapi_config=None)


# -- the sandbox world's IRT (gateway demo, tests) ----------------------------------------
#: the partner credentials of the sandbox only
SANDBOX_USER = "irt-demo-user"
SANDBOX_PASS = "irt-demo-pass"


def seed(state: IRTState) -> None:
    """An enrolled card (PIN 1234), an issued card not yet enrolled, and a cancelled one."""
    state.add(
        Card(
            number="6001000000000001",
            enrolled=True,
            pin="1234",
            spendable=500,
            annual=120,
            enrolled_on="2024-03-01 10:00:00",
            profile={
                "Email": "ann@example.com",
                "FirstName": "Ann",
                "LastName": "Example",
                "Phone": "5550100",
                "City": "Springfield",
                "State": "IL",
                "Zip": "62701",
            },
        )
    )
    state.add(Card(number="6001000000000002", spendable=0))
    state.add(Card(number="6001000000000003", cancelled=True))


class IRTSimulator(Served):
    provider = "irt"
    program_id = "irt-rewards"

    def __init__(self) -> None:
        super().__init__(IRTState(SANDBOX_USER, SANDBOX_PASS))

    def seed(self) -> None:
        seed(self.state)

    def app(self) -> Litestar:
        return create_app(self.state)

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        return program_yaml(
            program_id=self.program_id,
            name="IRT Rewards",
            provider=self.provider,
            base_url=self.url,
            auth={"type": "credentials", "username": SANDBOX_USER, "password": SANDBOX_PASS},
            points_value="{points_per_unit: 100, currency: USD}",
            circuit_open_seconds=circuit_open_seconds,
            options="{security_mode: medium}",
        )

    def new_member(self) -> str:
        """An enrolled card with PIN ``1``."""
        card = "9" + str(uuid.uuid4().int)[:15]
        self.state.add(Card(number=card, enrolled=True, pin="1"))
        return card

    def try_lines(self) -> list[str]:
        return [
            "card 6001000000000001 (PIN 1234, 500 points); 6001000000000002 is issued but "
            "not enrolled: enroll it; 6001000000000003 is cancelled"
        ]


def simulator() -> IRTSimulator:
    return IRTSimulator()
