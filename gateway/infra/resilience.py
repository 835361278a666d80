"""Per-program circuit breaker and retry budget (in-process, one per program per worker).

The breaker opens after ``failure_threshold`` consecutive failures (transport errors,
timeouts, 5xx) and then answers at once for ``open_seconds``; after that one probe call is
let through (half-open): success closes it, failure opens it again. The retry budget keeps
retries at or below ``ratio`` of calls, so retries cannot multiply the load of a struggling
provider.
"""

from __future__ import annotations

import random
import threading
import time
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

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        with self._lock:
            state = self._state(time.monotonic())
            if state == "closed":
                return True
            if state == "half_open" and not self._probing:
                self._probing = True
                return True
            return False

    def retry_after(self) -> int:
        with self._lock:
            if self._opened_at is None:
                return 0
            left = self.open_seconds - (time.monotonic() - self._opened_at)
            return max(1, int(left + 0.999))

    def record_success(self) -> None:
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
