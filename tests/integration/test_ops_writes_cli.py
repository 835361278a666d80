"""``gateway writes unknown`` and ``gateway writes settle`` against a real Redis: the
operator's view of unknown outcomes and a decision recorded by hand, as a caller sees it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World

PREFIX = "lg-cli-writes"


@pytest.fixture(scope="module")
def config_file(world: World, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-writes") / "gateway.yaml"
    # no reconciler and a long settle time: only the operator settles these keys
    path.write_text(
        world.config_yaml(
            redis_url=redis_url,
            key_prefix=PREFIX,
            circuit_open_seconds=0.05,
            reconcile="{enabled: false, settle_seconds: 600}",
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def client(world: World, config_file: Path) -> Iterator[httpx.Client]:
    settings = parse_settings(config_file.read_text(encoding="utf-8"))
    url = world.servers.add(create_app(settings))
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=20
    ) as http:
        yield http


def _gateway(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "writes", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _unknown_redemption(world: World, client: httpx.Client) -> tuple[str, str, str]:
    number = world.new_cp_customer()
    world.cp.customers[number].points = 1000
    path = f"/v1/programs/cafe-rewards/members/{number}/redemptions"
    key = f"kiosk-k{uuid.uuid4().hex[:12]}"
    world.cp.faults.set(Faults(error_rate=1.0))  # a 500: CP may or may not have applied it
    try:
        answer = client.post(
            path, json={"points": 250, "reference": "SALE-9"}, headers={"Idempotency-Key": key}
        )
    finally:
        world.cp.faults.set(Faults())
    assert answer.status_code == 502, answer.text
    return path, key, number


def test_unknown_lists_the_open_unknowns(
    world: World, client: httpx.Client, config_file: Path
) -> None:
    _, key, number = _unknown_redemption(world, client)
    listed = _gateway(config_file, "unknown", "--program", "cafe-rewards")
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if key in line]
    assert row.split()[:6] == ["demo", key, "cafe-rewards", "redeem", number, "SALE-9"]
    assert "CLIENT" in listed.stdout.splitlines()[0]
    other = _gateway(config_file, "unknown", "--program", "syw-rewards")
    assert key not in other.stdout
    as_json = _gateway(config_file, "unknown", "--json")
    assert f'"key": "{key}"' in as_json.stdout


def test_settle_applied_answers_every_retry_with_the_recorded_success(
    world: World, client: httpx.Client, config_file: Path
) -> None:
    path, key, number = _unknown_redemption(world, client)
    done = _gateway(config_file, "settle", "demo", key, "--applied", "--id", "AUTH-77")
    assert done.returncode == 0, done.stderr
    assert "applied" in done.stdout
    retry = client.post(
        path, json={"points": 250, "reference": "SALE-9"}, headers={"Idempotency-Key": key}
    )
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    body = retry.json()
    assert (body["id"], body["points"], body["member_id"]) == ("AUTH-77", 250, number)
    assert not [e for e in world.cp.ledger if e.customer_number == number]  # nothing sent
    assert key not in _gateway(config_file, "unknown").stdout
    again = _gateway(config_file, "settle", "demo", key, "--not-applied")
    assert again.returncode == 1
    assert "already settled" in again.stderr


def test_settle_not_applied_frees_the_key_for_the_callers_retry(
    world: World, client: httpx.Client, config_file: Path
) -> None:
    path, key, number = _unknown_redemption(world, client)
    done = _gateway(config_file, "settle", "demo", key, "--not-applied")
    assert done.returncode == 0, done.stderr
    retry = client.post(
        path, json={"points": 250, "reference": "SALE-9"}, headers={"Idempotency-Key": key}
    )
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert len([e for e in world.cp.ledger if e.customer_number == number]) == 1
    missing = _gateway(config_file, "settle", "demo", "no-such-key", "--applied")
    assert missing.returncode == 1
    assert "no record" in missing.stderr
