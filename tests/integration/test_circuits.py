"""Circuits per program and operation group, over HTTP against the simulators.

A failing ShopYourWay offers endpoint opens only the offers circuit; a failing token endpoint
stops what needs a new token; every transition shows in /metrics, the health answer and the
log.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.http_limits import uvicorn_options
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World

BASE = "/v1/programs/syw-rewards"


def own_gateway(world: World, redis_url: str, open_seconds: float) -> httpx.Client:
    """A gateway with breakers of its own and a key prefix of its own (so no token or
    balance another test cached is used)."""
    prefix = "c" + uuid.uuid4().hex[:8]
    settings = parse_settings(
        world.config_yaml(redis_url=redis_url, circuit_open_seconds=open_seconds, key_prefix=prefix)
    )
    url = world.servers.add(create_app(settings), **uvicorn_options(settings.server))
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=15
    )


def member(world: World, points: int = 5000) -> str:
    number = "7081" + str(uuid.uuid4().int)[:12]
    world.syw.add_member(number, points=points, club_status="A", profile={"FirstName": "Ann"})
    return number


@pytest.fixture
def syw_faults(world: World) -> Iterator[None]:
    yield
    world.syw.faults.set(Faults())


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one series in an exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)\{([^}]*)\} (\S+)$", line)
        if match and match[1] == name:
            got = ",".join(sorted(match[2].split(",")))
            if got == wanted:
                return float(match[3])
    return 0.0


def test_a_failing_offers_endpoint_opens_only_the_offers_circuit(
    world: World, redis_url: str, syw_faults: None
) -> None:
    bob = member(world)
    with own_gateway(world, redis_url, open_seconds=30) as api:
        assert api.get(f"{BASE}/members/{bob}/balance").status_code == 200  # token cached
        before = api.get("/metrics").text
        world.syw.faults.set(Faults(error_rate=1.0, only_paths=["/GetApplicableOffers"]))
        answers = [api.get(f"{BASE}/members/{bob}/offers") for _ in range(4)]
        assert {a.status_code for a in answers} == {503}
        sent = len(world.syw.requests)
        refused = api.get(f"{BASE}/members/{bob}/offers")
        assert len(world.syw.requests) == sent  # answered without calling ShopYourWay
        assert refused.status_code == 503
        assert refused.json()["upstream"]["code"] == "circuit_open"
        assert int(refused.headers["retry-after"]) >= 1

        # the rest of the provider goes on: reads, earns, redemptions
        read = api.get(f"{BASE}/members/{bob}/balance", headers={"Cache-Control": "no-cache"})
        assert read.status_code == 200
        assert read.headers["cache-status"].startswith("loyalty-gateway; fwd=request")
        key = {"Idempotency-Key": "k" + uuid.uuid4().hex}
        earn = api.post(f"{BASE}/members/{bob}/earn", json={"points": 10}, headers=key)
        assert earn.status_code == 201, earn.text
        key = {"Idempotency-Key": "k" + uuid.uuid4().hex}
        redeem = api.post(
            f"{BASE}/members/{bob}/redemptions",
            json={"points": 100, "reference": "R-" + uuid.uuid4().hex[:8]},
            headers=key,
        )
        assert redeem.status_code == 201, redeem.text
        assert api.get(f"{BASE}/members/{bob}/activity").status_code == 200

        health = api.get(f"{BASE}/health").json()
        assert health["circuits"]["offers"] == "open"
        for group in ("token", "reads", "writes", "activity"):
            assert health["circuits"][group] == "closed", group
        assert health["circuit"] == "open"  # the worst of them

        after = api.get("/metrics").text
    labels = {"program": "syw-rewards", "group": "offers"}
    assert metric(after, "loyalty_gateway_circuit_state", **labels) == 2
    opened = "loyalty_gateway_circuit_opened_total"
    assert metric(after, opened, **labels) == metric(before, opened, **labels) + 1
    reads = {"program": "syw-rewards", "group": "reads"}
    assert metric(after, opened, **reads) == metric(before, opened, **reads)


def _transitions(log_file: Path, since: int) -> list[tuple[str, str]]:
    """(event, group) of the circuit log lines of syw-rewards written after byte ``since``."""
    with log_file.open("rb") as log:
        log.seek(since)
        lines = [json.loads(line) for line in log if b'"circuit_' in line]
    return [
        (line["event"], line["group"])
        for line in lines
        if line.get("program") == "syw-rewards" and line["event"].startswith("circuit_")
    ]


def test_a_half_open_probe_that_succeeds_closes_the_circuit_and_every_step_is_counted(
    world: World, redis_url: str, syw_faults: None, log_file: Path
) -> None:
    bob = member(world)
    labels = {"program": "syw-rewards", "group": "offers"}
    with own_gateway(world, redis_url, open_seconds=0.5) as api:
        assert api.get(f"{BASE}/members/{bob}/balance").status_code == 200
        before = api.get("/metrics").text
        logged = log_file.stat().st_size
        world.syw.faults.set(Faults(error_rate=1.0, only_paths=["/GetApplicableOffers"]))
        for _ in range(5):
            api.get(f"{BASE}/members/{bob}/offers")
        assert api.get(f"{BASE}/health").json()["circuits"]["offers"] == "open"
        world.syw.faults.set(Faults())
        time.sleep(0.6)
        assert api.get(f"{BASE}/health").json()["circuits"]["offers"] == "half_open"
        assert api.get(f"{BASE}/members/{bob}/offers").status_code == 200  # the probe
        assert api.get(f"{BASE}/health").json()["circuits"]["offers"] == "closed"
        after = api.get("/metrics").text
    assert metric(after, "loyalty_gateway_circuit_state", **labels) == 0
    half = "loyalty_gateway_circuit_half_opened_total"
    assert metric(after, half, **labels) == metric(before, half, **labels) + 1
    # one log line per transition, naming the group
    assert _transitions(log_file, logged) == [
        ("circuit_opened", "offers"),
        ("circuit_half_open", "offers"),
        ("circuit_closed", "offers"),
    ]


def test_a_failing_token_endpoint_stops_what_needs_a_new_token(
    world: World, redis_url: str, syw_faults: None
) -> None:
    bob = member(world)
    world.syw.faults.set(Faults(error_rate=1.0, only_paths=[shopyourway.TOKEN_PATH]))
    with own_gateway(world, redis_url, open_seconds=30) as api:  # no token cached yet
        for _ in range(5):
            failed = api.get(f"{BASE}/members/{bob}/offers")
            assert failed.status_code == 503
        asked = world.syw.token_requests
        refused = api.get(f"{BASE}/members/{bob}/balance")
        assert refused.status_code == 503
        assert refused.json()["upstream"]["code"] == "circuit_open"
        assert world.syw.token_requests == asked
        circuits = api.get(f"{BASE}/health").json()["circuits"]
        assert circuits["token"] == "open"
        # the calls that needed the token never went out, so their own circuits are closed
        assert circuits["reads"] == circuits["offers"] == "closed"
        # other programs are untouched
        cp = api.get("/v1/programs/cafe-rewards/members/2059378440/balance")
        assert cp.status_code == 200
