"""A faithful CP Extender simulator: Bearer auth, the three Loyalty methods, HTTP statuses.

Built from ``cp-extender-loyalty.txt``: Earn answers 204, BalanceCheck returns the
``Loyalty`` object with ``History`` (filtered by the optional startDate/endDate body),
Authorize answers 200 with an ``AuthCode`` or 400 with the documented texts.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from gateway.sandbox.common import (
    DroppedConnection,
    FaultPlan,
    RecordedRequest,
    bearer_ok,
    json_body,
    record_request,
)
from gateway.sandbox.simulator import Served, program_yaml

POINTS_PER_DOLLAR = 100


class Customer(msgspec.Struct, kw_only=True):
    customer_number: str
    display_number: str
    program_name: str = "Loyalty program 1"
    status: str = "active"
    points: int = 0
    open_authorizations: int = 0
    pending_points: int = 0
    history: list[dict[str, Any]] = msgspec.field(default_factory=list)


class LedgerEntry(msgspec.Struct):
    kind: str
    customer_number: str
    points: int
    document: str


class CPState:
    def __init__(self, token: str) -> None:
        self.token = token
        self.customers: dict[str, Customer] = {}
        self.ledger: list[LedgerEntry] = []
        self.requests: list[RecordedRequest] = []
        self.faults = FaultPlan()
        self.lock = threading.Lock()

    def add_customer(self, customer: Customer) -> Customer:
        self.customers[customer.customer_number] = customer
        return customer


def _today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%m/%d/%Y")


def _parse(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _message(text: str, status: int) -> Response[Any]:
    return Response({"Message": text}, status_code=status)


def create_app(state: CPState) -> Litestar:
    async def guard(request: Request[Any, Any, Any]) -> Response[Any] | None:
        state.requests.append(await record_request(request))
        if not bearer_ok(request, state.token):
            return _message("Authorization has been denied for this request.", 401)
        return await state.faults.before(request.url.path)

    @post("/Loyalty/Earn", status_code=200)
    async def earn(request: Request[Any, Any, Any]) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        try:
            body = await json_body(request)
        except ValueError:
            return _message("The request is invalid.", 400)
        if not isinstance(body, dict):
            return _message("The request is invalid.", 400)
        number, points = body.get("CustomerNumber"), body.get("Points")
        if not isinstance(number, str | int) or not isinstance(points, int) or points <= 0:
            return _message("Required: CustomerNumber and Points", 400)
        with state.lock:
            customer = state.customers.get(str(number))
            if customer is None:
                return _message("CustomerNumber Not Found", 404)
            customer.points += points
            entry: dict[str, Any] = {"Date": _today(), "PointAmount": points}
            if body.get("Reference") is not None:
                entry["Document"] = str(body["Reference"])
            if body.get("Reason") is not None:
                entry["Reason"] = str(body["Reason"])
            customer.history.append(entry)
            state.ledger.append(
                LedgerEntry("earn", customer.customer_number, points, entry.get("Document", ""))
            )
        state.faults.after_apply()
        return Response(content=b"", status_code=204)

    @get("/Loyalty/{customer_id:str}/BalanceCheck")
    async def balance_check(
        request: Request[Any, Any, Any], customer_id: FromPath[str]
    ) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        try:
            window = await json_body(request) or {}
        except ValueError:
            return _message("The request is invalid.", 400)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        start = _parse(window.get("startDate")) if isinstance(window, dict) else None
        end = _parse(window.get("endDate")) if isinstance(window, dict) else None
        start = start or now - dt.timedelta(days=365)
        end = end or now
        customer = state.customers.get(customer_id)
        if customer is None:
            return _message("Id not found", 404)
        history = [
            h
            for h in customer.history
            if h.get("Activity") == "Historical Summary"
            or (d := _parse(h.get("Date"))) is None
            or start.date() <= d.date() <= end.date()
        ]
        if state.faults.malformed():
            return Response(
                content=b'{"Loyalty": {"PointBalance": ',
                status_code=200,
                media_type="application/json",
            )
        return Response(
            {
                "Loyalty": {
                    "CustomerNumber": customer.display_number,
                    "ProgramName": customer.program_name,
                    "EarningDescription": "Return Listing of CP Earning Rule Descriptions",
                    "RedemptionDescription": "Return Listing of CP Redemption Rule Descriptions",
                    "Status": customer.status,
                    "PointBalance": customer.points,
                    "OpenAuthorizations": customer.open_authorizations,
                    "PendingPointsEarned": customer.pending_points,
                    "AvailablePointBalance": customer.points - customer.open_authorizations,
                    "History": history,
                }
            }
        )

    @post("/Loyalty/Authorize", status_code=200)
    async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        required = "Required: Type, Ref, SaleId, and (RequestedAmount or RequestedPoints)"
        try:
            body = await json_body(request)
        except ValueError:
            return _message(required, 400)
        if not isinstance(body, dict):
            return _message(required, 400)
        kind, ref, sale = body.get("Type"), body.get("Ref"), body.get("SaleId")
        points, amount = body.get("RequestedPoints"), body.get("RequestedAmount")
        if not kind or not ref or not sale or (points is None and amount is None):
            return _message(required, 400)
        if str(kind).lower() != "loyalty":
            return _message("Type is not valid", 400)
        if points is None:
            points = int(Decimal(str(amount)) * POINTS_PER_DOLLAR)
        if not isinstance(points, int) or points <= 0:
            return _message(required, 400)
        with state.lock:
            customer = state.customers.get(str(ref)) or next(
                (c for c in state.customers.values() if c.display_number == ref), None
            )
            if customer is None or customer.status != "active":
                return _message("Not enrolled in Loyalty", 400)
            if customer.points - customer.open_authorizations < points:
                return _message("No Balance Remaining", 400)
            customer.open_authorizations += points
            customer.history.append(
                {
                    "Activity": "Pending Charge",
                    "Date": _today(),
                    "PointAmount": points,
                    "Location": "Web Order",
                    "Document": str(sale),
                }
            )
            state.ledger.append(
                LedgerEntry("authorize", customer.customer_number, points, str(sale))
            )
        state.faults.after_apply()
        return Response(
            {
                "RequestId": str(uuid.uuid4()),
                "Type": "loyalty",
                "AuthorizedAmount": float(Decimal(points) / POINTS_PER_DOLLAR),
                "AuthorizedPoints": points,
                "AuthCode": "GDA" + uuid.uuid4().hex.upper()[:30],
            }
        )

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, DroppedConnection):
            raise exc  # the server closes the connection without an answer
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _message("An error has occurred." if status == 500 else str(exc), status)

    return Litestar(
        [earn, balance_check, authorize],
        exception_handlers={Exception: on_error},
        openapi_config=None,
    )


# -- the sandbox world's CP Extender (gateway demo, tests) --------------------------------
#: the Bearer token of the sandbox only
SANDBOX_TOKEN = "cp-demo-token"


def _us_date(days_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).strftime("%m/%d/%Y")


def seed(state: CPState) -> None:
    """The document's sample customer (with recent dates) plus a plain one."""
    state.add_customer(
        Customer(
            customer_number="2059378440",
            display_number="CPOL-123185",
            points=1504,
            open_authorizations=1000,
            history=[
                {"Activity": "Historical Summary", "Date": "11/29/2015", "PointAmount": 1404},
                {
                    "Date": _us_date(30),
                    "PointAmount": 100,
                    "Document": "123456789",
                    "Reason": "Facebook Share",
                },
                {
                    "Activity": "Pending Charge",
                    "Date": _us_date(29),
                    "PointAmount": 1000,
                    "Location": "Web Order",
                    "Document": "WB-101-10444",
                },
            ],
        )
    )
    state.add_customer(
        Customer(
            customer_number="1000000001",
            display_number="CPOL-100001",
            points=5000,
            history=[{"Activity": "Historical Summary", "Date": "01/01/2020", "PointAmount": 5000}],
        )
    )


class CPSimulator(Served):
    provider = "cpextender"
    program_id = "cafe-rewards"

    def __init__(self) -> None:
        super().__init__(CPState(SANDBOX_TOKEN))

    def seed(self) -> None:
        seed(self.state)

    def app(self) -> Litestar:
        return create_app(self.state)

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        return program_yaml(
            program_id=self.program_id,
            name="Cafe Rewards",
            provider=self.provider,
            base_url=self.url,
            auth={"type": "bearer", "token": SANDBOX_TOKEN},
            points_value="{points_per_unit: 100, currency: USD}",
            circuit_open_seconds=circuit_open_seconds,
        )

    def new_member(self) -> str:
        number = "4" + str(uuid.uuid4().int)[:9]
        self.state.add_customer(Customer(customer_number=number, display_number=number))
        return number

    def try_lines(self) -> list[str]:
        return [
            "customer 2059378440 (the document's sample: 1,504 points, history, a pending "
            "charge) and 1000000001 (5,000 points); CP Extender has no enroll"
        ]


def simulator() -> CPSimulator:
    return CPSimulator()
