"""ShopYourWay token refresh across replicas: 4 ``gateway serve`` processes, one Redis.

    uv run python bench/token_refresh.py [--seconds 30] [--processes 4] [--lifetime 5]

With a 5 s token lifetime at the simulator, calls that need a token (offers, and balances
read with ``Cache-Control: no-cache``) are spread round-robin over the processes for 30 s.
Every process shares the token through Redis and refreshes it ahead of expiry (10 % of the
lifetime), so the simulator should see about one token request per 4.5 s — about 7 in 30 s,
not one per call or per process — and no call may fail for want of a valid token.
Writes bench/results/token_refresh.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.connectors.shopyourway.errors import AUTH_CODES
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, World

from benchlib import (
    BENCH_DIR,
    free_port,
    install_sigterm_as_interrupt,
    python_version,
    shield_cleanup,
)

MEMBER = shopyourway.DEMO_MEMBER_NUMBER
PATHS = [
    f"/v1/programs/syw-rewards/members/{MEMBER}/offers",
    f"/v1/programs/syw-rewards/members/{MEMBER}/balance",
]
HEADERS = {"Authorization": f"Bearer {DEMO_API_KEY}"}
NO_CACHE = {**HEADERS, "Cache-Control": "no-cache"}


def drive(
    urls: list[str], seconds: float, threads: int, pause: float
) -> tuple[Counter[str], list[dict[str, Any]]]:
    """Calls from ``threads`` threads until ``seconds`` pass; each thread goes round-robin
    over the processes and both paths. Returns outcome counts and the failures' details."""
    outcomes: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        clients = [httpx.Client(base_url=u, timeout=10) for u in urls]
        i = index
        try:
            while time.monotonic() < stop_at:
                client = clients[i % len(clients)]
                path = PATHS[(i // len(clients)) % len(PATHS)]
                headers = NO_CACHE if path.endswith("/balance") else HEADERS
                i += 1
                try:
                    answer = client.get(path, headers=headers)
                except httpx.HTTPError as exc:
                    with lock:
                        outcomes["transport_error"] += 1
                        failures.append({"path": path, "error": type(exc).__name__})
                    continue
                key = str(answer.status_code)
                with lock:
                    outcomes[key] += 1
                    if answer.status_code != 200 and len(failures) < 50:
                        problem: dict[str, Any] = {}
                        if answer.headers.get("content-type", "").endswith("json"):
                            problem = answer.json()
                        upstream = problem.get("upstream") or {}
                        failures.append(
                            {
                                "path": path,
                                "status": answer.status_code,
                                "code": problem.get("code"),
                                "upstream_code": upstream.get("code"),
                            }
                        )
                time.sleep(pause)
        finally:
            for client in clients:
                client.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--lifetime", type=float, default=5.0, help="token lifetime (s)")
    parser.add_argument("--threads", type=int, default=8, help="calling threads")
    parser.add_argument("--pause", type=float, default=0.005, help="pause between calls (s)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "token_refresh.json")
    args = parser.parse_args()
    install_sigterm_as_interrupt()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per call otherwise
    started = time.monotonic()
    world = World()
    world.syw.token_lifetime_seconds = args.lifetime
    redis: EmbeddedRedis | None = None
    processes: list[GatewayProcess] = []
    config_dir = Path(tempfile.mkdtemp(prefix="lg-bench-tokens-"))
    try:
        world.start()
        redis = EmbeddedRedis(tcp_port=free_port()).start()
        prefix = "tok-" + uuid.uuid4().hex[:8]  # a cold token cache
        for n in range(args.processes):
            port = free_port()
            config = config_dir / f"gateway-{n}.yaml"
            config.write_text(world.config_yaml(redis_url=redis.url, port=port, key_prefix=prefix))
            processes.append(GatewayProcess(str(config), port))
        for process in processes:
            process.start()
        print(
            f"{args.processes} gateway processes, one Redis ({redis.url}), ShopYourWay token "
            f"lifetime {args.lifetime:g} s; calling for {args.seconds:g} s from {args.threads} "
            "threads",
            flush=True,
        )
        before = world.syw.token_requests
        t0 = time.monotonic()
        outcomes, failures = drive(
            [p.url for p in processes], args.seconds, args.threads, args.pause
        )
        elapsed = time.monotonic() - t0
        token_requests = world.syw.token_requests - before
    except KeyboardInterrupt:
        print("interrupted: stopping everything", file=sys.stderr)
        return 130
    finally:
        shield_cleanup()
        for process in processes:
            process.stop()
        if redis is not None:
            redis.stop()
        world.stop()
        for file in config_dir.iterdir():
            file.unlink()
        config_dir.rmdir()

    calls = sum(outcomes.values())
    ok = outcomes.get("200", 0)
    auth_failures = [
        f for f in failures if f.get("status") in (401, 403) or f.get("upstream_code") in AUTH_CODES
    ]
    # a token is fresh for 90 % of its lifetime; the first one comes with the first call
    expected = 1 + math.floor(elapsed / (args.lifetime * 0.9))
    verdict_tokens = token_requests <= expected + 2
    verdict_calls = ok == calls
    print(
        f"\ncalls: {calls} in {elapsed:.1f} s ({calls / elapsed:.0f}/s) over "
        f"{args.processes} processes; outcomes {dict(outcomes)}"
    )
    print(
        f"token requests at the simulator: {token_requests} "
        f"(expected about {expected}: one per {args.lifetime * 0.9:g} s) -> "
        f"{'OK' if verdict_tokens else 'TOO MANY'}"
    )
    print(
        f"failed calls: {calls - ok} (auth-related: {len(auth_failures)}) -> "
        f"{'OK' if verdict_calls else 'FAILURES'}"
    )
    for failure in failures[:10]:
        print(f"  failure: {failure}")
    report = {
        "processes": args.processes,
        "token_lifetime_seconds": args.lifetime,
        "seconds": round(elapsed, 1),
        "threads": args.threads,
        "calls": calls,
        "outcomes": dict(outcomes),
        "token_requests": token_requests,
        "token_requests_expected": expected,
        "failures": failures,
        "auth_failures": len(auth_failures),
        "tokens_ok": verdict_tokens,
        "calls_ok": verdict_calls,
        "python": python_version(),
        "duration_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0 if verdict_tokens and verdict_calls else 1


if __name__ == "__main__":
    sys.exit(main())
