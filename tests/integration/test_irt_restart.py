"""IRT's idempotencyKey survives a gateway crash: the retry reaches IRT with the same key."""

from __future__ import annotations

import contextlib
import threading
import urllib.parse
import uuid
from pathlib import Path

import httpx

from gateway.connectors.irt import simulator as irt
from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, World


def _issuepoints_keys(world: World, card: str) -> list[str]:
    keys = []
    for request in world.irt.requests:
        form = dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))
        if form.get("call") == "issuepoints" and form.get("cardnumber") == card:
            keys.append(form["idempotencyKey"])
    return keys


def test_retry_after_gateway_crash_applies_once(
    tmp_path: Path, world: World, redis_url: str
) -> None:
    card = "8" + str(uuid.uuid4().int)[:15]
    world.irt.add(irt.Card(number=card, enrolled=True, pin="1", spendable=0))
    port = free_tcp_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        world.config_yaml(redis_url=redis_url, port=port, lease_seconds=1), encoding="utf-8"
    )
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}", "Idempotency-Key": str(uuid.uuid4())}
    url = f"/v1/programs/irt-rewards/members/{card}/earn"
    body = {"points": 70, "reason": "crash test"}

    first = GatewayProcess(str(config), port).start()
    world.irt.faults.faults.latency_ms = 800  # IRT is slow: the gateway dies while waiting
    try:

        def doomed() -> None:
            with contextlib.suppress(httpx.TransportError):
                httpx.post(first.url + url, json=body, headers=headers, timeout=5)

        caller = threading.Thread(target=doomed)
        caller.start()
        deadline = 100
        while not _issuepoints_keys(world, card) and deadline:
            threading.Event().wait(0.02)
            deadline -= 1
        first.kill()  # mid-write: IRT has the request, the gateway never hears back
        caller.join()
    finally:
        world.irt.faults.faults.latency_ms = 0
        first.kill()
    threading.Event().wait(1.0)  # let IRT finish applying the write

    second = GatewayProcess(str(config), port).start()
    try:
        answer = None
        for _ in range(50):  # the dead worker's lease (1 s) must run out first
            answer = httpx.post(second.url + url, json=body, headers=headers, timeout=5)
            if answer.status_code != 409:
                break
            threading.Event().wait(0.2)
        assert answer is not None
        assert answer.status_code == 201, answer.text
    finally:
        second.stop()

    keys = _issuepoints_keys(world, card)
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert [e.points for e in world.irt.ledger if e.card == card] == [70]
    assert world.irt.cards[card].spendable == 70
