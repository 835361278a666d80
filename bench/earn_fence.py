"""What the replica fence costs an earn: Redis round trips, Redis commands and gateway CPU per
write, with ``redis.replica_acks: 0`` (no WAIT: a single server) and ``1`` (script + WAIT in
one round trip), in the same run, against the same master with one replica.

    uv run python bench/earn_fence.py [--requests 3000] [--concurrency 32] [--rounds 2]

Round trips come from the server's own count of the reads it processed from clients
(``INFO stats`` ``total_reads_processed``) over 200 earns one at a time: a pipeline (a script
with its WAIT, or a settle with the balance drop beside it) arrives as one read, a separate
round trip as another. The commands behind them come from ``MONITOR`` over 20 earns;
commands per earn from ``INFO commandstats`` and CPU from /proc for the gateway's process tree
over the load.
Rounds alternate between the two settings. Output: ``results/earn_fence.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import redis
from gateway.infra.embedded_redis import redis_server_binary
from gateway.sandbox.world import DEMO_API_KEY, World

from benchlib import cpu_seconds, free_port, process_tree

HERE = Path(__file__).parent


def redis_server(root: Path, name: str, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    folder = root / name
    folder.mkdir()
    argv = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen(
        [*argv, "--dir", str(folder), *extra],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return process, port


class Gateway:
    def __init__(self, world: World, root: Path, redis_port: int, acks: int) -> None:
        self.port = free_port()
        config = world.config_yaml(
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            replica_acks=acks,
            key_prefix=f"b{acks}",
        ).replace("port: 8080", f"port: {self.port}")
        path = root / f"gateway-{acks}.yaml"
        path.write_text(config)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gateway did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def earns(url: str, member: str, count: int, concurrency: int) -> int:
    path = f"{url}/v1/programs/cafe-rewards/members/{member}/earn"
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    done = 0
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        queue = iter(range(count))

        async def worker() -> None:
            nonlocal done
            for _ in queue:
                answer = await client.post(
                    path, json={"points": 1}, headers={"Idempotency-Key": uuid.uuid4().hex}
                )
                done += answer.status_code == 201

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


def round_trips(port: int, url: str, member: str, sample: int = 20) -> tuple[float, Counter[str]]:
    """Round trips per earn seen by MONITOR (top-level commands; a WAIT right after a script
    on the same connection rides in that script's round trip)."""
    lines: list[str] = []
    stop = threading.Event()

    def monitor() -> None:
        with redis.Redis(port=port).monitor() as m:
            for event in m.listen():
                lines.append(f"{event['client_type']} {event['client_address']} {event['command']}")
                if stop.is_set():
                    return

    thread = threading.Thread(target=monitor, daemon=True)
    thread.start()
    time.sleep(0.3)
    asyncio.run(earns(url, member, sample, 1))
    time.sleep(0.3)
    stop.set()
    redis.Redis(port=port).ping()  # wake the monitor
    thread.join(timeout=5)
    top = [line for line in lines if not line.startswith("lua ")]
    kinds = Counter(line.split()[2].upper() for line in top)
    for setup in ("PING", "HELLO", "CLIENT", "SELECT"):  # connection set-up, not the earn's
        kinds.pop(setup, None)
    return reads_per_earn(port, url, member), Counter({k: v / sample for k, v in kinds.items()})


def reads_per_earn(port: int, url: str, member: str, sample: int = 200) -> float:
    """Client reads the server processed per earn, one earn at a time (the gateway's
    background polls, a few a second, and our two INFO calls are in the count: a bound)."""
    probe = redis.Redis(port=port)
    before = int(probe.info("stats")["total_reads_processed"])
    asyncio.run(earns(url, member, sample, 1))
    after = int(probe.info("stats")["total_reads_processed"])
    return (after - before - 1) / sample


def commandstats(port: int) -> Counter[str]:
    stats = redis.Redis(port=port).info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request costs the client
    world = World().start()
    root = Path(tempfile.mkdtemp(prefix="lg-fence-"))
    master, port = redis_server(root, "master")
    replica, _ = redis_server(root, "replica", "--replicaof", "127.0.0.1", str(port))
    gateways: dict[int, Gateway] = {}
    results: dict[int, dict[str, Any]] = {}
    try:
        time.sleep(1)  # the replica's first sync
        member = world.new_cp_customer()
        gateways = {acks: Gateway(world, root, port, acks) for acks in (0, 1)}
        totals = {acks: {"cpu": 0.0, "seconds": 0.0, "ok": 0, "commands": 0} for acks in gateways}
        for gateway in gateways.values():  # warm up
            asyncio.run(earns(gateway.url, member, 200, args.concurrency))
        for _ in range(args.rounds):
            for acks, gateway in gateways.items():
                pids = process_tree(gateway.process.pid)
                before, stats = sum(map(cpu_seconds, pids)), commandstats(port)
                started = time.monotonic()
                ok = asyncio.run(earns(gateway.url, member, args.requests, args.concurrency))
                totals[acks]["seconds"] += time.monotonic() - started
                totals[acks]["cpu"] += sum(map(cpu_seconds, pids)) - before
                totals[acks]["ok"] += ok
                delta = commandstats(port) - stats
                for other in ("info", "replconf", "ping"):  # ours and the replica's
                    delta.pop(other, None)
                totals[acks]["commands"] += sum(delta.values())
        for acks, gateway in gateways.items():
            trips, kinds = round_trips(port, gateway.url, member)
            t = totals[acks]
            n = args.requests * args.rounds
            results[acks] = {
                "replica_acks": acks,
                "earns": n,
                "answered_201": t["ok"],
                "rps": round(n / t["seconds"], 1),
                "gateway_cpu_us_per_earn": round(t["cpu"] / n * 1e6),
                "redis_commands_per_earn": round(t["commands"] / n, 2),
                "redis_round_trips_per_earn": round(trips, 2),
                "top_level_commands_per_earn": dict(kinds),
            }
    finally:
        for gateway in gateways.values():
            gateway.stop()
        replica.terminate()
        master.terminate()
        world.stop()
    base = results[0]["gateway_cpu_us_per_earn"]
    print(f"earn at c={args.concurrency}, {args.requests} x {args.rounds} rounds per setting")
    print("replica_acks  rps      CPU µs/earn  ratio  Redis round trips  Redis commands")
    for acks, r in results.items():
        print(
            f"{acks:<13} {r['rps']:<8} {r['gateway_cpu_us_per_earn']:<12} "
            f"{r['gateway_cpu_us_per_earn'] / base:<6.2f} {r['redis_round_trips_per_earn']:<18} "
            f"{r['redis_commands_per_earn']}"
        )
    out = HERE / "results" / "earn_fence.json"
    out.write_text(json.dumps({"concurrency": args.concurrency, "results": results}, indent=2))


if __name__ == "__main__":
    main()
