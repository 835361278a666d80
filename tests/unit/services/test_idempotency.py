"""services/idempotency.py against an in-memory stand-in for infra/records.py: the policy
(what is raised before anything is sent, how an attempt ends) without Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.domain.errors import (
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    ServiceUnavailable,
)
from gateway.infra.records import Claim, StoredResponse
from gateway.infra.redis_topology import NotReplicated, StoreError
from gateway.services import idempotency
from gateway.services.idempotency import Attempt, IdempotencyService, Replay
from gateway.services.writes import WriteContext
from gateway.settings import IdempotencySettings

ANSWER = StoredResponse(status=201, headers={"content-type": "application/json"}, body=b"{}")


class FakeRecords:
    def __init__(self, claim: Claim | Exception | None = None) -> None:
        self.next_claim = claim or Claim(state="new")
        self.calls: list[tuple[str, Any]] = []
        self.finish_errors: list[Exception] = []
        self.renewals = 0

    def key(self, client_id: str, key: str) -> str:
        return f"lg:idem:{{{client_id}/{key}}}"

    async def claim(self, record: str, fingerprint: str, owner: str, **times: int) -> Claim:
        self.calls.append(("claim", times))
        if isinstance(self.next_claim, Exception):
            raise self.next_claim
        return self.next_claim

    async def renew(self, record: str, owner: str, lease_ms: int) -> bool:
        self.renewals += 1
        return True

    async def _finish(self, name: str, response: StoredResponse) -> bool:
        self.calls.append((name, response))
        if self.finish_errors:
            raise self.finish_errors.pop(0)
        return True

    async def complete(self, record: str, owner: str, response: StoredResponse, _: int) -> bool:
        return await self._finish("complete", response)

    async def mark_unknown(self, record: str, owner: str, response: StoredResponse, _: int) -> bool:
        return await self._finish("unknown", response)

    async def release(self, record: str, owner: str) -> bool:
        self.calls.append(("release", owner))
        return True

    async def give_back(self, record: str, owner: str) -> bool:
        self.calls.append(("give_back", owner))
        return True


def service(records: FakeRecords, **settings: Any) -> IdempotencyService:
    return IdempotencyService(records, IdempotencySettings(**settings))  # type: ignore[arg-type]


def begin(svc: IdempotencyService) -> Replay | Attempt:
    return asyncio.run(svc.begin("client", "key-1", "fp"))


def test_a_new_key_is_an_attempt_with_the_configured_times() -> None:
    records = FakeRecords()
    attempt = begin(service(records, lease_seconds=7, retention_seconds=3600))
    assert isinstance(attempt, Attempt)
    assert not attempt.recovered
    assert not attempt.suspect
    assert records.calls[0] == (
        "claim",
        {"lease_ms": 7000, "retention_ms": 3_600_000, "suspect_ms": 3_600_000},
    )


def test_store_loss_checks_can_be_turned_off() -> None:
    records = FakeRecords()
    begin(service(records, check_after_store_loss=False))
    assert records.calls[0][1]["suspect_ms"] == 0


@pytest.mark.parametrize("claim", [Claim(state="recovered"), Claim(state="new", suspect=True)])
def test_recovered_and_suspect_keys_are_looked_up_first(claim: Claim) -> None:
    attempt = begin(service(FakeRecords(claim)))
    assert isinstance(attempt, Attempt)
    assert (attempt.recovered, attempt.suspect) == (claim.state == "recovered", claim.suspect)
    # what api/idempotent.py hands the write service from the attempt
    ctx = WriteContext(
        client_id="client",
        idempotency_key="k",
        recovered=attempt.recovered,
        suspect=attempt.suspect,
    )
    assert ctx.check_first


def test_a_completed_key_is_replayed() -> None:
    replay = begin(service(FakeRecords(Claim(state="completed", response=ANSWER))))
    assert replay == Replay(ANSWER)


def test_a_conflicting_fingerprint_is_refused() -> None:
    with pytest.raises(IdempotencyKeyReused):
        begin(service(FakeRecords(Claim(state="conflict"))))


@pytest.mark.parametrize(("left_ms", "header"), [(1, "1"), (1000, "1"), (4200, "5")])
def test_in_progress_says_how_long_the_lease_still_runs(left_ms: int, header: str) -> None:
    with pytest.raises(IdempotencyRequestInProgress) as caught:
        begin(service(FakeRecords(Claim(state="in_progress", lease_left_ms=left_ms))))
    assert caught.value.headers == {"Retry-After": header}


@pytest.mark.parametrize("error", [StoreError("down"), NotReplicated("0 of 1")])
def test_a_claim_that_is_not_durable_is_a_503_before_sending(error: Exception) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        begin(service(FakeRecords(error)))
    assert caught.value.headers == {"Retry-After": "1"}


def test_settle_retries_then_goes_on_after_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "SETTLE_PAUSE_SECONDS", 0)
    monkeypatch.setattr(idempotency, "SETTLE_LATER_PAUSE_SECONDS", 0.01)
    records = FakeRecords()
    svc = service(records)

    async def run() -> list[str]:
        attempt = await svc.begin("client", "key", "fp")
        assert isinstance(attempt, Attempt)
        # a failover: three tries fail in the request, two more in the background
        records.finish_errors = [NotReplicated("x"), StoreError("y")] * 2 + [StoreError("z")]
        await attempt.settle(ANSWER)  # returns (the answer goes out) without raising
        in_request = [name for name, _ in records.calls[1:]]
        await asyncio.sleep(0.2)
        assert not svc._background  # done
        return in_request

    in_request = asyncio.run(run())
    assert in_request == ["complete"] * 3
    assert [name for name, _ in records.calls[1:]] == ["complete"] * 6  # saved on the 6th


def test_settle_in_the_background_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "SETTLE_PAUSE_SECONDS", 0)
    monkeypatch.setattr(idempotency, "SETTLE_LATER_PAUSE_SECONDS", 0.01)
    monkeypatch.setattr(idempotency, "SETTLE_LATER_SECONDS", 0.05)
    records = FakeRecords()
    svc = service(records)

    async def run() -> None:
        attempt = await svc.begin("client", "key", "fp")
        assert isinstance(attempt, Attempt)
        records.finish_errors = [StoreError("down")] * 1000
        await attempt.settle(ANSWER)
        await asyncio.sleep(0.2)
        assert not svc._background

    asyncio.run(run())
    assert 4 <= len(records.calls) - 1 < 20


def test_settle_succeeds_on_a_later_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "SETTLE_PAUSE_SECONDS", 0)
    records = FakeRecords()
    attempt = begin(service(records))
    assert isinstance(attempt, Attempt)
    records.finish_errors = [NotReplicated("x")]
    asyncio.run(attempt.unknown(ANSWER))
    assert [name for name, _ in records.calls[1:]] == ["unknown", "unknown"]


@pytest.mark.parametrize(("claim", "call"), [("new", "release"), ("recovered", "give_back")])
def test_not_sent_frees_a_new_key_and_gives_a_recovered_one_back(claim: str, call: str) -> None:
    records = FakeRecords(Claim(state=claim))  # type: ignore[arg-type]
    attempt = begin(service(records))
    assert isinstance(attempt, Attempt)
    asyncio.run(attempt.not_sent())
    assert records.calls[-1][0] == call


def test_a_held_attempt_renews_its_lease() -> None:
    records = FakeRecords()
    svc = service(records, lease_seconds=1)
    svc.lease_ms = 30  # renew every 10 ms

    async def run() -> None:
        attempt = await svc.begin("client", "key", "fp")
        assert isinstance(attempt, Attempt)
        async with attempt.held():
            await asyncio.sleep(0.1)

    asyncio.run(run())
    assert records.renewals >= 3
