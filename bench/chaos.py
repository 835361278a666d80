"""A bigger exactly-once chaos run than the test suite's: N earns against CP Extender, IRT and
ShopYourWay simulators injecting 500s and apply-then-drop faults, each retried by its client
with the same Idempotency-Key until a final answer; then every simulator ledger is compared
with the set of writes answered 201 (no duplicates, nothing acknowledged and missing).

    uv run python bench/chaos.py [--writes 3000] [--error-rate 0.1] [--drop-rate 0.05]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from gateway.app import create_app
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World
from gateway.settings import parse_settings


def _targets(world: World, count: int) -> list[tuple[str, str]]:
    """(path, member) for ``count`` fresh members spread over the three write providers."""
    targets = []
    for i in range(count):
        if i % 3 == 0:
            member, program = world.new_cp_customer(), "cafe-rewards"
        elif i % 3 == 1:
            member, program = world.new_irt_card(), "irt-rewards"
        else:
            member, program = world.new_syw_member(), "syw-rewards"
        targets.append((f"/v1/programs/{program}/members/{member}/earn", member))
    return targets


def _until_final(client: httpx.Client, path: str, body: dict[str, int], key: str) -> int:
    for _ in range(500):
        try:
            status = client.post(path, json=body, headers={"Idempotency-Key": key}).status_code
        except httpx.TransportError:
            continue
        if status not in (409, 502, 503, 504):
            return status
        time.sleep(0.01)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    redis = EmbeddedRedis().start()
    world = World().start()
    try:
        config = world.config_yaml(redis_url=redis.url, circuit_open_seconds=0.05)
        url = world.servers.add(create_app(parse_settings(config)))
        targets = _targets(world, args.writes)
        points = {member: 10 + i % 7 for i, (_, member) in enumerate(targets)}
        for seed, state in enumerate((world.cp, world.irt, world.syw)):
            state.faults.set(
                Faults(error_rate=args.error_rate, drop_after_apply_rate=args.drop_rate, seed=seed)
            )
        started = time.monotonic()
        with httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}
        ) as client:

            def run(target: tuple[str, str]) -> int:
                path, member = target
                return _until_final(client, path, {"points": points[member]}, str(uuid.uuid4()))

            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                statuses = list(pool.map(run, targets))
        elapsed = time.monotonic() - started
        applied: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for member, amount in (
            *((e.customer_number, e.points) for e in world.cp.ledger),
            *((e.card, e.points) for e in world.irt.ledger),
            *((e.member_number, e.points) for e in world.syw.ledger),
        ):
            if member in points:
                applied[member] += 1
                total[member] += amount
        acknowledged = sum(1 for s in statuses if s == 201)
        duplicates = sum(1 for n in applied.values() if n > 1)
        missing = sum(1 for m in points if applied[m] == 0)
        wrong = sum(1 for m in points if total[m] != points[m])
        print(
            f"writes: {args.writes}  answered 201: {acknowledged}  other: "
            f"{len(statuses) - acknowledged}  in {elapsed:.1f} s"
        )
        print(
            f"ledger: duplicates {duplicates}  acknowledged-but-missing {missing}  "
            f"wrong totals {wrong}"
        )
        ok = acknowledged == args.writes and duplicates == missing == wrong == 0
        print("RESULT:", "exactly once" if ok else "VIOLATION")
        raise SystemExit(0 if ok else 1)
    finally:
        world.stop()
        redis.stop()


if __name__ == "__main__":
    main()
