"""services/unknowns.py: the answer stored for a write an operator settles as applied, how
an open unknown is listed, and settling by hand (over an in-memory stand-in for records)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import Any

import msgspec
import pytest

from gateway.domain.commands import EarnRequest, EnrollRequest, RedemptionRequest, WriteJob
from gateway.domain.models import Member, Redemption, Transaction
from gateway.infra.records import OpenUnknown, StoredResponse, Taken
from gateway.services.idempotency import IdempotencyService, success_response
from gateway.services.unknowns import UnknownWrite, assumed_success, describe, settle_by_hand
from gateway.settings import IdempotencySettings

BASE = {"client_id": "client", "idempotency_key": "key-1", "program": "cafe"}
#: the reference the gateway derives for client "client", key "key-1" (WriteContext.token)
DERIVED = "lg-" + hashlib.sha256(b"client\0key-1").hexdigest()[:24]


def job(operation: str, **fields: Any) -> WriteJob:
    return WriteJob(**{**BASE, "operation": operation, "member_id": "m", **fields})


def recent(when: dt.datetime) -> bool:
    now = dt.datetime.now(dt.UTC)
    return when.microsecond == 0 and now - dt.timedelta(seconds=5) <= when <= now


# --- assumed_success ---------------------------------------------------------------------


def test_an_applied_earn_is_a_completed_transaction_under_its_reference():
    earn = EarnRequest(points=40, reason="visit", reference="ref-9", point_type="annual")
    status, model, headers = assumed_success(job("earn", earn=earn))
    assert (status, headers) == (201, {})
    assert recent(model.created_at)
    assert model == Transaction(
        id="ref-9",
        program="cafe",
        member_id="m",
        points=40,
        reason="visit",
        reference="ref-9",
        status="completed",
        created_at=model.created_at,
        point_type="annual",
    )


def test_an_applied_earn_without_a_reference_uses_the_derived_one():
    _, model, _ = assumed_success(job("earn", earn=EarnRequest(points=1)))
    assert (model.id, model.reference) == (DERIVED, DERIVED)


def test_an_applied_redemption_is_completed_with_the_operators_id():
    redemption = RedemptionRequest(points=500, reference="order-1")
    status, model, headers = assumed_success(
        job("redeem", redemption=redemption), redemption_id="AUTH-1"
    )
    assert (status, headers) == (201, {})
    assert model == Redemption(
        id="AUTH-1",
        program="cafe",
        member_id="m",
        points=500,
        value=None,
        reference="order-1",
        order_id="order-1",
        status="completed",
        created_at=model.created_at,
    )
    assert recent(model.created_at)


def test_an_applied_redemption_without_an_id_is_named_by_its_reference():
    _, model, _ = assumed_success(job("redeem", redemption=RedemptionRequest(points=5)))
    assert (model.id, model.reference, model.order_id) == (DERIVED, DERIVED, DERIVED)


def test_an_applied_void_answers_200_with_the_voided_redemption():
    status, model, headers = assumed_success(job("void", redemption_id="AUTH-1"))
    assert (status, headers) == (200, {})
    assert (model.id, model.reference, model.order_id) == ("AUTH-1", "AUTH-1", "AUTH-1")
    assert (model.status, model.points, model.value, model.member_id) == ("voided", 0, None, "m")


def test_an_applied_enrollment_is_an_active_member_at_its_location():
    enroll = EnrollRequest(email="ann@example.test", first_name="Ann", phone="+1 555 0100")
    status, model, headers = assumed_success(
        job("enroll", member_id=None, enroll=enroll), member_id="M 1@x"
    )
    assert (status, headers) == (201, {"Location": "/v1/programs/cafe/members/M%201@x"})
    assert model == Member(
        program="cafe",
        member_id="M 1@x",
        status="active",
        email="ann@example.test",
        first_name="Ann",
        phone="+1 555 0100",
    )


@pytest.mark.parametrize("member_id", [None, ""])
def test_an_applied_enrollment_needs_the_member_id(member_id):
    enrollment = job("enroll", member_id=None, enroll=EnrollRequest(email="a@b.co"))
    with pytest.raises(ValueError, match="--member-id"):
        assumed_success(enrollment, member_id=member_id)


@pytest.mark.parametrize(
    ("operation", "changes", "message"),
    [
        ("earn", {"member_id": "m"}, "earn has no body"),
        ("redeem", {"member_id": "m"}, "redemption has no body"),
        ("earn", {"earn": EarnRequest(points=5), "member_id": None}, "names no member"),
    ],
)
def test_a_damaged_job_is_refused_not_settled_as_something_else(operation, changes, message):
    with pytest.raises(ValueError, match=message):
        assumed_success(job(operation, **changes))


# --- describe ----------------------------------------------------------------------------

NOW_MS = 1_700_000_000_000


def unknown(raw_job: bytes, **fields: Any) -> OpenUnknown:
    values: dict[str, Any] = {
        "record": "lg:idem:{client/key-1}",
        "summary": "cafe/redeem",
        "state": "unknown",
        "job": raw_job,
        "first_at_ms": NOW_MS - 125_040,
        "last_at_ms": NOW_MS - 120_000,
        "last_check_ms": NOW_MS - 10_000,
        "checks": 3,
        "next_check_ms": NOW_MS + 20_260,
        **fields,
    }
    return OpenUnknown(**values)


def test_an_open_unknown_is_described_from_its_job_and_times():
    redeem = job("redeem", redemption=RedemptionRequest(points=5, reference="order-1"))
    item = unknown(msgspec.json.encode(redeem))
    assert describe(item, NOW_MS) == UnknownWrite(
        client="client",
        key="key-1",
        program="cafe",
        operation="redeem",
        member_id="m",
        reference="order-1",
        age_seconds=125.0,
        last_check_seconds_ago=10.0,
        checks=3,
        next_check_in_seconds=20.3,
    )


def test_a_parked_unknown_has_no_next_check():
    item = unknown(msgspec.json.encode(job("earn", earn=EarnRequest(points=1))), next_check_ms=None)
    described = describe(item, NOW_MS)
    assert described.next_check_in_seconds is None
    assert described.reference == DERIVED


def test_a_void_is_referenced_by_the_redemption_it_reverses():
    item = unknown(msgspec.json.encode(job("void", redemption_id="AUTH-1")), summary="cafe/void")
    described = describe(item, NOW_MS)
    assert (described.reference, described.operation) == ("AUTH-1", "void")


def test_an_unknown_without_its_job_is_described_from_its_summary():
    item = unknown(b"", first_at_ms=None, last_check_ms=None, checks=0)
    described = describe(item, NOW_MS)
    assert (described.client, described.key, described.member_id) == (None, None, None)
    assert (described.program, described.operation, described.reference) == (
        "cafe",
        "redeem",
        None,
    )
    assert (described.age_seconds, described.last_check_seconds_ago) == (None, None)


# --- settle_by_hand ----------------------------------------------------------------------


class FakeRecords:
    def __init__(self, taken: Taken) -> None:
        self.taken = taken
        self.calls: list[tuple[str, Any]] = []

    def key(self, client_id: str, key: str) -> str:
        return f"lg:idem:{{{client_id}/{key}}}"

    async def take(self, record: str, owner: str, lease_ms: int) -> Taken:
        self.calls.append(("take", record))
        return self.taken

    async def complete(
        self, record: str, owner: str, response: StoredResponse, _: int, beside: Any = ()
    ) -> bool:
        self.calls.append(("complete", response))
        return True

    async def unresolved(self, record: str, owner: str, delay: int, summary: str, **_: Any) -> bool:
        self.calls.append(("unresolved", summary))
        return True

    async def release(self, record: str, owner: str) -> bool:
        self.calls.append(("release", record))
        return True


def settle(records: FakeRecords, **options: Any) -> str:
    service = IdempotencyService(records, IdempotencySettings())  # type: ignore[arg-type]
    return asyncio.run(settle_by_hand(service, "client", "key-1", **options))


def held(write: WriteJob) -> FakeRecords:
    return FakeRecords(Taken(state="taken", job=msgspec.json.encode(write)))


def test_settling_a_void_as_applied_stores_its_success():
    records = held(job("void", redemption_id="AUTH-1"))
    assert settle(records, applied=True) == "applied: a retry of the key now answers 200"
    assert records.calls[0] == ("take", "lg:idem:{client/key-1}")
    [(name, response)] = records.calls[1:]
    assert name == "complete"
    assert response.status == 200
    assert msgspec.json.decode(response.body)["status"] == "voided"
    assert response.headers == success_response(200, None, {}).headers


def test_settling_as_not_applied_frees_the_key():
    records = held(job("earn", earn=EarnRequest(points=1)))
    assert settle(records, applied=False).startswith("not applied: the key is free")
    assert records.calls[1:] == [("release", "lg:idem:{client/key-1}")]


def test_an_enrollment_settled_without_a_member_id_stays_unknown():
    records = held(job("enroll", member_id=None, enroll=EnrollRequest(email="a@b.co")))
    with pytest.raises(ValueError, match="member id"):
        settle(records, applied=True)
    assert records.calls[1:] == [("unresolved", "cafe/enroll")]


@pytest.mark.parametrize(
    ("taken", "message"),
    [
        (Taken(state="gone"), "no record"),
        (Taken(state="completed"), "already settled"),
        (Taken(state="busy", lease_left_ms=4000), "try again in 4 s"),
        (Taken(state="taken"), "does not keep its write"),
    ],
)
def test_what_cannot_be_settled_by_hand_says_why(taken, message):
    records = FakeRecords(taken)
    with pytest.raises(LookupError, match=message):
        settle(records, applied=True)
    assert [name for name, _ in records.calls if name in ("complete", "release")] == []
