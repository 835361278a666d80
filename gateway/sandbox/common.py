"""Pieces every provider simulator shares: bearer check, fault injection, JSON answers.

Faults are deterministic from a seed so a failing test can be replayed: each request draws
from one ``random.Random`` and may get added latency, a 500, a malformed body, or have its
write applied and then the connection dropped (the answer never arrives).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from typing import Any

import msgspec
from litestar import Request, Response


class Faults(msgspec.Struct, kw_only=True):
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_after_apply_rate: float = 0.0
    malformed_rate: float = 0.0
    seed: int = 0
    #: when given, faults hit only requests whose path ends with one of these
    #: (e.g. ``["/GetApplicableOffers"]``: one failing endpoint of a healthy provider)
    only_paths: list[str] = msgspec.field(default_factory=list)


class DroppedConnection(Exception):
    """Raised after a write was applied to make the simulator cut the connection."""


class FaultPlan:
    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._random = random.Random(self.faults.seed)
        self._lock = threading.Lock()

    def set(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def draw(self) -> float:
        with self._lock:
            return self._random.random()

    def applies(self, path: str) -> bool:
        only = self.faults.only_paths
        return not only or any(path.endswith(suffix) for suffix in only)

    async def before(self, path: str = "") -> Response[Any] | None:
        """Latency, then maybe a 500 in place of the real answer (nothing applied)."""
        if not self.applies(path):
            return None
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.error_rate and self.draw() < self.faults.error_rate:
            return Response({"Message": "An error has occurred."}, status_code=500)
        return None

    def after_apply(self) -> None:
        if self.faults.drop_after_apply_rate and self.draw() < self.faults.drop_after_apply_rate:
            raise DroppedConnection

    def malformed(self) -> bool:
        return bool(self.faults.malformed_rate) and self.draw() < self.faults.malformed_rate


class RecordedRequest(msgspec.Struct):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def record_request(request: Request[Any, Any, Any]) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )


def bearer_ok(request: Request[Any, Any, Any], token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and value.strip() == token


async def json_body(request: Request[Any, Any, Any]) -> Any:
    """The body as JSON; ``None`` when empty; raises ValueError when not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    return json.loads(raw)


def drop_on_fault(app: Any) -> Any:
    """ASGI wrapper: a :class:`DroppedConnection` becomes a response cut off mid-body."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except DroppedConnection:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            # returning without finishing makes the server close the connection

    return wrapped
