"""The upstream token cache without Redis (``store=None``): one process, one event loop.

The fetch is a fake that counts its calls; the clock the cache reads (``time.time`` in
``gateway.infra.tokens``) is replaced by a settable one where expiry matters. The shared
Redis cache and its lock are covered by the integration tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gateway.infra import tokens
from gateway.infra.tokens import Token, TokenCache

START = 1_700_000_000.0


class Clock:
    """Stands in for the ``time`` module inside ``gateway.infra.tokens``."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tokens, "time", fake)
    return fake


class FakeFetch:
    """Issues ``tok-1``, ``tok-2``... valid for ``lifetime`` seconds from the clock's now.

    ``delay`` makes each fetch wait (so concurrent callers overlap); ``failures`` makes
    the next fetches raise.
    """

    def __init__(
        self, clock: Clock | None = None, *, lifetime: float = 300.0, delay: float = 0.0
    ) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.calls = 0
        self.failures: list[Exception] = []

    async def __call__(self) -> Token:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        now = self.clock.now if self.clock else tokens.time.time()
        return Token(value=f"tok-{self.calls}", expires_at=now + self.lifetime, issued_at=now)


def make_cache(fetch: FakeFetch, **kwargs: Any) -> TokenCache:
    return TokenCache(None, "syw-test", fetch, **kwargs)


def run(action: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(action())


# --- Token.margin / fresh ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(300.0, 30.0), (599.0, 59.9), (600.0, 60.0), (3600.0, 60.0), (36_000.0, 60.0), (10.0, 1.0)],
)
def test_margin_is_ten_percent_of_the_lifetime_at_most_60_seconds(lifetime, margin):
    token = Token(value="t", expires_at=START + lifetime, issued_at=START)

    assert token.margin == pytest.approx(margin)


def test_margin_of_a_token_without_lifetime_is_zero():
    assert Token(value="t", expires_at=START, issued_at=START).margin == 0.0
    assert Token(value="t", expires_at=START - 5, issued_at=START).margin == 0.0


def test_fresh_until_expiry_minus_margin():
    token = Token(value="t", expires_at=START + 300, issued_at=START)  # margin 30 s

    assert token.fresh(START + 269.9)
    assert not token.fresh(START + 270)
    assert token.usable(START + 270)  # still accepted upstream, just due for refresh
    assert not token.usable(START + 300)


# --- one fetch for many callers ----------------------------------------------------------


def test_concurrent_gets_share_one_fetch():
    fetch = FakeFetch(delay=0.01)
    cache = make_cache(fetch)

    async def many() -> list[Token]:
        return await asyncio.gather(*(cache.get() for _ in range(20)))

    got = run(many)

    assert fetch.calls == 1
    assert {t.value for t in got} == {"tok-1"}


def test_concurrent_gets_share_one_fetch_even_without_a_delay():
    fetch = FakeFetch()
    cache = make_cache(fetch)

    async def many() -> list[Token]:
        return await asyncio.gather(*(cache.get() for _ in range(20)))

    assert {t.value for t in run(many)} == {"tok-1"}
    assert fetch.calls == 1


def test_a_fresh_token_is_reused(clock):
    fetch = FakeFetch(clock)
    cache = make_cache(fetch)

    async def over_time() -> list[str]:
        values = [(await cache.get()).value]
        for seconds in (1, 100, 269):
            clock.now = START + seconds
            values.append((await cache.get()).value)
        return values

    assert run(over_time) == ["tok-1"] * 4
    assert fetch.calls == 1


def test_a_token_past_expiry_minus_margin_is_refreshed(clock):
    fetch = FakeFetch(clock, lifetime=300.0)  # margin 30 s: due at START + 270
    cache = make_cache(fetch)

    async def over_time() -> list[str]:
        first = await cache.get()
        clock.now = START + 270.5
        second = await cache.get()
        clock.now = START + 280
        third = await cache.get()  # tok-2 is fresh until START + 270.5 + 270
        return [first.value, second.value, third.value]

    assert run(over_time) == ["tok-1", "tok-2", "tok-2"]
    assert fetch.calls == 2


def test_a_long_lived_token_is_refreshed_60_seconds_before_expiry(clock):
    fetch = FakeFetch(clock, lifetime=36_000.0)  # the document's 10 h token: margin 60 s
    cache = make_cache(fetch)

    async def over_time() -> list[str]:
        values = [(await cache.get()).value]
        clock.now = START + 36_000 - 61
        values.append((await cache.get()).value)
        clock.now = START + 36_000 - 59
        values.append((await cache.get()).value)
        return values

    assert run(over_time) == ["tok-1", "tok-1", "tok-2"]


def test_concurrent_gets_after_expiry_share_one_refresh(clock):
    fetch = FakeFetch(clock, delay=0.01)
    cache = make_cache(fetch)

    async def scenario() -> set[str]:
        await cache.get()
        clock.now = START + 1000
        got = await asyncio.gather(*(cache.get() for _ in range(10)))
        return {t.value for t in got}

    assert run(scenario) == {"tok-2"}
    assert fetch.calls == 2


# --- invalidate ----------------------------------------------------------------------------


def test_invalidate_forces_a_refresh(clock):
    fetch = FakeFetch(clock)
    cache = make_cache(fetch)

    async def scenario() -> list[str]:
        first = await cache.get()
        await cache.invalidate(first)
        second = await cache.get()
        third = await cache.get()
        return [first.value, second.value, third.value]

    assert run(scenario) == ["tok-1", "tok-2", "tok-2"]
    assert fetch.calls == 2


def test_invalidating_an_old_token_keeps_the_newer_one(clock):
    fetch = FakeFetch(clock)
    cache = make_cache(fetch)

    async def scenario() -> list[str]:
        old = await cache.get()
        await cache.invalidate(old)  # caller A: refused, refreshes
        new = await cache.get()
        await cache.invalidate(old)  # caller B, late with the same refusal of the old one
        after = await cache.get()
        return [old.value, new.value, after.value]

    assert run(scenario) == ["tok-1", "tok-2", "tok-2"]
    assert fetch.calls == 2


def test_invalidate_before_any_get_is_harmless():
    fetch = FakeFetch()
    cache = make_cache(fetch)

    async def scenario() -> str:
        await cache.invalidate(Token(value="never-issued", expires_at=START, issued_at=START))
        return (await cache.get()).value

    assert run(scenario) == "tok-1"
    assert fetch.calls == 1


def test_callers_refused_together_share_one_refresh(clock):
    fetch = FakeFetch(clock, delay=0.01)
    cache = make_cache(fetch)

    async def scenario() -> set[str]:
        old = await cache.get()

        async def refused() -> Token:
            await cache.invalidate(old)
            return await cache.get()

        got = await asyncio.gather(*(refused() for _ in range(5)))
        return {t.value for t in got}

    assert run(scenario) == {"tok-2"}
    assert fetch.calls == 2


# --- failures ------------------------------------------------------------------------------


def test_a_failing_fetch_propagates_and_the_next_get_retries():
    fetch = FakeFetch()
    fetch.failures.append(RuntimeError("token server down"))
    cache = make_cache(fetch)

    async def scenario() -> str:
        with pytest.raises(RuntimeError, match="token server down"):
            await cache.get()
        return (await cache.get()).value

    assert run(scenario) == "tok-2"
    assert fetch.calls == 2


def test_a_failing_fetch_fails_every_waiting_caller_once():
    fetch = FakeFetch(delay=0.01)
    fetch.failures.append(RuntimeError("token server down"))
    cache = make_cache(fetch)

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(cache.get() for _ in range(5)), return_exceptions=True)

    results = run(scenario)

    assert all(isinstance(r, RuntimeError) for r in results)
    assert fetch.calls == 1


def test_a_failing_refresh_does_not_keep_the_expired_token(clock):
    fetch = FakeFetch(clock)
    cache = make_cache(fetch)

    async def scenario() -> str:
        await cache.get()
        clock.now = START + 1000  # tok-1 expired
        fetch.failures.append(RuntimeError("token server down"))
        with pytest.raises(RuntimeError):
            await cache.get()
        return (await cache.get()).value

    assert run(scenario) == "tok-3"
    assert fetch.calls == 3


# --- events --------------------------------------------------------------------------------


def test_events_report_refresh_hit_and_failure(clock):
    events: list[str] = []
    fetch = FakeFetch(clock)
    cache = make_cache(fetch, on_event=events.append)

    async def scenario() -> None:
        await cache.get()
        await cache.get()
        clock.now = START + 1000
        fetch.failures.append(RuntimeError("down"))
        with pytest.raises(RuntimeError):
            await cache.get()

    run(scenario)

    assert events == ["refresh", "hit", "failure"]
