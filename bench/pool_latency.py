"""A slow but healthy provider at 1,000 concurrent clients: throughput against the pool's
arithmetic bound, and no circuit breaker trips.

    uv run python bench/pool_latency.py [--latency-ms 200 1000] [--seconds 20] [--clients 1000]

For each provider latency it starts the CP Extender simulator (uvicorn, 2 processes) with
that latency added to every answer, an embedded Redis and ``gateway serve`` (2 workers,
``connections.max`` 200 each: the default), then drives wrk with ``--clients`` connections
at uncached activity reads rotating over 1,000 members. Measured in the same run:

- the bound: ``workers * connections.max / latency`` calls a second (Little's law);
- the simulator driven directly by wrk with as many connections as the gateway's pools hold
  (what the provider side can serve at that latency on this machine);
- the gateway: answers a second, their statuses, and from its /metrics the circuits opened,
  the calls refused as saturated and the provider calls by outcome.

The ratio reported is gateway rps / min(bound, direct rps).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.world import DEMO_API_KEY

from benchlib import (
    REPO_DIR,
    Load,
    Processes,
    cpu_seconds,
    free_port,
    process_tree,
    run_wrk,
    wait_http,
    wrk_available,
)
from run import gateway_yaml
from servers import POOL_FIRST, POOL_SIZE

WORKERS = 2
POOL = 200


def _metric_sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{([^}]*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match[3])
    return total


def one_latency(latency_ms: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    procs = Processes()
    redis = EmbeddedRedis(tcp_port=free_port()).start()
    try:
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        sim_log = root / f"sim-{latency_ms}.log"
        sim = procs.spawn(
            "simulator",
            [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(REPO_DIR / "bench"),
             "servers:cp_app_slow", "--host", "127.0.0.1", "--port", str(sim_port),
             "--workers", "2", "--log-level", "warning", "--no-access-log",
             "--backlog", "4096", "--limit-concurrency", "100000"],
            log=sim_log,
            cwd=REPO_DIR,
            env={**os.environ, "BENCH_CP_LATENCY_MS": str(latency_ms)},
        )  # fmt: skip
        probe = f"/Loyalty/{POOL_FIRST}/BalanceCheck"
        auth = {"Authorization": f"Bearer {CP_TOKEN}"}
        wait_http(sim_url + probe, headers=auth, proc=sim, log=sim_log, timeout=60)

        gw_port = free_port()
        gw_url = f"http://127.0.0.1:{gw_port}"
        config = root / f"gateway-{latency_ms}.yaml"
        config.write_text(
            gateway_yaml(
                port=gw_port,
                workers=WORKERS,
                redis_url=redis.url,
                prefix="pool-" + uuid.uuid4().hex[:8],
                cp_url=sim_url,
            )
        )
        metrics_dir = root / f"metrics-{latency_ms}"
        metrics_dir.mkdir()
        gw_log = root / f"gateway-{latency_ms}.log"
        gateway = procs.spawn(
            "gateway",
            [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
            log=gw_log,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            cwd=REPO_DIR,
        )
        wait_http(gw_url + "/readyz", proc=gateway, log=gw_log, timeout=60)
        headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}

        direct = run_wrk(
            f"simulator direct {latency_ms} ms",
            Load(
                url=sim_url + probe,
                headers=auth,
                rotating_path=("/Loyalty/", POOL_FIRST, POOL_SIZE, "/BalanceCheck"),
            ),
            concurrency=WORKERS * POOL,
            seconds=args.seconds,
            workdir=root,
            threads=2,
            procs=procs,
        )
        base = "/v1/programs/cafe-rewards/members/"
        cpu_before = _cpu(gateway.pid), _cpu(sim.pid)
        through = run_wrk(
            f"gateway {latency_ms} ms",
            Load(
                url=gw_url + base + str(POOL_FIRST) + "/activity",
                headers=headers,
                rotating_path=(base, POOL_FIRST, POOL_SIZE, "/activity"),
                count_statuses=True,
            ),
            concurrency=args.clients,
            seconds=args.seconds,
            workdir=root,
            threads=2,
            procs=procs,
        )
        gateway_cores = (_cpu(gateway.pid) - cpu_before[0]) / through.seconds
        sim_cores = (_cpu(sim.pid) - cpu_before[1]) / through.seconds
        socket = re.search(r"Socket errors:.*", (root / "wrk-last.txt").read_text())
        exposition = httpx.get(gw_url + "/metrics", timeout=10).text
        bound = WORKERS * POOL / (latency_ms / 1000)
        ceiling = min(bound, direct.rps)
        return {
            "latency_ms": latency_ms,
            "clients": args.clients,
            "bound_rps": bound,
            "direct_rps": direct.rps,
            "gateway_rps": through.rps,
            "ratio": through.rps / ceiling if ceiling else None,
            "p50_ms": through.p50_ms,
            "p99_ms": through.p99_ms,
            "requests": through.requests,
            "non_2xx": through.non_2xx_statuses,
            "socket_errors": socket[0] if socket else "none",
            "gateway_cpu_cores": round(gateway_cores, 2),
            "simulator_cpu_cores": round(sim_cores, 2),
            "circuits_opened": _metric_sum(exposition, "loyalty_gateway_circuit_opened_total"),
            "saturated": _metric_sum(exposition, "loyalty_gateway_upstream_saturated_total"),
            "upstream_not_ok": _metric_sum(exposition, "loyalty_gateway_upstream_calls_total")
            - _metric_sum(exposition, "loyalty_gateway_upstream_calls_total", outcome="ok"),
        }
    finally:
        procs.stop_all()
        redis.stop()


def _cpu(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in process_tree(root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=1000)
    args = parser.parse_args()
    if not wrk_available():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp:
        for latency in args.latency_ms:
            row = one_latency(latency, args, Path(tmp))
            rows.append(row)
            print(row, flush=True)
    print()
    print(
        "| provider latency | clients | bound (2 * 200 / latency) | simulator direct | "
        "gateway | ratio | p50 / p99 | non-2xx | circuits opened | saturated 503s | "
        "provider calls not ok | gateway / simulator CPU (cores of "
        f"{os.cpu_count()}) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(
            f"| {r['latency_ms']} ms | {r['clients']} | {r['bound_rps']:,.0f} rps | "
            f"{r['direct_rps']:,.0f} rps | {r['gateway_rps']:,.0f} rps | {ratio} | "
            f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms | {r['non_2xx'] or 0} | "
            f"{r['circuits_opened']:.0f} | {r['saturated']:.0f} | {r['upstream_not_ok']:.0f} | "
            f"{r['gateway_cpu_cores']} / {r['simulator_cpu_cores']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
