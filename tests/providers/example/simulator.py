"""Example Stamps simulated over HTTP: accounts, stamps, earns de-duplicated by reference."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from gateway.sandbox.common import FaultPlan, bearer_ok, json_body
from gateway.sandbox.simulator import Served, program_yaml

SANDBOX_TOKEN = "example-demo-token"


class ExampleState:
    def __init__(self, token: str) -> None:
        self.token = token
        self.stamps: dict[str, int] = {}
        #: reference -> (account, entry id): the ledger, one entry per applied earn
        self.ledger: dict[str, tuple[str, str]] = {}
        self.faults = FaultPlan()
        self.lock = threading.Lock()


def _error(code: str, status: int) -> Response[Any]:
    return Response({"error": code}, status_code=status)


def create_app(state: ExampleState) -> Litestar:
    @get("/accounts/{account_id:str}")
    async def account(request: Request[Any, Any, Any], account_id: FromPath[str]) -> Response[Any]:
        if not bearer_ok(request, state.token):
            return _error("unauthorized", 401)
        if account_id not in state.stamps:
            return _error("no_such_account", 404)
        return Response({"accountId": account_id, "stamps": state.stamps[account_id]})

    @post("/accounts/{account_id:str}/stamps")
    async def stamp(request: Request[Any, Any, Any], account_id: FromPath[str]) -> Response[Any]:
        if not bearer_ok(request, state.token):
            return _error("unauthorized", 401)
        try:
            body = await json_body(request)
        except ValueError:
            return _error("bad_request", 400)
        if not isinstance(body, dict) or not isinstance(body.get("stamps"), int):
            return _error("bad_request", 400)
        with state.lock:
            if account_id not in state.stamps:
                return _error("no_such_account", 404)
            reference = str(body.get("reference"))
            status = 200
            if reference not in state.ledger:
                state.stamps[account_id] += body["stamps"]
                state.ledger[reference] = (account_id, uuid.uuid4().hex[:12])
                status = 201
            entry = state.ledger[reference][1]
            after = state.stamps[account_id]
        return Response({"entryId": entry, "stampsAfter": after}, status_code=status)

    return Litestar([account, stamp], openapi_config=None)


class ExampleSimulator(Served):
    provider = "example"
    program_id = "example-stamps"

    def __init__(self) -> None:
        super().__init__(ExampleState(SANDBOX_TOKEN))

    def seed(self) -> None:
        self.state.stamps["DEMO1"] = 7

    def app(self) -> Litestar:
        return create_app(self.state)

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        return program_yaml(
            program_id=self.program_id,
            name="Example Stamps",
            provider=self.provider,
            base_url=self.url,
            auth={"type": "bearer", "token": SANDBOX_TOKEN},
            circuit_open_seconds=circuit_open_seconds,
        )

    def new_member(self) -> str:
        account = uuid.uuid4().hex[:10].upper()
        self.state.stamps[account] = 0
        return account

    def try_lines(self) -> list[str]:
        return ["account DEMO1 (7 stamps)"]


def simulator() -> ExampleSimulator:
    return ExampleSimulator()
