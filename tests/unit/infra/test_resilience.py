"""The breaker's transitions (each reported once) and the connection gate's queue."""

from __future__ import annotations

import asyncio

import pytest

from gateway.infra import resilience
from gateway.infra.resilience import (
    CircuitBreaker,
    CircuitState,
    ConnectionGate,
    RetryBudget,
    Saturated,
    backoff_seconds,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(resilience.time, "monotonic", fake)
    return fake


def test_every_transition_is_reported_once(clock: Clock) -> None:
    seen: list[CircuitState] = []
    breaker = CircuitBreaker(failure_threshold=2, open_seconds=10, on_change=seen.append)
    breaker.record_failure()
    assert breaker.state == "closed"
    assert seen == []
    breaker.record_failure()
    assert breaker.state == "open"
    assert seen == ["open"]
    assert breaker.rejecting()
    assert not breaker.allow()
    assert breaker.retry_after() == 10
    clock.now += 10
    assert breaker.state == "half_open"
    assert not breaker.rejecting()  # asking takes no probe
    assert breaker.allow()  # the one probe
    assert not breaker.allow()
    assert seen == ["open", "half_open"]
    breaker.record_failure()  # the probe failed: open again, for another open_seconds
    assert seen == ["open", "half_open", "open"]
    assert breaker.rejecting()
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert seen == ["open", "half_open", "open", "half_open", "closed"]
    breaker.record_success()  # closed stays closed: nothing reported
    assert seen[-1] == "closed"
    assert len(seen) == 5


def test_a_success_resets_the_count_of_failures(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, open_seconds=10)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_an_abandoned_probe_lets_the_next_call_probe(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=1)
    breaker.record_failure()
    clock.now += 1
    assert breaker.allow()
    assert not breaker.allow()
    breaker.abandon_probe()
    assert breaker.allow()


def test_the_gate_admits_up_to_its_size_and_hands_slots_on_in_order() -> None:
    changes: list[tuple[int, int]] = []

    async def main() -> list[int]:
        gate = ConnectionGate(
            2, max_waiting=5, wait_seconds=5, on_change=lambda *c: changes.append(c)
        )
        order: list[int] = []

        async def call(n: int) -> None:
            await gate.acquire()
            try:
                await asyncio.sleep(0.01)
                order.append(n)
            finally:
                gate.release()

        await asyncio.gather(*(call(n) for n in range(6)))
        assert gate.in_use == 0
        assert gate.waiting == 0
        return order

    order = asyncio.run(main())
    assert sorted(order[:2]) == [0, 1]
    assert order[2:] == [2, 3, 4, 5]
    assert max(used for used, _ in changes) == 2
    assert max(queued for _, queued in changes) == 4
    assert changes[-1] == (0, 0)


def test_the_gate_refuses_a_full_line_at_once_and_a_long_wait_in_time() -> None:
    async def main() -> None:
        gate = ConnectionGate(1, max_waiting=1, wait_seconds=0.05)
        await gate.acquire()
        waiting = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        with pytest.raises(Saturated) as full:
            await gate.acquire()
        assert full.value.reason == "queue_full"
        with pytest.raises(Saturated) as late:
            await waiting
        assert late.value.reason == "queue_timeout"
        assert gate.waiting == 0
        gate.release()
        assert gate.in_use == 0
        await gate.acquire()  # free again
        assert gate.in_use == 1

    asyncio.run(main())


def test_a_cancelled_waiter_leaves_the_line_and_a_handed_slot_is_passed_on() -> None:
    async def main() -> None:
        gate = ConnectionGate(1, max_waiting=5, wait_seconds=5)
        await gate.acquire()
        first = asyncio.ensure_future(gate.acquire())
        second = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        assert gate.waiting == 1
        gate.release()  # goes to the second waiter, not the cancelled one
        await second
        assert gate.in_use == 1
        assert gate.waiting == 0
        # handed a slot at the moment it is cancelled: the slot is released, not lost
        third = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        gate.release()  # hands it to third ...
        third.cancel()  # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await third
        assert gate.in_use == 0
        assert gate.waiting == 0

    asyncio.run(main())


def test_zero_waiting_allowed_never_queues() -> None:
    async def main() -> None:
        gate = ConnectionGate(1, max_waiting=0, wait_seconds=1)
        await gate.acquire()
        with pytest.raises(Saturated):
            await gate.acquire()

    asyncio.run(main())


def test_the_retry_budget_earns_a_share_of_each_call_and_saves_at_most_its_cap() -> None:
    budget = RetryBudget(ratio=0.25, cap=2.0, initial=1.0)
    assert budget.try_spend()  # the one it starts with
    assert not budget.try_spend()
    for _ in range(3):
        budget.record_call()
    assert not budget.try_spend()  # 0.75: not yet a whole retry
    budget.record_call()
    assert budget.try_spend()
    for _ in range(100):  # a long calm spell saves no more than the cap
        budget.record_call()
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]


def test_backoff_is_full_jitter_under_a_growing_cap() -> None:
    for attempt, ceiling in ((0, 0.05), (1, 0.1), (3, 0.4), (10, 1.0)):
        delays = [backoff_seconds(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the range, not a fixed delay
