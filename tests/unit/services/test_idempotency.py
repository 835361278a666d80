"""services/idempotency.py against an in-memory stand-in for infra/records.py: the policy
(what is raised before anything is sent, how an attempt ends) without Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from gateway.domain.commands import WriteJob
from gateway.domain.errors import (
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    ServiceUnavailable,
)
from gateway.infra import metrics
from gateway.infra.records import Claim, StoredResponse, Taken
from gateway.infra.redis_topology import NotReplicated, StoreError
from gateway.services import idempotency
from gateway.services.idempotency import Attempt, IdempotencyService, Replay
from gateway.services.writes import WriteContext
from gateway.settings import IdempotencySettings, ReconcileSettings

ANSWER = StoredResponse(status=201, headers={"content-type": "application/json"}, body=b"{}")


class FakeRecords:
    def __init__(self, claim: Claim | Exception | None = None) -> None:
        self.next_claim = claim or Claim(state="new")
        self.calls: list[tuple[str, Any]] = []
        self.finish_errors: list[Exception] = []
        self.renewals = 0
        self.jobs: list[bytes] = []
        self.next_take = Taken(state="gone")

    def key(self, client_id: str, key: str) -> str:
        return f"lg:idem:{{{client_id}/{key}}}"

    async def claim(
        self, record: str, fingerprint: str, owner: str, *, job: bytes = b"", **times: int
    ) -> Claim:
        self.calls.append(("claim", times))
        self.jobs.append(job)
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

    async def complete(
        self, record: str, owner: str, response: StoredResponse, _: int, beside: Any = ()
    ) -> bool:
        return await self._finish("complete", response)

    async def mark_unknown(
        self,
        record: str,
        owner: str,
        response: StoredResponse,
        delay_ms: int,
        summary: str,
        beside: Any = (),
    ) -> bool:
        self.calls.append(("schedule", (delay_ms, summary)))
        return await self._finish("unknown", response)

    async def unresolved(
        self, record: str, owner: str, delay_ms: int, summary: str, *, checked: bool, **_: Any
    ) -> bool:
        self.calls.append(("unresolved", (delay_ms, summary, checked)))
        return True

    async def release(self, record: str, owner: str) -> bool:
        self.calls.append(("release", owner))
        return True

    async def take(self, record: str, owner: str, lease_ms: int) -> Taken:
        self.calls.append(("take", lease_ms))
        return self.next_take


def service(records: FakeRecords, **settings: Any) -> IdempotencyService:
    return IdempotencyService(records, IdempotencySettings(**settings))  # type: ignore[arg-type]


JOB = WriteJob(
    client_id="client", idempotency_key="key-1", program="cafe", operation="earn", member_id="m"
)


def begin(svc: IdempotencyService) -> Replay | Attempt:
    return asyncio.run(svc.begin("client", "key-1", "fp", JOB))


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
        attempt = await svc.begin("client", "key", "fp", JOB)
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
        attempt = await svc.begin("client", "key", "fp", JOB)
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
    asyncio.run(attempt.unknown())
    assert [name for name, _ in records.calls[1:] if name == "unknown"] == ["unknown"] * 2
    # scheduled for the reconciler after the first interval, under its bounded labels
    assert records.calls[1] == ("schedule", (5000, "cafe/earn"))


@pytest.mark.parametrize(("claim", "call"), [("new", "release"), ("recovered", "unresolved")])
def test_not_sent_frees_a_new_key_and_keeps_a_recovered_one_unknown(claim: str, call: str) -> None:
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
        attempt = await svc.begin("client", "key", "fp", JOB)
        assert isinstance(attempt, Attempt)
        async with attempt.held():
            await asyncio.sleep(0.1)

    asyncio.run(run())
    assert records.renewals >= 3


def test_the_job_is_kept_with_the_claim() -> None:
    records = FakeRecords()
    begin(service(records))
    assert msgspec.json.decode(records.jobs[0], type=WriteJob) == JOB


def test_a_recovered_claim_carries_its_timing() -> None:
    claim = Claim(state="recovered", quiet_ms=1200, age_ms=9000, checks=2)
    attempt = begin(service(FakeRecords(claim)))
    assert isinstance(attempt, Attempt)
    assert (attempt.quiet_ms, attempt.age_ms, attempt.checks) == (1200, 9000, 2)
    assert (attempt.summary, attempt.via) == ("cafe/earn", "retry")


def test_back_off_doubles_to_the_max_and_parks_after_the_give_up_age() -> None:
    reconcile = ReconcileSettings(
        first_check_seconds=2, max_interval_seconds=10, give_up_seconds=600
    )
    svc = IdempotencyService(FakeRecords(), IdempotencySettings(reconcile=reconcile))  # type: ignore[arg-type]
    assert [svc.next_check_ms(n, 0) for n in range(5)] == [2000, 4000, 8000, 10000, 10000]
    assert svc.next_check_ms(0, 0, at_least_ms=7000) == 7000  # the settle time still to run
    assert svc.next_check_ms(0, 600_000) == -1


def test_only_the_reconciler_parks_an_unknown_and_counts_it_given_up() -> None:
    reconcile = ReconcileSettings(give_up_seconds=60)
    old = Claim(state="recovered", age_ms=61_000)
    records = FakeRecords(old)
    svc = IdempotencyService(records, IdempotencySettings(reconcile=reconcile))  # type: ignore[arg-type]
    attempt = asyncio.run(svc.begin("client", "key-1", "fp", JOB))
    assert isinstance(attempt, Attempt)
    # a caller's retry leaves the parking (and its count) to the reconciler
    assert asyncio.run(attempt.unresolved()) == svc.max_interval_ms
    records.next_take = Taken(state="taken", age_ms=61_000, job=msgspec.json.encode(JOB))
    before = _resolved("cafe", "earn", "gave_up", "reconciler")
    taken, held, job = asyncio.run(svc.take("lg:idem:{x}", "reconciler"))
    assert (taken.state, job) == ("taken", JOB)
    assert held is not None
    assert held.via == "reconciler"
    assert asyncio.run(held.unresolved()) == -1
    assert _resolved("cafe", "earn", "gave_up", "reconciler") == before + 1
    assert records.calls[-1] == ("unresolved", (-1, "cafe/earn", True))


def test_take_of_a_settled_record_gives_no_attempt() -> None:
    records = FakeRecords()
    records.next_take = Taken(state="completed")
    taken, attempt, job = asyncio.run(service(records).take("lg:idem:{x}", "reconciler"))
    assert (taken.state, attempt, job) == ("completed", None, None)


def test_absent_releases_the_key() -> None:
    records = FakeRecords(Claim(state="recovered"))
    attempt = begin(service(records))
    assert isinstance(attempt, Attempt)
    asyncio.run(attempt.absent())
    assert records.calls[-1][0] == "release"


def _resolved(*labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "loyalty_gateway_unknown_writes_resolved_total",
        dict(zip(("program", "operation", "result", "via"), labels, strict=True)),
    )
    return value or 0.0
