"""Exactly-once under faults, two ways.

``uv run python bench/chaos.py`` (the default, what ``.ci/run`` runs) runs the chaos suite
(``tests/chaos``: Sentinel failover and master kill, Cluster master kill, Redis killed and
restarted with and without its data, the embedded Redis killed, gateways SIGKILLed and
SIGTERMed, two gateways on one Redis, providers answering 500s and cutting answers after
applying) under a load of earns, redemptions and voids of every provider, and prints one
table row per experiment from the simulators' ledgers; ``--readme`` also writes the table
into bench/README.md.

``uv run python bench/chaos.py providers [--writes 3000] [--error-rate 0.1] [--drop-rate
0.05]``: N earns against simulators injecting 500s and apply-then-drop faults, each retried
with the same Idempotency-Key until a final answer, ledgers compared with the 201s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from gateway.app import create_app
from gateway.config import parse_settings
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World


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


def providers(args: argparse.Namespace) -> None:

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


COLUMNS = (
    ("experiment", "experiment"),
    ("writes", "writes"),
    ("acknowledged", "answered"),
    ("ledger_entries", "ledger"),
    ("duplicates", "duplicates"),
    ("lost", "lost"),
    ("server_errors", "500s"),
    ("refused_503", "503s (retried)"),
    ("max_stuck_s", "longest stuck s"),
    ("disturbed_s", "disturbed s"),
    ("unknown_open", "unknown left"),
)
README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- chaos-table -->", "<!-- /chaos-table -->"


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        statuses = row.get("statuses") or {}
        row = {**row, "refused_503": statuses.get("503", 0)}  # type: ignore[union-attr]
        name = str(row["experiment"]).removeprefix("test_")
        lines.append(
            "| "
            + " | ".join(name if k == "experiment" else str(row.get(k, "-")) for k, _ in COLUMNS)
            + " |"
        )
    return "\n".join(lines)


def suite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        env = {**os.environ, "CHAOS_RESULTS": str(results), "CHAOS_WRITES": str(args.writes)}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "chaos",
            "tests/chaos",
            "-p",
            "no:cacheprovider",
        ]
        started = time.monotonic()
        code = subprocess.call(command, env=env, cwd=README.parent.parent)
        rows = (
            [json.loads(line) for line in results.read_text().splitlines()]
            if results.exists()
            else []
        )
    text = table(rows)
    print(text)
    print(f"{len(rows)} experiments in {time.monotonic() - started:.0f} s; pytest exit {code}")
    if args.readme and code == 0:
        readme = README.read_text()
        head, _, rest = readme.partition(BEGIN)
        _, _, tail = rest.partition(END)
        stamp = time.strftime("%Y-%m-%d")
        command = f"uv run python bench/chaos.py --readme --writes {args.writes}"
        README.write_text(f"{head}{BEGIN}\n`{command}`, {stamp}:\n\n{text}\n{END}{tail}")
    raise SystemExit(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", nargs="?", choices=("suite", "providers"), default="suite")
    parser.add_argument("--writes", type=int, default=None)
    parser.add_argument("--readme", action="store_true", help="write the table to bench/README.md")
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.mode == "providers":
        args.writes = args.writes or 3000
        providers(args)
    else:
        args.writes = args.writes or 300
        suite(args)


if __name__ == "__main__":
    main()
