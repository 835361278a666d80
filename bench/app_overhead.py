"""The gateway app's own CPU per request, without a server or a network client in the way.

Calls the ASGI app in-process, one request after another, and prints microseconds of
process CPU per request for the bare route, a cached balance read and an uncached
(pass-through) read. The CP Extender simulator runs in a uvicorn process of its own, and
Redis is the embedded one, so only the app's work (and its Redis / upstream client work) is
counted. Quick to rerun after a change to the hot path::

    uv run python bench/app_overhead.py                     # ~15 s, one request at a time
    uv run python bench/app_overhead.py --concurrency 16    # 16 in flight, as a busy worker
    uv run python bench/app_overhead.py --profile cached    # cProfile of one target
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from gateway.app import create_app  # noqa: E402
from gateway.config import parse_settings  # noqa: E402
from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN  # noqa: E402
from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.sandbox.inprocess import call, http_scope, running  # noqa: E402
from gateway.sandbox.world import DEMO_API_KEY  # noqa: E402

from benchlib import free_port, wait_http  # noqa: E402
from run import gateway_yaml  # noqa: E402
from servers import POOL_FIRST, POOL_SIZE, READ_MEMBER  # noqa: E402

AUTH = [(b"authorization", f"Bearer {DEMO_API_KEY}".encode())]


async def measure(app: Any, scopes: list[dict[str, Any]], n: int, concurrency: int = 1) -> float:
    for sc in scopes[:50]:
        assert (await call(app, sc))[0] == 200, sc["path"]
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            status, _, _ = await call(app, scopes[i % len(scopes)])
            if status != 200:
                raise SystemExit(f"status {status} for {scopes[i % len(scopes)]['path']}")

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - started) / n * 1e6


async def main_async(args: argparse.Namespace, cp_url: str, redis_url: str) -> None:
    settings = parse_settings(
        gateway_yaml(
            port=0,
            workers=1,
            redis_url=redis_url,
            prefix="ovh-" + uuid.uuid4().hex[:8],
            cp_url=cp_url,
        )
    )
    async with running(create_app(settings)) as app:
        await drive(app, args)


async def drive(app: Any, args: argparse.Namespace) -> None:
    balance = f"/v1/programs/cafe-rewards/members/{READ_MEMBER}/balance"
    targets = {
        "bare": [http_scope("/healthz")],
        "cached": [http_scope(balance, AUTH)],
        "uncached": [
            http_scope(
                f"/v1/programs/cafe-rewards/members/{POOL_FIRST + i}/balance",
                [*AUTH, (b"cache-control", b"no-cache")],
            )
            for i in range(POOL_SIZE)
        ],
    }
    chosen = [args.profile] if args.profile else list(targets)
    for name in chosen:
        n = args.requests if name != "uncached" else args.requests // 4
        if args.profile:
            await measure(app, targets[name], 200, args.concurrency)
            profiler = cProfile.Profile()
            profiler.enable()
            await measure(app, targets[name], n, args.concurrency)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        else:
            runs = [await measure(app, targets[name], n, args.concurrency) for _ in range(3)]
            print(
                f"{name:10s} {min(runs):8.1f} us CPU/request (best of 3 x {n}, "
                f"{args.concurrency} at a time)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--profile", choices=["bare", "cached", "uncached"])
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight")
    parser.add_argument("--asyncio", action="store_true", help="asyncio's loop, not uvloop")
    args = parser.parse_args()
    redis = EmbeddedRedis(tcp_port=free_port()).start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        sim = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(BENCH_DIR),
             "servers:cp_app", "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": tmp},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(
                f"{url}/Loyalty/{READ_MEMBER}/BalanceCheck",
                headers={"Authorization": f"Bearer {CP_TOKEN}"},
                proc=sim,
                log=Path(os.devnull),
            )
            if args.asyncio:
                asyncio.run(main_async(args, url, redis.url))
            else:  # what gateway serve runs
                uvloop.run(main_async(args, url, redis.url))
        finally:
            sim.terminate()
            sim.wait(10)
            redis.stop()


if __name__ == "__main__":
    main()
