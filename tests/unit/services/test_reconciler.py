"""services/reconciler.py: what one scheduled record becomes, with a real IdempotencyService
over an in-memory stand-in for infra/records.py and a scripted write service."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.domain.commands import EarnRequest, WriteJob
from gateway.domain.errors import GatewayError, UpstreamOutcomeUnknown
from gateway.domain.models import Transaction
from gateway.infra import metrics
from gateway.infra.records import StoredResponse, Taken
from gateway.services.idempotency import IdempotencyService, success_response
from gateway.services.reconciler import Reconciler
from gateway.services.writes import ProvablyAbsent, WriteContext
from gateway.settings import IdempotencySettings, ReconcileSettings

PROGRAM = "recon-cafe"
RECORD = "lg:idem:{client/key-1}"
JOB = WriteJob(
    client_id="client",
    idempotency_key="key-1",
    program=PROGRAM,
    operation="earn",
    member_id="m",
    earn=EarnRequest(points=5),
)
MODEL = Transaction(
    id="t1",
    program=PROGRAM,
    member_id="m",
    points=5,
    reason=None,
    reference="ref",
    status="completed",
    created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
)


class FakeRecords:
    def __init__(self, *taken: Taken | Exception) -> None:
        self.takes = list(taken)
        self.calls: list[tuple[str, Any]] = []
        self.summaries: list[str] = []

    def key(self, client_id: str, key: str) -> str:
        return f"lg:idem:{{{client_id}/{key}}}"

    async def take(self, record: str, owner: str, lease_ms: int) -> Taken:
        item = self.takes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    async def renew(self, record: str, owner: str, lease_ms: int) -> bool:
        return True

    async def complete(
        self, record: str, owner: str, response: StoredResponse, _: int, beside: Any = ()
    ) -> bool:
        self.calls.append(("complete", response))
        return True

    async def mark_unknown(
        self,
        record: str,
        owner: str,
        response: StoredResponse,
        delay_ms: int,
        summary: str,
        beside: Any = (),
    ) -> bool:
        self.calls.append(("unknown", (delay_ms, summary)))
        return True

    async def unresolved(
        self, record: str, owner: str, delay_ms: int, summary: str, *, checked: bool, **_: Any
    ) -> bool:
        self.calls.append(("unresolved", (delay_ms, summary, checked)))
        return True

    async def release(self, record: str, owner: str) -> bool:
        self.calls.append(("release", record))
        return True

    async def forget(self, record: str) -> None:
        self.calls.append(("forget", record))

    async def due(self, limit: int, hold_ms: int) -> list[str]:
        self.calls.append(("due", (limit, hold_ms)))
        return [f"lg:idem:{{client/k{n}}}" for n in range(len(self.takes))]

    async def open_summaries(self) -> list[str]:
        return self.summaries


class FakeWrites:
    """``perform`` runs the scripted ``answer(ctx)``."""

    def __init__(self, answer: Callable[[WriteContext], Any]) -> None:
        self.answer = answer
        self.contexts: list[WriteContext] = []
        #: what each flush dropped (after every perform, whatever it raised)
        self.flushed: list[list[tuple[str, str]]] = []

    async def perform(self, connector: Any, job: WriteJob, ctx: WriteContext) -> Any:
        self.contexts.append(ctx)
        ctx.changed.append((job.program, job.member_id or ""))
        return self.answer(ctx)

    async def flush(self, ctx: WriteContext) -> None:
        self.flushed.append(list(ctx.changed))
        ctx.changed.clear()


def taken(**fields: Any) -> Taken:
    return Taken(**{"state": "taken", "job": msgspec.json.encode(JOB), **fields})


def reconciler(records: FakeRecords, answer: Any = None, **reconcile: Any) -> Reconciler:
    settings = IdempotencySettings(reconcile=ReconcileSettings(**reconcile))
    service = IdempotencyService(records, settings)  # type: ignore[arg-type]
    writes = FakeWrites(answer or (lambda ctx: pytest.fail("nothing to perform")))
    return Reconciler(service, writes, {PROGRAM: object()}, settings.reconcile)  # type: ignore[arg-type, dict-item]


def check(records: FakeRecords, answer: Any = None, **reconcile: Any) -> str:
    return asyncio.run(reconciler(records, answer, **reconcile).check(RECORD))


def raises(error: BaseException) -> Callable[[WriteContext], Any]:
    def answer(ctx: WriteContext) -> Any:
        raise error

    return answer


def resolved(result: str) -> float:
    labels = {"program": PROGRAM, "operation": "earn", "result": result, "via": "reconciler"}
    name = "loyalty_gateway_unknown_writes_resolved_total"
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("state", ["gone", "completed"])
def test_a_record_settled_meanwhile_leaves_the_schedule(state):
    records = FakeRecords(Taken(state=state))
    assert check(records) == state
    assert records.calls == [("forget", RECORD)]


def test_a_record_held_by_a_live_attempt_is_left_alone():
    records = FakeRecords(Taken(state="busy", lease_left_ms=3000))
    assert check(records) == "busy"
    assert records.calls == []


@pytest.mark.parametrize(
    "job", [b"", b"not json", msgspec.json.encode(WriteJob(program="gone", operation="earn"))]
)
def test_a_record_without_its_write_or_program_stays_unknown_unchecked(job):
    records = FakeRecords(taken(job=job))
    assert check(records) == "no_job"
    [(name, (delay, _, checked))] = records.calls
    assert (name, delay, checked) == ("unresolved", 5000, False)


def test_a_write_found_upstream_is_settled_with_its_success():
    def found(ctx: WriteContext) -> Any:
        ctx.resolution = "found"
        return 201, MODEL, {}

    records = FakeRecords(taken(quiet_ms=1500, age_ms=9000))
    rec = reconciler(records, found)
    before = resolved("found")
    assert asyncio.run(rec.check(RECORD)) == "found"
    assert records.calls == [("complete", success_response(201, MODEL, {}))]
    assert records.calls[0][1].headers == {"content-type": "application/json"}
    assert resolved("found") == before + 1
    [ctx] = rec.writes.contexts  # type: ignore[attr-defined]
    assert (ctx.client_id, ctx.idempotency_key) == ("client", "key-1")
    assert (ctx.recovered, ctx.reconciling, ctx.suspect) == (True, True, False)
    assert (ctx.quiet_ms, ctx.age_ms) == (1500, 9000)


def test_a_write_re_sent_to_a_deduplicating_provider_is_settled_as_resent():
    records = FakeRecords(taken())
    assert check(records, lambda ctx: (201, MODEL, {"X-Extra": "1"})) == "resent"
    [(name, response)] = records.calls
    assert name == "complete"
    assert response.headers == {"content-type": "application/json", "X-Extra": "1"}
    assert msgspec.json.decode(response.body, type=Transaction) == MODEL


def test_a_write_provably_absent_frees_the_key():
    records = FakeRecords(taken())
    before = resolved("absent")
    assert check(records, raises(ProvablyAbsent())) == "absent"
    assert records.calls == [("release", RECORD)]
    assert resolved("absent") == before + 1


def test_an_unresolved_lookup_waits_at_least_its_retry_after():
    error = UpstreamOutcomeUnknown("later", headers={"Retry-After": "30"}, outcome="unresolved")
    records = FakeRecords(taken(checks=1))
    assert check(records, raises(error)) == "unresolved"
    assert records.calls == [("unresolved", (30_000, f"{PROGRAM}/earn", True))]


def test_an_unresolved_lookup_backs_off_exponentially():
    error = UpstreamOutcomeUnknown("later", outcome="unresolved")
    records = FakeRecords(taken(checks=2))
    assert check(records, raises(error), first_check_seconds=2) == "unresolved"
    assert records.calls == [("unresolved", (8000, f"{PROGRAM}/earn", True))]


def test_an_unresolved_lookup_older_than_the_give_up_age_is_parked():
    error = UpstreamOutcomeUnknown("later", outcome="unresolved")
    records = FakeRecords(taken(age_ms=61_000))
    before = resolved("gave_up")
    assert check(records, raises(error), give_up_seconds=60) == "parked"
    assert records.calls == [("unresolved", (-1, f"{PROGRAM}/earn", True))]
    assert resolved("gave_up") == before + 1


def test_a_write_that_could_not_be_sent_stays_unknown_unchecked():
    records = FakeRecords(taken())
    assert check(records, raises(GatewayError("nope", outcome="not_sent"))) == "unresolved"
    assert records.calls == [("unresolved", (5000, f"{PROGRAM}/earn", False))]


def test_a_re_send_whose_answer_was_lost_again_is_unknown():
    records = FakeRecords(taken())
    assert check(records, raises(GatewayError("lost", outcome="ambiguous"))) == "unknown"
    assert records.calls == [("unknown", (5000, f"{PROGRAM}/earn"))]


def test_a_refused_re_send_frees_the_key():
    records = FakeRecords(taken())
    before = resolved("refused")
    assert check(records, raises(GatewayError("no", outcome="answered"))) == "refused"
    assert records.calls == [("release", RECORD)]
    assert resolved("refused") == before + 1


def test_a_defect_keeps_the_record_for_a_later_look():
    records = FakeRecords(taken())
    assert check(records, raises(ZeroDivisionError())) == "error"
    assert records.calls == [("unresolved", (5000, f"{PROGRAM}/earn", False))]


def test_a_round_counts_each_record_and_survives_a_store_error():
    records = FakeRecords(Taken(state="gone"), RedisConnectionError("down"), Taken(state="busy"))
    result = asyncio.run(reconciler(records, batch=7).round())
    assert result == {"gone": 1, "store_error": 1, "busy": 1}
    assert records.calls[0] == ("due", (7, 60_000))


def gauge(program: str, operation: str) -> float | None:
    labels = {"program": program, "operation": operation}
    return metrics.REGISTRY.get_sample_value("loyalty_gateway_unknown_writes_open", labels)


def test_the_open_unknowns_gauge_counts_per_program_and_operation():
    records = FakeRecords()
    rec = reconciler(records)
    assert [gauge(PROGRAM, op) for op in ("enroll", "earn", "redeem", "void")] == [0.0] * 4
    records.summaries = [f"{PROGRAM}/earn", f"{PROGRAM}/earn", f"{PROGRAM}/void", "other/earn"]
    asyncio.run(rec.refresh_gauge())
    counts = [gauge(PROGRAM, op) for op in ("enroll", "earn", "redeem", "void")]
    assert counts == [0.0, 2.0, 0.0, 1.0]
    assert gauge("other", "earn") is None  # not a configured program
    records.summaries = []
    asyncio.run(rec.refresh_gauge())
    assert gauge(PROGRAM, "earn") == 0.0


@pytest.mark.parametrize(
    "answer",
    [
        raises(GatewayError("no", outcome="answered")),
        raises(ZeroDivisionError()),
        raises(ProvablyAbsent()),
    ],
)
def test_the_balances_a_write_may_have_changed_are_dropped_whatever_it_raised(
    answer: Any,
) -> None:
    rec = reconciler(FakeRecords(taken()), answer)
    asyncio.run(rec.check(RECORD))
    assert rec.writes.flushed == [[(PROGRAM, JOB.member_id or "")]]  # type: ignore[attr-defined]
