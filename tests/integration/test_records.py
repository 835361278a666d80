"""The idempotency record scripts and the replica fence on real redis-server processes
(the binary the project ships): claim, lease, renew, settle, store loss, and a claim
refused when the replica cannot acknowledge it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.redis_servers import RedisProcess

from gateway.infra.embedded_redis import redis_server_binary
from gateway.infra.records import Records, StoredResponse
from gateway.infra.redis_topology import NotReplicated, connect

ANSWER = StoredResponse(status=201, headers={"x": "1"}, body=b'{"ok":true}')
TIMES = {"lease_ms": 300, "retention_ms": 60_000, "suspect_ms": 60_000}


@pytest.fixture
def master(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path, "master", binary=redis_server_binary()).start()
    try:
        yield server
    finally:
        server.kill()


def records_on(url: str, acks: int = 0) -> Records:
    return Records(connect(url, replica_acks=acks, ack_timeout_ms=300), "t")


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_claim_lease_renew_and_settle(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        await records.mark_fresh()
        key = records.key("c", "k")
        first = await records.claim(key, "fp", "owner-1", **TIMES)
        assert (first.state, first.suspect) == ("new", False)
        # the same attempt re-sending its claim gets the same answer
        assert (await records.claim(key, "fp", "owner-1", **TIMES)).state == "new"
        busy = await records.claim(key, "fp", "owner-2", **TIMES)
        assert busy.state == "in_progress"
        assert 0 < busy.lease_left_ms <= 300
        assert (await records.claim(key, "other-fp", "owner-2", **TIMES)).state == "conflict"
        # renewing keeps it held past the first lease
        for _ in range(3):
            await asyncio.sleep(0.15)
            assert await records.renew(key, "owner-1", 300)
        assert (await records.claim(key, "fp", "owner-2", **TIMES)).state == "in_progress"
        assert not await records.renew(key, "owner-2", 300)
        assert await records.complete(key, "owner-1", ANSWER, 60_000)
        done = await records.claim(key, "fp", "owner-3", **TIMES)
        assert (done.state, done.response) == ("completed", ANSWER)
        await records.topology.aclose()

    run(scenario())


def test_an_expired_lease_is_recovered_and_a_release_frees_the_key(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        key = records.key("c", "crashed")
        await records.claim(key, "fp", "dead", **TIMES)
        await asyncio.sleep(0.35)  # the holder died: nobody renews
        taken = await records.claim(key, "fp", "next", **TIMES)
        assert taken.state == "recovered"
        assert not await records.complete(key, "dead", ANSWER, 60_000)  # fenced out
        assert await records.unresolved(key, "next", 1000, "p/earn", checked=False)
        again = await records.claim(key, "fp", "third", **TIMES)
        assert again.state == "recovered"
        # the crashed holder may have sent until its lease ran out: quiet counts from there
        assert 0 <= again.quiet_ms < 200
        other = records.key("c", "never-sent")
        await records.claim(other, "fp", "a", **TIMES)
        assert await records.release(other, "a")
        assert (await records.claim(other, "fp", "b", **TIMES)).state == "new"
        await records.topology.aclose()

    run(scenario())


def test_a_redis_that_lost_its_data_makes_new_claims_suspect(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        await records.mark_fresh()
        before = await records.claim(records.key("c", "before"), "fp", "o", **TIMES)
        assert not before.suspect
        await records.topology.client.flushall()  # restarted empty
        after = await records.claim(records.key("c", "before"), "fp", "o2", **TIMES)
        assert (after.state, after.suspect) == ("new", True)
        # a gateway starting now must not hide the loss
        await records.mark_fresh()
        assert (await records.claim(records.key("c", "x"), "fp", "o3", **TIMES)).suspect
        no_check = {**TIMES, "suspect_ms": 0}
        assert not (await records.claim(records.key("c", "y"), "fp", "o4", **no_check)).suspect
        await records.topology.aclose()

    run(scenario())


def test_a_claim_the_replica_cannot_acknowledge_is_refused(
    master: RedisProcess, tmp_path: Path
) -> None:
    replica = RedisProcess(
        tmp_path,
        "replica",
        binary=redis_server_binary(),
        args=["--replicaof", "127.0.0.1", str(master.port)],
    ).start()

    def synced() -> bool:
        return b"master_link_status:up" in replica.client().execute_command("INFO", "replication")

    deadline = time.monotonic() + 10
    while not synced() and time.monotonic() < deadline:
        time.sleep(0.05)

    async def claim(name: str) -> str:
        records = records_on(master.url, acks=1)
        try:
            return (await records.claim(records.key("c", name), "fp", "o", **TIMES)).state
        finally:
            await records.topology.aclose()

    try:
        assert run(claim("acknowledged")) == "new"
        replica.kill()
        with pytest.raises(NotReplicated):
            run(claim("alone"))
    finally:
        replica.kill()


def _schedule(records: Records) -> tuple[dict[str, float], dict[str, str]]:
    client = records.topology.client

    async def read() -> tuple[dict[str, float], dict[str, str]]:
        due = await client.zrange(records.due_key, 0, -1, withscores=True)
        index = await client.hgetall(records.unknown_key)
        return (
            {k.decode(): score for k, score in due},
            {k.decode(): v.decode() for k, v in index.items()},
        )

    return read()  # type: ignore[return-value]


def test_every_claimed_write_is_scheduled_until_it_ends(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        now = await records.server_time_ms()
        done, unknown, dropped = (records.key("c", n) for n in ("done", "unknown", "dropped"))
        for key in (done, unknown, dropped):
            await records.claim(key, "fp", "o", **TIMES, job=b'{"program":"p"}')
        due, index = await _schedule(records)
        # in flight: looked at when the lease would have run out, not listed as unknown
        assert set(due) == {done, unknown, dropped}
        assert all(now + 250 <= score <= now + 1000 for score in due.values())
        assert index == {}
        assert await records.complete(done, "o", ANSWER, 60_000)
        assert await records.mark_unknown(unknown, "o", ANSWER, 5000, "p/earn")
        assert await records.release(dropped, "o")
        due, index = await _schedule(records)
        assert set(due) == {unknown}
        assert due[unknown] >= now + 5000
        assert index == {unknown: "p/earn"}
        client = records.topology.client
        # an unknown never expires into a "new" key; a completed one is kept for retention
        assert await client.pttl(unknown) == -1
        assert 0 < await client.pttl(done) <= 60_000
        assert await client.exists(dropped) == 0
        await records.topology.aclose()

    run(scenario())


def test_a_recovered_unknown_reports_its_quiet_time_age_and_checks(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        key = records.key("c", "lost")
        await records.claim(key, "fp", "first", **TIMES)
        await asyncio.sleep(0.2)
        assert await records.mark_unknown(key, "first", ANSWER, 1000, "p/redeem")
        await asyncio.sleep(0.3)
        retry = await records.claim(key, "fp", "retry", **TIMES)
        assert retry.state == "recovered"
        assert 280 <= retry.quiet_ms < 1000  # since the attempt that may have sent ended
        assert 480 <= retry.age_ms < 1500  # since the key was first claimed
        assert retry.checks == 0
        # the retry looked and could not tell: back to unknown, last_at unchanged
        assert await records.unresolved(key, "retry", 2000, "p/redeem", checked=True)
        later = await records.claim(key, "fp", "later", **TIMES)
        assert later.state == "recovered"
        assert later.checks == 1
        assert later.quiet_ms >= retry.quiet_ms
        fields = await records.topology.client.hmget(key, "state", "last_check")
        assert fields[0] == b"in_progress"
        assert fields[1] is not None
        await records.topology.aclose()

    run(scenario())


def test_the_reconciler_takes_due_records_once_and_holds_them(master: RedisProcess) -> None:
    async def scenario() -> None:
        records = records_on(master.url)
        key = records.key("c", "sched")
        await records.claim(key, "fp", "o", **TIMES, job=b"JOB")
        assert await records.mark_unknown(key, "o", ANSWER, 0, "p/void")
        assert await records.due(10, 60_000) == [key]
        assert await records.due(10, 60_000) == []  # held back from every other reconciler
        taken = await records.take(key, "reconciler", 300)
        assert (taken.state, taken.job) == ("taken", b"JOB")
        busy = await records.take(key, "other", 300)  # one holder at a time
        assert busy.state == "busy"
        assert busy.lease_left_ms > 0
        conflict = await records.claim(key, "fp", "caller", **TIMES)
        assert conflict.state == "in_progress"
        # parked: listed, never due again
        assert await records.unresolved(key, "reconciler", -1, "p/void", checked=True)
        [item] = await records.open_unknowns()
        assert (item.record, item.summary, item.checks) == (key, "p/void", 1)
        assert item.next_check_ms is None
        assert item.job == b"JOB"
        assert await records.open_summaries() == ["p/void"]
        # settled: gone from the schedule and the index
        taken = await records.take(key, "operator", 300)
        assert taken.state == "taken"
        assert await records.complete(key, "operator", ANSWER, 60_000)
        assert await records.open_unknowns() == []
        assert (await records.take(key, "again", 300)).state == "completed"
        assert (await records.take(records.key("c", "nothing"), "x", 300)).state == "gone"
        await records.topology.aclose()

    run(scenario())


def test_a_settle_drops_the_balances_its_write_changed_in_the_same_call(
    master: RedisProcess,
) -> None:
    """One script call: the record settles and the cached balance goes, with its change
    marked (a read that started before must not put the old balance back) — also when
    another attempt owns the record by now (the provider call happened either way)."""
    from gateway.infra.records import BalanceDrop

    async def scenario() -> None:
        records = records_on(master.url)
        client = records.topology.client
        drop = BalanceDrop("t:bal:{p:m}", "t:bal:{p:m}:changed", 60_000)
        await client.set(drop.balance, b"old")
        key = records.key("c", "earn")
        await records.claim(key, "fp", "owner-1", **TIMES)
        before = int(time.time() * 1000)
        assert await records.complete(key, "owner-1", ANSWER, 60_000, drops=[drop])
        assert await client.get(drop.balance) is None
        changed = int(await client.get(drop.changed))
        assert before <= changed <= int(time.time() * 1000)
        assert 0 < await client.pttl(drop.changed) <= 60_000
        done = await records.claim(key, "fp", "owner-2", **TIMES)
        assert (done.state, done.response) == ("completed", ANSWER)
        # fenced out, yet the balance is dropped
        other = records.key("c", "taken-over")
        await records.claim(other, "fp", "owner-1", **TIMES)
        await client.set(drop.balance, b"old")
        assert not await records.complete(other, "not-the-owner", ANSWER, 60_000, drops=[drop])
        assert await client.get(drop.balance) is None
        # an unknown outcome drops too (the write may have applied)
        third = records.key("c", "lost")
        await records.claim(third, "fp", "owner-1", **TIMES)
        await client.set(drop.balance, b"old")
        assert await records.mark_unknown(third, "owner-1", ANSWER, 1000, "p/earn", drops=[drop])
        assert await client.get(drop.balance) is None
        await records.topology.aclose()

    run(scenario())
