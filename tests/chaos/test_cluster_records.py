"""The idempotency records and the reconcile schedule on a real Redis Cluster (three
masters, a replica each): the schedule lives in another slot than the records, so its
updates go beside the record scripts (infra/records.py) instead of inside them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.redis_servers import ClusterSetup, running

from gateway.infra.records import Records, StoredResponse
from gateway.infra.redis_topology import connect

ANSWER = StoredResponse(status=201, headers={}, body=b"{}")
TIMES = {"lease_ms": 300, "retention_ms": 60_000, "suspect_ms": 0}


def test_the_schedule_follows_records_across_slots(root: Path) -> None:
    setup = ClusterSetup(root)

    async def scenario() -> None:
        records = Records(connect(setup.url, replica_acks=1, ack_timeout_ms=1000), "lgc")
        client = records.topology.client
        keys = [records.key("c", f"k{i}") for i in range(6)]  # spread over the masters
        assert len({client.keyslot(k) for k in keys}) == 6
        for key in keys:
            assert (await records.claim(key, "fp", "o", **TIMES, job=b"J")).state == "new"
        assert set(await client.zrange(records.due_key, 0, -1)) == {k.encode() for k in keys}
        lost, done, dropped = keys[0], keys[1], keys[2]
        assert await records.mark_unknown(lost, "o", ANSWER, 0, "p/redeem")
        assert await records.complete(done, "o", ANSWER, 60_000)
        assert await records.release(dropped, "o")
        assert await records.open_summaries() == ["p/redeem"]
        assert await client.pttl(lost) == -1
        # due now: the unknown; the settled one is dropped when the reconciler meets it
        assert await records.due(10, 60_000) == [lost]
        taken = await records.take(lost, "reconciler", 300)
        assert (taken.state, taken.job) == ("taken", b"J")
        assert (await records.take(done, "reconciler", 300)).state == "completed"
        await records.forget(done)
        assert await records.unresolved(lost, "reconciler", -1, "p/redeem", checked=True)
        [item] = await records.open_unknowns()
        assert (item.record, item.checks, item.next_check_ms) == (lost, 1, None)
        await records.topology.aclose()

    with running(setup):
        asyncio.run(scenario())
