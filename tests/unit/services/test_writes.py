"""services/writes.py: the look-up policy for an attempt that must check first
(WriteService._look_up) and the settle time, with a tiny stand-in for a connector."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.domain.commands import EarnCommand, EarnRequest, EnrollRequest, WriteJob
from gateway.domain.errors import (
    GatewayError,
    UpstreamDetail,
    UpstreamOutcomeUnknown,
    UpstreamUnavailable,
)
from gateway.domain.models import Member, Transaction
from gateway.services.writes import ProvablyAbsent, WriteContext, WriteService
from gateway.settings import ProgramSettings, ReconcileSettings, TimeoutSettings

FOUND = object()
UPSTREAM = UpstreamDetail(provider="cpextender", status=503)


@dataclass
class FakeConnector:
    """What _look_up and settle_ms read of a connector, and nothing else."""

    program: ProgramSettings
    provider: str = "cpextender"
    native_idempotency: frozenset[str] = frozenset()
    refuses_duplicates: frozenset[str] = frozenset()


def connector(**timeouts: Any) -> Any:
    program = ProgramSettings(
        id="cafe",
        name="Cafe",
        provider="cpextender",
        base_url="https://cp.example.test",
        timeouts=TimeoutSettings(**timeouts),
    )
    return FakeConnector(program=program)


@dataclass
class Locate:
    """A scripted lookup that counts its calls."""

    answer: Any = None
    error: Exception | None = None
    calls: list[int] = field(default_factory=list)

    async def __call__(self) -> Any:
        self.calls.append(1)
        if self.error is not None:
            raise self.error
        return self.answer


def ctx(**fields: Any) -> WriteContext:
    return WriteContext(**{"client_id": "client", "idempotency_key": "key-1", **fields})


def look_up(
    context: WriteContext,
    locate: Locate | None,
    operation: str = "redeem",
    conn: Any = None,
    reconcile: ReconcileSettings | None = None,
) -> Any:
    service = WriteService(balances=None, reconcile=reconcile)  # type: ignore[arg-type]
    return asyncio.run(service._look_up(context, conn or connector(), operation, locate))


# --- when no lookup is made --------------------------------------------------------------


def test_a_fresh_key_is_sent_without_looking():
    locate = Locate(answer=FOUND)
    assert look_up(ctx(), locate) is None
    assert locate.calls == []


def test_a_provider_that_deduplicates_the_operation_is_simply_re_sent():
    conn = connector()
    conn.native_idempotency = frozenset({"redeem"})
    locate = Locate(answer=FOUND)
    context = ctx(recovered=True)
    assert look_up(context, locate, conn=conn) is None
    assert locate.calls == []
    assert context.resolution is None


def test_a_recovered_key_without_a_way_to_look_is_unresolved():
    with pytest.raises(UpstreamOutcomeUnknown) as caught:
        look_up(ctx(recovered=True), None)
    assert caught.value.outcome == "unresolved"
    assert caught.value.status == 502
    assert caught.value.detail.startswith("cpextender offers no way to look this write up.")
    assert caught.value.headers == {}


def test_a_merely_suspect_key_without_a_way_to_look_is_sent():
    assert look_up(ctx(suspect=True), None) is None


# --- what the lookup found ---------------------------------------------------------------


@pytest.mark.parametrize("fields", [{"recovered": True}, {"suspect": True}])
def test_a_found_write_is_the_answer(fields):
    locate = Locate(answer=FOUND)
    context = ctx(**fields)
    assert look_up(context, locate) is FOUND
    assert locate.calls == [1]
    assert context.resolution == "found"


def test_a_suspect_key_found_absent_is_sent_at_once():
    context = ctx(suspect=True)
    assert look_up(context, Locate()) is None
    assert context.resolution is None


@pytest.mark.parametrize(("quiet_ms", "header"), [(0, "12"), (4500, "8"), (11_999, "1")])
def test_absent_too_recently_is_unresolved_until_the_settle_time(quiet_ms, header):
    # settle time: 2 x read (5 s) + connect (2 s) = 12 s
    context = ctx(recovered=True, quiet_ms=quiet_ms)
    with pytest.raises(UpstreamOutcomeUnknown) as caught:
        look_up(context, Locate())
    assert caught.value.outcome == "unresolved"
    assert caught.value.headers == {"Retry-After": header}
    assert context.resolution is None


@pytest.mark.parametrize("quiet_ms", [12_000, 60_000])
def test_absent_after_the_settle_time_is_sent(quiet_ms):
    context = ctx(recovered=True, quiet_ms=quiet_ms)
    assert look_up(context, Locate()) is None
    assert context.resolution == "absent"


def test_absent_after_the_settle_time_frees_the_key_for_the_reconciler():
    context = ctx(recovered=True, quiet_ms=12_000, reconciling=True)
    with pytest.raises(ProvablyAbsent):
        look_up(context, Locate())
    assert context.resolution == "absent"


def test_an_operation_the_provider_refuses_twice_needs_no_settle_time():
    conn = connector()
    conn.refuses_duplicates = frozenset({"void"})
    context = ctx(recovered=True, quiet_ms=0)
    assert look_up(context, Locate(), operation="void", conn=conn) is None
    assert context.resolution == "absent"
    # another operation of the same connector still waits
    with pytest.raises(UpstreamOutcomeUnknown):
        look_up(ctx(recovered=True), Locate(), operation="redeem", conn=conn)


# --- a lookup that failed ----------------------------------------------------------------


def test_a_failed_lookup_of_a_recovered_key_is_unresolved():
    error = UpstreamUnavailable("down", upstream=UPSTREAM, headers={"Retry-After": "30"})
    with pytest.raises(UpstreamOutcomeUnknown) as caught:
        look_up(ctx(recovered=True), Locate(error=error))
    assert caught.value.outcome == "unresolved"
    assert caught.value.upstream == UPSTREAM
    assert caught.value.headers == {}


def test_a_failed_lookup_of_a_suspect_key_is_not_sent():
    error = GatewayError("boom", upstream=UPSTREAM)
    context = ctx(suspect=True)
    with pytest.raises(UpstreamUnavailable) as caught:
        look_up(context, Locate(error=error))
    assert caught.value.outcome == "not_sent"
    assert caught.value.upstream == UPSTREAM
    assert caught.value.status == 503
    assert context.resolution is None


# --- settle_ms ---------------------------------------------------------------------------


def settle(operation: str, conn: Any, reconcile: ReconcileSettings | None = None) -> int:
    return WriteService(balances=None, reconcile=reconcile).settle_ms(conn, operation)  # type: ignore[arg-type]


def test_the_default_settle_time_is_twice_the_read_timeout_plus_connect():
    assert settle("redeem", connector()) == 12_000
    assert settle("redeem", connector(connect_seconds=1.5, read_seconds=3)) == 7_500
    # a per-operation read timeout sets that operation's settle time
    conn = connector(connect_seconds=2, read_seconds=5, operations={"earn": 10})
    assert settle("earn", conn) == 22_000
    assert settle("redeem", conn) == 12_000


def test_the_configured_settle_time_overrides_the_timeouts():
    reconcile = ReconcileSettings(settle_seconds=0.25)
    assert settle("earn", connector(operations={"earn": 10}), reconcile) == 250


def test_an_operation_refused_twice_settles_at_once_even_when_configured():
    conn = connector()
    conn.refuses_duplicates = frozenset({"void"})
    assert settle("void", conn, ReconcileSettings(settle_seconds=30)) == 0


def test_the_configured_settle_time_is_what_a_recovered_key_waits():
    reconcile = ReconcileSettings(settle_seconds=3)
    with pytest.raises(UpstreamOutcomeUnknown) as caught:
        look_up(ctx(recovered=True, quiet_ms=500), Locate(), reconcile=reconcile)
    assert caught.value.headers == {"Retry-After": "3"}
    context = ctx(recovered=True, quiet_ms=3_000)
    assert look_up(context, Locate(), reconcile=reconcile) is None
    assert context.resolution == "absent"


# --- perform ------------------------------------------------------------------------------


class Balances:
    def __init__(self) -> None:
        self.dropped: list[tuple[str, str]] = []

    async def invalidate(self, program: str, member_id: str) -> None:
        self.dropped.append((program, member_id))


@dataclass
class Provider(FakeConnector):
    """Earns, enrolls and voids; the earn can be found upstream."""

    sent: list[Any] = field(default_factory=list)
    upstream: Transaction | None = None

    async def earn(self, member_id: str, command: EarnCommand) -> Transaction:
        self.sent.append(command)
        return earned(command.reference)

    async def find_earn(self, member_id: str, command: EarnCommand, *, since: Any) -> Any:
        return self.upstream

    async def enroll(self, request: EnrollRequest, token: str, *, pin: Any = None) -> Member:
        self.sent.append(token)
        return Member(program="cafe", member_id="a b@c", provider_data={"secret": 1})

    async def void(self, member_id: str, redemption_id: str, token: str) -> Any:
        self.sent.append((redemption_id, token))
        return "voided"


def earned(reference: str) -> Transaction:
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return Transaction("t1", "cafe", "m", 5, None, reference, "completed", when)


def perform(job: WriteJob, context: WriteContext) -> tuple[Any, Provider, Balances]:
    balances = Balances()
    provider = Provider(program=connector().program)
    service = WriteService(balances)  # type: ignore[arg-type]
    return asyncio.run(service.perform(provider, job, context)), provider, balances  # type: ignore[arg-type]


EARN = WriteJob(program="cafe", operation="earn", member_id="m", earn=EarnRequest(points=5))


def test_perform_sends_an_earn_with_the_derived_reference_and_drops_the_balance():
    context = ctx()
    (status, model, headers), provider, balances = perform(EARN, context)
    [command] = provider.sent
    assert (command.reference, command.idempotency_token) == (
        context.reference(None),
        context.token,
    )
    assert (status, model, headers) == (201, earned(context.reference(None)), {})
    # the drop waits for the caller's flush, sent beside the record's settle
    assert (balances.dropped, context.changed) == ([], [("cafe", "m")])
    asyncio.run(WriteService(balances).flush(context))  # type: ignore[arg-type]
    assert (balances.dropped, context.changed) == ([("cafe", "m")], [])


def test_perform_answers_a_found_earn_without_sending_it():
    balances = Balances()
    provider = Provider(program=connector().program, upstream=earned("found"))
    context = ctx(recovered=True, reconciling=True)
    outcome = asyncio.run(WriteService(balances).perform(provider, EARN, context))  # type: ignore[arg-type]
    assert outcome == (201, earned("found"), {})
    assert (provider.sent, context.resolution) == ([], "found")
    assert context.changed == [("cafe", "m")]  # a found write changed the balance too


def test_perform_renders_an_enrollment_with_its_location_and_no_provider_data():
    job = WriteJob(program="cafe", operation="enroll", enroll=EnrollRequest(email="a@b.co"))
    context = ctx()
    (status, model, headers), provider, _ = perform(job, context)
    assert (status, headers) == (201, {"Location": "/v1/programs/cafe/members/a%20b@c"})
    assert model.provider_data is None
    assert provider.sent == [context.token]


def test_perform_voids_with_200_and_a_recovered_void_without_a_locator_is_unresolved():
    job = WriteJob(program="cafe", operation="void", member_id="m", redemption_id="R1")
    context = ctx()
    (status, model, _), provider, _ = perform(job, context)
    assert (status, model, provider.sent) == (200, "voided", [("R1", context.token)])
    with pytest.raises(UpstreamOutcomeUnknown):
        perform(job, ctx(recovered=True))
