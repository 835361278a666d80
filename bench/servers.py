"""ASGI factories for the benchmark's own processes.

Served with uvicorn in a process of its own, so the simulator does not share a GIL with the
load generator or the gateway::

    python -m uvicorn --factory --app-dir bench servers:cp_app --port 9000

The CP Extender simulator keeps every request it saw in ``state.requests`` (the tests read
it); over a benchmark that list would grow by hundreds of thousands of entries and its
memory and GC time would show up in the numbers, so here it keeps only the last 1000.
"""

from __future__ import annotations

import collections
import os
from typing import Any

from gateway.connectors.cpextender import simulator as cpextender
from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN
from gateway.connectors.cpextender.simulator import seed as seed_cp
from gateway.sandbox.common import Faults

#: the seeded customers (see gateway/connectors/cpextender/simulator.py seed)
READ_MEMBER = "2059378440"
EARN_MEMBER = "1000000001"
#: plus POOL_SIZE plain customers POOL_FIRST, POOL_FIRST + 1, ...: reads that rotate over
#: them are never merged by the gateway's single flight (one upstream call per request)
POOL_FIRST = 3_000_000_000
POOL_SIZE = 1000


def cp_app() -> Any:
    state = cpextender.CPState(CP_TOKEN)
    seed_cp(state)
    for n in range(POOL_SIZE):
        number = str(POOL_FIRST + n)
        state.add_customer(
            cpextender.Customer(
                customer_number=number,
                display_number=f"CPOL-{number}",
                points=1000 + n,
                history=[
                    {"Activity": "Historical Summary", "Date": "01/01/2020", "PointAmount": 1000}
                ],
            )
        )
    state.requests = collections.deque(maxlen=1000)  # type: ignore[assignment]
    state.faults.set(Faults(latency_ms=int(os.environ.get("BENCH_CP_LATENCY_MS", "0"))))
    return cpextender.create_app(state)


def cp_app_slow() -> Any:
    """``cp_app`` with ``BENCH_CP_LATENCY_MS`` added to every answer (bench/pool_latency.py)."""
    return cp_app()


def floor_app() -> Any:
    """The floor a Python hop on this stack can reach: one pooled upstream GET per request
    through the gateway's own upstream transport, its body answered as is, nothing else (no
    routing, no auth, no Redis). bench/run.py serves it with the gateway's server
    (``gateway.serving.run`` with the gateway's connection limits) and as many workers."""
    import httpx
    from gateway.connectors.transport import UpstreamTransport

    upstream = os.environ["BENCH_FLOOR_UPSTREAM"] + f"/Loyalty/{READ_MEMBER}/BalanceCheck"
    headers = [("Authorization", f"Bearer {CP_TOKEN}")]
    answer_headers = [(b"content-type", b"application/json")]
    transport: UpstreamTransport | None = None

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal transport
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
                    transport = UpstreamTransport(limits=limits, trust_env=False)
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if transport is not None:
                        await transport.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert transport is not None
        response = await transport.send(
            "GET", upstream, headers, None, connect=2.0, read=5.0, pool=2.0
        )
        await send({"type": "http.response.start", "status": 200, "headers": answer_headers})
        await send({"type": "http.response.body", "body": response.content})

    return app
