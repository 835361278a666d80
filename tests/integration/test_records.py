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
        assert await records.give_back(key, "next")
        assert (await records.claim(key, "fp", "third", **TIMES)).state == "recovered"
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
