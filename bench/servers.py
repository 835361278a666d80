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
from typing import Any

from gateway.sandbox import cpextender
from gateway.sandbox.world import CP_TOKEN, seed_cp

#: the seeded customers (see gateway/sandbox/world.py seed_cp)
READ_MEMBER = "2059378440"
EARN_MEMBER = "1000000001"


def cp_app() -> Any:
    state = cpextender.CPState(CP_TOKEN)
    seed_cp(state)
    state.requests = collections.deque(maxlen=1000)  # type: ignore[assignment]
    return cpextender.create_app(state)
