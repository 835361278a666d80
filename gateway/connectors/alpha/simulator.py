"""A faithful Alpha simulator: recipients by id, email or public key, with a balance.

Built from ``alpha-recipients-api.txt``: 404 ``{"message": ""}`` for an unknown recipient,
422 ``{"message": "The given data was invalid.", "errors": {...}}`` for bad data, create by
POST (or PUT, as the prose says) on ``/recipients/``, partial update by PUT.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
import threading
from typing import Any

from litestar import Litestar, Request, Response, route
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

FIELDS = (
    "email",
    "public_key",
    "firstname",
    "surname",
    "company",
    "address1",
    "address2",
    "address3",
    "town",
    "postcode",
    "telephone",
    "country_code",
    "del_firstname",
    "del_surname",
    "del_company",
    "del_address1",
    "del_address2",
    "del_address3",
    "del_town",
    "del_postcode",
    "del_telephone",
    "del_country_code",
)
REQUIRED = ("email", "firstname", "surname")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[a-z]{2}$")
_INVALID = "The given data was invalid."


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def recipient(**values: Any) -> dict[str, Any]:
    """A full recipient record with every documented field (absent ones null)."""
    record: dict[str, Any] = {
        "id": values.pop("id", None) or _new_id(),
        "active": 1,
        "locale": None,
    }
    record.update({name: None for name in FIELDS})
    record.update({"created_at": _now(), "updated_at": _now(), "balance": 0})
    record.update(values)
    return record


def _new_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))


class AlphaState:
    def __init__(self, token: str, *, require_address: bool = False) -> None:
        self.token = token
        self.require_address = require_address
        self.recipients: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.faults = FaultPlan()
        self.lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        self.recipients[record["id"]] = record
        return record

    def find(self, key: FromPath[str]) -> dict[str, Any] | None:
        if key in self.recipients:
            return self.recipients[key]
        lowered = key.lower()
        for record in self.recipients.values():
            if (record.get("email") or "").lower() == lowered or record.get("public_key") == key:
                return record
        return None


def _invalid(errors: dict[str, list[str]]) -> Response[Any]:
    return Response({"message": _INVALID, "errors": errors}, status_code=422)


def _validate(
    state: AlphaState, data: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    merged = {**(current or {}), **data}
    required = REQUIRED + (("address1", "town", "postcode") if state.require_address else ())
    for name in required:
        if not merged.get(name):
            errors.setdefault(name, []).append(f"The {name} field is required.")
    email = data.get("email")
    if email is not None:
        if not isinstance(email, str) or not _EMAIL.match(email):
            errors.setdefault("email", []).append("The email must be a valid email address.")
        else:
            other = state.find(email)
            if other is not None and other is not current:
                errors.setdefault("email", []).append("The email has already been taken.")
    key = data.get("public_key")
    if key:
        other = state.find(str(key))
        if other is not None and other is not current:
            errors.setdefault("public_key", []).append("The public key has already been taken.")
    for name in ("country_code", "del_country_code"):
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or not _COUNTRY.match(value)):
            errors.setdefault(name, []).append(f"The selected {name.replace('_', ' ')} is invalid.")
    for name, value in data.items():
        if name in FIELDS and value is not None and not isinstance(value, str):
            errors.setdefault(name, []).append(f"The {name} must be a string.")
    return errors


def create_app(state: AlphaState) -> Litestar:
    async def guard(request: Request[Any, Any, Any]) -> Response[Any] | None:
        state.requests.append(await record_request(request))
        if not bearer_ok(request, state.token):
            return Response({"message": "Unauthenticated."}, status_code=401)
        return await state.faults.before(request.url.path)

    async def body_of(request: Request[Any, Any, Any]) -> dict[str, Any] | Response[Any]:
        try:
            body = await json_body(request)
        except ValueError:
            return Response({"message": "Malformed JSON."}, status_code=400)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return _invalid({"body": ["The body must be an object."]})
        return body

    @route("/recipients", http_method=["POST", "PUT"], status_code=200)
    async def create(request: Request[Any, Any, Any]) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        data = {k: v for k, v in body.items() if k in FIELDS}
        with state.lock:
            errors = _validate(state, data, None)
            if errors:
                return _invalid(errors)
            record = state.add(recipient(**data))
        state.faults.after_apply()
        return Response(record, status_code=200)

    @route("/recipients/{key:str}", http_method=["GET"])
    async def fetch(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        record = state.find(key)
        if record is None:
            return Response({"message": ""}, status_code=404)
        if state.faults.malformed():
            return Response(content=b'{"id": "', status_code=200, media_type="application/json")
        return Response(record)

    @route("/recipients/{key:str}", http_method=["PUT"])
    async def update(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        if (early := await guard(request)) is not None:
            return early
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        with state.lock:
            record = state.find(key)
            if record is None:
                return Response({"message": ""}, status_code=404)
            data = {k: v for k, v in body.items() if k in FIELDS}
            errors = _validate(state, data, record)
            if errors:
                return _invalid(errors)
            record.update(data)
            record["updated_at"] = _now()
        state.faults.after_apply()
        return Response(record)

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, DroppedConnection):
            raise exc
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return Response(
            {"message": "Server Error" if status == 500 else str(exc)}, status_code=status
        )

    return Litestar(
        [create, fetch, update], exception_handlers={Exception: on_error}, openapi_config=None
    )


# -- the sandbox world's Alpha (gateway demo, tests) --------------------------------------
#: the Bearer token of the sandbox only
SANDBOX_TOKEN = "alpha-demo-token"


def seed(state: AlphaState) -> None:
    """The document's sample recipient."""
    state.add(
        recipient(
            id="OLMKne7Y3N",
            email="wallace@example.com",
            public_key="dQw4w9WgXcQ",
            firstname="Wallace",
            surname="Wensleydale",
            company="Anti-Pesto Pest Control",
            address1="62 West Wallaby Street",
            town="Wigan",
            postcode="WG7 7FU",
            country_code="gb",
            telephone="01942 992143",
            balance=234,
            created_at="2020-01-24 15:14:05",
            updated_at="2020-03-24 22:20:10",
        )
    )


class AlphaSimulator(Served):
    provider = "alpha"
    program_id = "alpha-store"

    def __init__(self) -> None:
        super().__init__(AlphaState(SANDBOX_TOKEN))

    def seed(self) -> None:
        seed(self.state)

    def app(self) -> Litestar:
        return create_app(self.state)

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        return program_yaml(
            program_id=self.program_id,
            name="Alpha Reward Store",
            provider=self.provider,
            base_url=self.url,
            auth={"type": "bearer", "token": SANDBOX_TOKEN},
            points_value="{points_per_unit: 100, currency: GBP}",
            circuit_open_seconds=circuit_open_seconds,
        )

    def new_member(self) -> str:
        with self.state.lock:
            record = self.state.add(
                recipient(email=f"{_new_id().lower()}@example.com", firstname="A", surname="B")
            )
        return str(record["id"])

    def try_lines(self) -> list[str]:
        return [
            "recipient OLMKne7Y3N (wallace@example.com, 234 points); enroll any new email, "
            "then PATCH it; Alpha has no earn or redeem"
        ]


def simulator() -> AlphaSimulator:
    return AlphaSimulator()
