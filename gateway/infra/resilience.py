"""Circuit breakers, the retry budget and the connection gate (in-process, per worker).

A breaker (one per program and operation group, see ``connectors/circuits.py``) opens after
``failure_threshold`` consecutive failures (transport errors, timeouts, 5xx) and then
answers at once for ``open_seconds``; after that one probe call is let through (half-open):
success closes it, failure opens it again. Every transition is reported to ``on_change``.
The retry budget keeps retries at or below ``ratio`` of calls, so retries cannot multiply
the load of a struggling provider. The gate bounds calls in flight to a provider and how
long a call may wait for a free connection: waiting is the gateway being busy, which is
never counted as the provider failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        open_seconds: float = 30.0,
        on_change: Callable[[CircuitState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()
        self._on_change = on_change or (lambda _: None)

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state(time.monotonic())

    def _state(self, now: float) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        if now - self._opened_at < self.open_seconds:
            return "open"
        return "half_open"

    def rejecting(self) -> bool:
        """Open and not yet due for a probe (no probe is taken by asking)."""
        opened = self._opened_at
        return opened is not None and time.monotonic() - opened < self.open_seconds

    def abandon_probe(self) -> None:
        """The probe's caller went away before an answer: let the next call probe."""
        with self._lock:
            self._probing = False

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        with self._lock:
            state = self._state(time.monotonic())
            if state == "closed":
                return True
            if state != "half_open" or self._probing:
                return False
            self._probing = True
        self._on_change("half_open")
        return True

    def retry_after(self) -> int:
        with self._lock:
            if self._opened_at is None:
                return 0
            left = self.open_seconds - (time.monotonic() - self._opened_at)
            return max(1, int(left + 0.999))

    def record_success(self) -> None:
        if self._opened_at is None and not self._failures:
            return  # the common case: closed and nothing to reset (no lock taken)
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._probing = False
        if was_open:
            self._on_change("closed")

    def record_failure(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._probing or self._state(now) == "half_open":
                self._opened_at = now  # the probe failed: open again
                self._probing = False
                opened = True
            else:
                self._failures += 1
                opened = self._failures >= self.failure_threshold and self._opened_at is None
                if opened:
                    self._opened_at = now
        if opened:
            self._on_change("open")


class RetryBudget:
    """Each call earns ``ratio`` of a retry; a retry spends one (at most ``cap`` saved)."""

    def __init__(self, ratio: float = 0.1, cap: float = 10.0, initial: float = 1.0) -> None:
        self.ratio = ratio
        self.cap = cap
        self._tokens = initial
        self._lock = threading.Lock()

    def record_call(self) -> None:
        with self._lock:
            self._tokens = min(self.cap, self._tokens + self.ratio)

    def try_spend(self) -> bool:
        with self._lock:
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def backoff_seconds(attempt: int, base: float = 0.05, cap: float = 1.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not crypto


class Saturated(Exception):
    """No connection to the provider became free in time (or too many were waiting)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "queue_full" or "queue_timeout"


class ConnectionGate:
    """At most ``size`` calls in flight; at most ``max_waiting`` waiting, each for at most
    ``wait_seconds``, first come first served. One per program per worker, in one event loop
    (no lock: nothing here awaits between a check and its update).

    ``on_change(in_use, waiting)`` is called after every change, for the pool gauges.
    """

    def __init__(
        self,
        size: int,
        max_waiting: int,
        wait_seconds: float,
        on_change: Callable[[int, int], None] | None = None,
    ) -> None:
        self.size = size
        self.max_waiting = max_waiting
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._on_change = on_change or (lambda _in_use, _waiting: None)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        if self.in_use < self.size and not self._waiters:
            self.in_use += 1
            self._on_change(self.in_use, 0)
            return
        if len(self._waiters) >= self.max_waiting:
            raise Saturated("queue_full")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._on_change(self.in_use, len(self._waiters))
        try:
            async with asyncio.timeout(self.wait_seconds):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # a slot was handed over just as the wait ended: pass it on
            else:
                self._drop(waiter)
            if isinstance(exc, TimeoutError):
                raise Saturated("queue_timeout") from None
            raise

    def release(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves on: in_use is unchanged
                self._on_change(self.in_use, len(self._waiters))
                return
        self.in_use -= 1
        self._on_change(self.in_use, 0)

    def _drop(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already handed over and popped
            self._waiters.remove(waiter)
        self._on_change(self.in_use, len(self._waiters))
