"""The gateway benchmark: one command, loopback only, at most ~3 minutes.

    uv run python bench/run.py            # full run (~2.5 min)
    uv run python bench/run.py --quick    # shorter runs, 20k requests for the RSS check

Starts the CP Extender simulator (uvicorn, own process), an embedded Redis on TCP, nginx as a
plain keep-alive reverse proxy to the simulator (when installed), the minimal Python hop (the
floor: one pooled upstream call on the gateway's server and transport, bench/servers.py
floor_app) and ``gateway serve`` with production settings, drives each with wrk (or a Python
asyncio+httpx generator when wrk is missing), prints a table and the issue's ratios, and
writes bench/results/latest.json.
Everything it started is stopped at the end, on error and on Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.world import DEMO_API_KEY

from benchlib import (
    BENCH_DIR,
    REPO_DIR,
    Load,
    Processes,
    Result,
    cpu_seconds,
    free_port,
    install_sigterm_as_interrupt,
    process_tree,
    python_version,
    rss_kib,
    run_python,
    run_wrk,
    shield_cleanup,
    wait_http,
    wrk_available,
)
from servers import EARN_MEMBER, POOL_FIRST, POOL_SIZE, READ_MEMBER

#: the gateway's pass-through read at c=1 (interleaved with the baselines)
PASS_THROUGH = "e. gateway uncached balance"
#: the floor a Python hop can reach on the gateway's server and upstream client
FLOOR = "p. Python hop -> simulator"
#: c=32 throughput ratios measured again in alternating rounds: numerator, denominator
PAIRED = {
    "cached_over_bare_rps": ("d. gateway cached balance", "c. gateway /healthz"),
    "passthrough_over_nginx_rps": ("e2. uncached, 1000 members", "b. nginx -> simulator"),
    "passthrough_over_floor_rps": ("e2. uncached, 1000 members", FLOOR),
}

TARGETS = {
    "cached_over_bare_rps": ("cached balance rps / bare route rps (c=32)", ">=", 0.60),
    "passthrough_added_latency_vs_nginx": (
        "pass-through added p50 / nginx added p50 (c=1)",
        "<=",
        3.0,
    ),
    "passthrough_over_nginx_rps": (
        "pass-through rps, 1000 members / nginx rps (c=32)",
        ">=",
        0.30,
    ),
    "passthrough_added_latency_vs_floor": (
        "pass-through added p50 / Python hop added p50 (c=1)",
        "<=",
        1.5,
    ),
    "passthrough_over_floor_rps": (
        "pass-through rps, 1000 members / Python hop rps (c=32)",
        ">=",
        0.8,
    ),
    "earn_cpu_over_passthrough_cpu": (
        "earn CPU / pass-through read CPU, 1000 members (c=32)",
        "<=",
        1.5,
    ),
    "redis_commands_per_cached_read": ("Redis commands per cached read", "<=", 2.0),
    "rss_growth_pct": ("gateway RSS growth over the cached-read run (%)", "<", 10.0),
}


#: nginx's added latency is a few tens of microseconds; below this it is measurement noise
NGINX_ADDED_FLOOR_MS = 0.01


def gateway_yaml(*, port: int, workers: int, redis_url: str, prefix: str, cp_url: str) -> str:
    """A production-like configuration with one CP Extender program (World.config_yaml's)."""
    key_hash = hashlib.sha256(DEMO_API_KEY.encode()).hexdigest()
    return f"""\
server:
  host: 127.0.0.1
  port: {port}
  workers: {workers}
redis:
  url: {redis_url}
  key_prefix: {prefix}
logging:
  level: warning
  format: json
  output: stdout
clients:
  - id: bench
    api_key_sha256: {key_hash}
    programs: ["*"]
    scopes: [members:read, members:write, points:earn, points:redeem]
programs:
  - id: cafe-rewards
    name: Cafe Rewards
    provider: cpextender
    base_url: {cp_url}
    auth: {{type: bearer, token: {CP_TOKEN}}}
    points_value: {{points_per_unit: 100, currency: USD}}
    balance_ttl_seconds: 300
"""


def nginx_conf(root: Path, *, port: int, upstream_port: int) -> str:
    return f"""\
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/client_body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream simulator {{
    server 127.0.0.1:{upstream_port};
    keepalive 64;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 1000000;
    location / {{
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else ""


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def verdict(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    _, op, target = TARGETS[key]
    ok = {">=": value >= target, "<=": value <= target, "<": value < target}[op]
    return "MET" if ok else "MISSED"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.procs = Processes()
        self.tmp = Path(tempfile.mkdtemp(prefix="lg-bench-"))
        self.redis: EmbeddedRedis | None = None
        self.use_wrk = wrk_available() and args.loadgen != "python"
        self.results: dict[str, dict[int, Result]] = {}
        self.c1_rounds: dict[str, Result] = {}
        self.observer: redis.Redis | None = None
        self.paired: dict[str, list[float]] = {}
        self.notes: list[str] = []
        self.gateway: subprocess.Popen[bytes] | None = None
        #: other work on the machine skews everything: recorded at start and end
        self.load_start = os.getloadavg()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log(self, text: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {text}", flush=True)

    # -- start-up -------------------------------------------------------------------------
    def start(self) -> None:
        self.redis = EmbeddedRedis(tcp_port=free_port()).start()
        self.redis_url = self.redis.url
        self.log(f"redis       {self.redis_url}")

        sim_port = free_port()
        self.sim_url = f"http://127.0.0.1:{sim_port}"
        sim_log = self.tmp / "simulator.log"
        sim = self.procs.spawn(
            "simulator",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "--app-dir",
                str(BENCH_DIR),
                "servers:cp_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(sim_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            log=sim_log,
            cwd=REPO_DIR,
        )
        self.sim_path = f"/Loyalty/{READ_MEMBER}/BalanceCheck"
        self.sim_headers = {"Authorization": f"Bearer {CP_TOKEN}"}
        wait_http(self.sim_url + self.sim_path, headers=self.sim_headers, proc=sim, log=sim_log)
        self.log(f"simulator   {self.sim_url} (CP Extender, uvicorn, 1 process)")

        self.nginx_url: str | None = None
        if shutil.which("nginx") and not self.args.no_nginx:
            root = self.tmp / "nginx"
            root.mkdir()
            port = free_port()
            conf = root / "nginx.conf"
            conf.write_text(nginx_conf(root, port=port, upstream_port=sim_port))
            nginx_log = root / "stdout.log"
            proc = self.procs.spawn(
                "nginx",
                ["nginx", "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf),
                 "-g", "daemon off;"],
                log=nginx_log,
            )  # fmt: skip
            self.nginx_url = f"http://127.0.0.1:{port}"
            wait_http(
                self.nginx_url + self.sim_path,
                headers=self.sim_headers,
                proc=proc,
                log=root / "error.log",
            )
            self.log(f"nginx       {self.nginx_url} -> simulator (1 worker, keepalive 64)")
        else:
            self.notes.append("nginx not installed (or --no-nginx): no nginx baseline")
            self.log("nginx       not used")

        floor_port = free_port()
        self.floor_url = f"http://127.0.0.1:{floor_port}"
        floor_log = self.tmp / "floor.log"
        serve_floor = (
            "from gateway import serving; from gateway.http_limits import uvicorn_options; "
            "from gateway.settings import ServerSettings; "
            f"serving.run('servers:floor_app', '127.0.0.1', {floor_port}, {self.args.workers}, "
            "factory=True, **uvicorn_options(ServerSettings()))"
        )
        floor = self.procs.spawn(
            "floor",
            [sys.executable, "-c", serve_floor],
            log=floor_log,
            env={
                **os.environ,
                "PYTHONPATH": str(BENCH_DIR),
                "BENCH_FLOOR_UPSTREAM": self.sim_url,
            },
            cwd=REPO_DIR,
        )
        wait_http(self.floor_url + "/", proc=floor, log=floor_log, timeout=60)
        self.log(
            f"Python hop  {self.floor_url} -> simulator (gateway.serving, {self.args.workers} "
            "workers, the gateway's upstream transport, nothing else)"
        )

        gw_port = free_port()
        self.gw_url = f"http://127.0.0.1:{gw_port}"
        config = self.tmp / "gateway.yaml"
        config.write_text(
            gateway_yaml(
                port=gw_port,
                workers=self.args.workers,
                redis_url=self.redis_url,
                prefix="bench-" + uuid.uuid4().hex[:8],
                cp_url=self.sim_url,
            )
        )
        metrics_dir = self.tmp / "metrics"
        metrics_dir.mkdir()
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        gw_log = self.tmp / "gateway.log"
        self.gateway = self.procs.spawn(
            "gateway",
            [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
            log=gw_log,
            env=env,
            cwd=REPO_DIR,
        )
        wait_http(self.gw_url + "/readyz", proc=self.gateway, log=gw_log, timeout=60)
        self.gw_headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        self.balance_url = f"{self.gw_url}/v1/programs/cafe-rewards/members/{READ_MEMBER}/balance"
        # one warm-up read: the next ones are Redis hits
        answer = httpx.get(self.balance_url, headers=self.gw_headers, timeout=10)
        answer.raise_for_status()
        self.log(
            f"gateway     {self.gw_url} (gateway serve, {self.args.workers} workers, "
            f"logging warning); warm-up read: {answer.headers.get('cache-status')}"
        )
        self.rss_at_start = rss_kib(process_tree(self.gateway.pid))

    # -- load -------------------------------------------------------------------------------
    def loads(self) -> dict[str, Load | None]:
        earn_url = f"{self.gw_url}/v1/programs/cafe-rewards/members/{EARN_MEMBER}/earn"
        return {
            "a. simulator direct": Load(self.sim_url + self.sim_path, headers=self.sim_headers),
            "b. nginx -> simulator": (
                Load(self.nginx_url + self.sim_path, headers=self.sim_headers)
                if self.nginx_url
                else None
            ),
            FLOOR: Load(self.floor_url + "/"),
            "c. gateway /healthz": Load(self.gw_url + "/healthz"),
            "d. gateway cached balance": Load(self.balance_url, headers=self.gw_headers),
            "e. gateway uncached balance": Load(
                self.balance_url,
                headers={**self.gw_headers, "Cache-Control": "no-cache"},
                count_statuses=True,
            ),
            "e2. uncached, 1000 members": Load(
                self.balance_url,
                headers={**self.gw_headers, "Cache-Control": "no-cache"},
                rotating_path=(
                    "/v1/programs/cafe-rewards/members/",
                    POOL_FIRST,
                    POOL_SIZE,
                    "/balance",
                ),
                count_statuses=True,
            ),
            "f. gateway earn (Idempotency-Key)": Load(
                earn_url,
                method="POST",
                headers={**self.gw_headers, "Content-Type": "application/json"},
                body='{"points": 1, "reason": "bench"}',
                unique_key_header="Idempotency-Key",
                key_prefix="bench-" + uuid.uuid4().hex[:8],
                count_statuses=True,
            ),
        }

    def drive(
        self, name: str, load: Load, concurrency: int, seconds: float, limit: int = 0
    ) -> Result:
        if self.use_wrk:
            threads = 1 if concurrency == 1 else self.args.wrk_threads
            return run_wrk(
                name,
                load,
                concurrency=concurrency,
                seconds=seconds,
                workdir=self.tmp,
                threads=threads,
                limit=limit,
                procs=self.procs,
            )
        return run_python(name, load, concurrency=concurrency, seconds=seconds, limit=limit)

    def measure(self) -> None:
        seconds, warmup = self.args.seconds, self.args.warmup
        loads = self.loads()
        # The two baselines differ by tens of microseconds at c=1, less than the drift
        # between two runs on a 2-core machine: measure them, and the gateway's pass-through
        # read the latency ratio compares with them, in alternating 1 s rounds and keep the
        # median of each (below). Everything else: warm-up, c=1, c=32.
        baselines = [n for n in ("a. simulator direct", "b. nginx -> simulator", FLOOR) if loads[n]]
        interleaved = [*baselines, PASS_THROUGH]
        for name in interleaved:
            load = loads[name]
            assert load is not None
            if warmup:
                self.drive(name, load, 32, warmup)
        rounds: dict[str, list[Result]] = {name: [] for name in interleaved}
        for _ in range(max(2, round(seconds))):
            for name in interleaved:
                load = loads[name]
                assert load is not None
                rounds[name].append(self.drive(name, load, 1, 1))
        self.c1_rounds = {name: combine(results) for name, results in rounds.items()}
        for name in baselines:
            self.record(name, self.c1_rounds[name])
            load = loads[name]
            assert load is not None
            self.record(name, self.drive(name, load, 32, seconds))
        for name, load in loads.items():
            if load is None or name in baselines:
                continue
            if warmup:
                self.drive(name, load, 32, warmup)
            for concurrency in (1, 32):
                before = self.upstream_calls()
                workers = self.workers()
                cpu_before = [cpu_seconds(p) for p in workers]
                redis_before = self.redis_calls()
                result = self.drive(name, load, concurrency, seconds)
                redis_calls = self.redis_calls() - redis_before
                result.worker_cpu_seconds = [
                    round(cpu_seconds(p) - b, 2) for p, b in zip(workers, cpu_before, strict=True)
                ]
                calls = self.upstream_calls() - before
                if result.requests:
                    result.upstream_per_request = round(calls / result.requests, 3)
                    cpu = sum(result.worker_cpu_seconds)
                    result.cpu_us_per_request = round(cpu / result.requests * 1e6, 1)
                    result.redis_per_request = round(redis_calls / result.requests, 3)
                self.record(name, result)

    def paired_rounds(self) -> None:
        """Each c=32 throughput ratio again, from alternating 1 s rounds of its two targets.

        The machine's speed drifts by tens of percent within a run (other tenants, CPU
        frequency), so two targets measured a minute apart can differ for reasons of their
        own. The median of the per-round ratios is what the verdict uses; the ratio of the
        table's rows is printed beside it.
        """
        loads = self.loads()
        for key, (numerator, denominator) in PAIRED.items():
            top, bottom = loads[numerator], loads[denominator]
            if top is None or bottom is None:
                continue
            ratios = []
            for _ in range(self.args.rounds):
                over = self.drive(numerator, top, 32, 1).rps
                under = self.drive(denominator, bottom, 32, 1).rps
                if under > 0:
                    ratios.append(round(over / under, 3))
            if ratios:
                self.paired[key] = ratios
                self.log(f"{key}: per-round ratios {ratios}, median {statistics.median(ratios)}")

    def commandstats(self) -> Counter[str]:
        """Calls per Redis command so far (INFO commandstats), the asking INFO included.

        One connection for the whole run: a new one would add its own set-up commands
        (``CLIENT SETINFO``) to the counts."""
        if self.observer is None:
            self.observer = redis.Redis.from_url(self.redis_url)
        stats = self.observer.info("commandstats")
        return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})

    def redis_calls(self) -> int:
        """Commands Redis has run so far, without the INFO calls that ask."""
        stats = self.commandstats()
        return sum(stats.values()) - stats["info"]

    def upstream_calls(self) -> float:
        """Calls to the provider so far, all workers (loyalty_gateway_upstream_calls_total)."""
        text = httpx.get(self.gw_url + "/metrics", timeout=10).text
        return sum(
            float(line.rpartition(" ")[2])
            for line in text.splitlines()
            if line.startswith("loyalty_gateway_upstream_calls_total{")
        )

    def record(self, name: str, result: Result) -> None:
        self.results.setdefault(name, {})[result.concurrency] = result
        self.log(
            f"{name:<34} c={result.concurrency:<3} {result.rps:9.1f} rps  "
            f"p50 {result.p50_ms:7.3f} ms  p99 {result.p99_ms:7.2f} ms"
            + (
                f"  upstream calls/request {result.upstream_per_request:.2f}"
                if result.upstream_per_request is not None
                else ""
            )
            + (
                f"  worker CPU s {'/'.join(f'{x:.1f}' for x in result.worker_cpu_seconds)}"
                if result.worker_cpu_seconds
                else ""
            )
            + (
                f"  errors {result.errors} non-2xx {result.non_2xx} {result.non_2xx_statuses}"
                if result.errors or result.non_2xx
                else ""
            )
        )

    def diagnose(self) -> None:
        """Name a known cause when the numbers show its signature."""
        lopsided = [
            f"{name} ({'/'.join(f'{x:.1f}' for x in res.worker_cpu_seconds)} CPU s)"
            for name, by_c in self.results.items()
            for c, res in by_c.items()
            if c == 32
            and res.worker_cpu_seconds
            and len(res.worker_cpu_seconds) > 1
            and max(res.worker_cpu_seconds) > 0.8 * sum(res.worker_cpu_seconds)
        ]
        if lopsided:
            self.notes.append(
                "at c=32 one worker did more than 80 % of the work in: "
                + ", ".join(lopsided)
                + " (all keep-alive connections accepted by one worker's event loop)"
            )
        bare = self.results.get("c. gateway /healthz", {}).get(1)
        direct = self.results.get("a. simulator direct", {}).get(1)
        if bare and direct and 35 <= bare.p50_ms <= 50 and direct.p50_ms < 5:
            self.notes.append(
                f"every gateway request at c=1 takes ~{bare.p50_ms:.0f} ms, even /healthz, "
                "while a new connection answers in ~1 ms: Nagle's algorithm against the "
                "client's delayed ACK (uvicorn --workers N leaves TCP_NODELAY off on "
                "accepted sockets, Kludex/uvicorn#3149); try --workers 1 to compare"
            )

    def redis_commands(self) -> dict[str, Any]:
        """Redis commands per cached read: INFO commandstats around a fixed number of reads."""
        count = self.args.redis_reads
        snapshot = self.commandstats
        httpx.get(self.balance_url, headers=self.gw_headers, timeout=10).raise_for_status()
        # requests queued in the gateway when the last load stopped still finish (their
        # EVALSHA/DEL...): wait until Redis is quiet before taking the first snapshot
        before, quiet_until = snapshot(), time.monotonic() + 5
        while time.monotonic() < quiet_until:
            time.sleep(0.5)
            again = snapshot()
            again["info"] = before["info"]
            if again == before:
                break
            before = snapshot()
        misses = asyncio.run(cached_reads(self.balance_url, self.gw_headers, count))
        after = snapshot()
        delta = after - before
        delta.pop("info", None)  # our own INFO calls
        total = sum(delta.values())
        per_read = total / count
        self.log(
            f"redis: {total} commands for {count} cached reads = {per_read:.2f} per read "
            f"({dict(delta)}), {misses} not served from cache"
        )
        return {
            "reads": count,
            "commands": total,
            "per_read": round(per_read, 3),
            "by_command": dict(delta),
            "reads_not_from_cache": misses,
        }

    def rss_growth(self) -> dict[str, Any]:
        assert self.gateway is not None
        cached = self.results["d. gateway cached balance"][32]
        wanted = self.args.rss_requests
        # whatever time is left of the budget, less a margin for the rest and the teardown
        available = self.args.budget - self.elapsed() - 12
        fits = int(cached.rps * 0.9 * max(0.0, available))
        count = min(wanted, fits)
        note = ""
        if count < wanted:
            note = (
                f"{wanted} requests do not fit the {self.args.budget:.0f} s budget at "
                f"{cached.rps:.0f} rps: measured over {count} instead"
            )
            self.notes.append(note)
        if count < 1000:
            self.notes.append("no time left for the RSS check")
            return {"requests": 0, "note": "skipped: no time left"}
        pids = process_tree(self.gateway.pid)
        before = rss_kib(pids)
        load = self.loads()["d. gateway cached balance"]
        assert load is not None
        profilers = self._start_profiler(count / max(cached.rps, 1.0))
        self.log(f"RSS check: {count} cached reads at c=32 over {len(pids)} gateway processes")
        result = self.drive("RSS run (cached balance)", load, 32, available, limit=count)
        if profilers:
            self._finish_profiler(profilers)
        after = rss_kib(process_tree(self.gateway.pid))
        growth = (after - before) / before * 100
        self.log(
            f"RSS: {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB ({growth:+.2f} %) after "
            f"{result.requests} requests ({result.rps:.0f} rps, non-2xx {result.non_2xx})"
        )
        return {
            "requests_wanted": wanted,
            "requests": result.requests,
            "rps": result.rps,
            "non_2xx": result.non_2xx,
            "errors": result.errors,
            "processes": len(pids),
            "rss_at_start_kib": self.rss_at_start,
            "rss_before_kib": before,
            "rss_after_kib": after,
            "growth_pct": round(growth, 3),
            "note": note,
        }

    # -- optional py-spy profile of one worker during the cached-read run ---------------
    def _start_profiler(self, expected_seconds: float) -> list[subprocess.Popen[bytes]]:
        """py-spy on every worker (connections may all land on one of them)."""
        if not self.args.profile:
            return []
        spy = shutil.which("py-spy")
        if spy is None:
            self.notes.append("--profile: py-spy not found (uv run --with py-spy ...)")
            return []
        seconds = max(2, min(int(self.args.profile), int(expected_seconds) - 1))
        out_dir = BENCH_DIR / "results"
        out_dir.mkdir(exist_ok=True)
        spies = []
        for pid in self.workers():
            argv = [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "250", "-f", "raw"]
            argv += ["-o", str(out_dir / f"profile-worker-{pid}.txt"), "--nonblocking"]
            spies.append(self.procs.spawn("py-spy", argv, log=self.tmp / f"py-spy-{pid}.log"))
        return spies

    def _finish_profiler(self, spies: list[subprocess.Popen[bytes]]) -> None:
        for proc in spies:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        out_dir = BENCH_DIR / "results"
        files = sorted(out_dir.glob("profile-worker-*.txt"))
        if not files:
            self.notes.append("py-spy produced no profile")
            return
        # keep the busiest worker's profile (most samples) as profile-cached-balance.txt
        busiest = max(files, key=lambda f: profile_samples(f))
        final = out_dir / "profile-cached-balance.txt"
        busiest.replace(final)
        for other in files:
            other.unlink(missing_ok=True)
        self.log(f"py-spy profile of the busiest worker: {final}")
        print(summarize_profile(final), flush=True)

    def workers(self) -> list[int]:
        """The gateway processes that serve requests (uvicorn's spawned workers, or the
        process itself with --workers 1)."""
        assert self.gateway is not None
        found = [p for p in process_tree(self.gateway.pid) if "spawn_main" in cmdline(p)]
        return found or [self.gateway.pid]

    # -- report -----------------------------------------------------------------------------
    def ratios(self, redis_stats: dict[str, Any], rss: dict[str, Any]) -> dict[str, Any]:
        r = self.results

        def get(name: str, c: int) -> Result | None:
            return r.get(name, {}).get(c)

        direct1 = self.c1_rounds.get("a. simulator direct")
        nginx1 = self.c1_rounds.get("b. nginx -> simulator")
        nginx32 = get("b. nginx -> simulator", 32)
        bare32, cached32 = get("c. gateway /healthz", 32), get("d. gateway cached balance", 32)
        bare1, cached1 = get("c. gateway /healthz", 1), get("d. gateway cached balance", 1)
        unc1 = self.c1_rounds.get(PASS_THROUGH)  # from the rounds interleaved with a and b
        unc32 = get(PASS_THROUGH, 32)
        out: dict[str, Any] = {}
        out["cached_over_bare_rps_table"] = (
            cached32.rps / bare32.rps if cached32 and bare32 else None
        )
        out["cached_over_bare_rps"] = self._paired("cached_over_bare_rps")
        out["cached_over_bare_rps_c1"] = cached1.rps / bare1.rps if cached1 and bare1 else None
        gw_added = unc1.p50_ms - direct1.p50_ms if unc1 and direct1 else None
        ng_added = nginx1.p50_ms - direct1.p50_ms if nginx1 and direct1 else None
        out["passthrough_added_p50_ms"] = gw_added
        out["nginx_added_p50_ms"] = ng_added
        if ng_added is not None and ng_added < NGINX_ADDED_FLOOR_MS:
            self.notes.append(
                f"nginx added {ng_added * 1000:.0f} us at c=1 (within noise): the latency "
                f"ratio divides by {NGINX_ADDED_FLOOR_MS * 1000:.0f} us instead"
            )
        out["passthrough_added_latency_vs_nginx"] = (
            gw_added / max(ng_added, NGINX_ADDED_FLOOR_MS)
            if gw_added is not None and ng_added is not None
            else None
        )
        # e2 makes one upstream call per request; e (one member) at c=32 is mostly merged
        # by the gateway's single flight, so it is reported but not judged
        spread32 = get("e2. uncached, 1000 members", 32)
        out["passthrough_over_nginx_rps_table"] = (
            spread32.rps / nginx32.rps if spread32 and nginx32 else None
        )
        out["passthrough_over_nginx_rps"] = self._paired("passthrough_over_nginx_rps")
        out["uncached_one_member_over_nginx_rps"] = (
            unc32.rps / nginx32.rps if unc32 and nginx32 else None
        )
        floor1 = self.c1_rounds.get(FLOOR)
        floor_added = floor1.p50_ms - direct1.p50_ms if floor1 and direct1 else None
        out["floor_added_p50_ms"] = floor_added
        out["passthrough_added_latency_vs_floor"] = (
            gw_added / max(floor_added, NGINX_ADDED_FLOOR_MS)
            if gw_added is not None and floor_added is not None
            else None
        )
        floor32 = get(FLOOR, 32)
        out["passthrough_over_floor_rps_table"] = (
            spread32.rps / floor32.rps if spread32 and floor32 else None
        )
        out["passthrough_over_floor_rps"] = self._paired("passthrough_over_floor_rps")
        earn32 = get("f. gateway earn (Idempotency-Key)", 32)
        out["earn_cpu_over_passthrough_cpu"] = (
            earn32.cpu_us_per_request / spread32.cpu_us_per_request
            if earn32 and spread32 and earn32.cpu_us_per_request and spread32.cpu_us_per_request
            else None
        )
        out["redis_commands_per_cached_read"] = redis_stats.get("per_read")
        out["rss_growth_pct"] = rss.get("growth_pct")
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}

    def _paired(self, key: str) -> float | None:
        rounds = self.paired.get(key)
        return statistics.median(rounds) if rounds else None

    def report(self, redis_stats: dict[str, Any], rss: dict[str, Any]) -> dict[str, Any]:
        generator = (
            f"wrk ({tool_version(['wrk', '--version'])})"
            if self.use_wrk
            else "python asyncio (raw HTTP/1.1, keep-alive)"
        )
        print()
        print(f"Load generator: {generator}")
        header = (
            f"{'target':<36}{'c':>4}{'rps':>11}{'p50 ms':>10}{'p99 ms':>10}{'err/non2xx':>12}"
            f"{'upstream/req':>14}{'gw CPU us/req':>15}{'redis/req':>11}"
        )
        print(header)
        print("-" * len(header))
        for name, by_c in self.results.items():
            for c, res in sorted(by_c.items()):
                print(
                    f"{name:<36}{c:>4}{res.rps:>11.1f}{res.p50_ms:>10.2f}{res.p99_ms:>10.2f}"
                    f"{f'{res.errors}/{res.non_2xx}':>12}"
                    + (
                        f"{res.upstream_per_request:>14.2f}{res.cpu_us_per_request or 0:>15.0f}"
                        f"{res.redis_per_request or 0:>11.2f}"
                        if res.upstream_per_request is not None
                        else ""
                    )
                )
        ratios = self.ratios(redis_stats, rss)
        print()
        print(f"{'ratio':<52}{'value':>8}  {'target':<8}verdict")
        for key, (label, op, target) in TARGETS.items():
            value = ratios.get(key)
            goal = f"{op} {target}"
            print(f"{label:<52}{fmt_ratio(value):>8}  {goal:<8}{verdict(key, value)}")
        print(
            f"  (pass-through added p50 {fmt_ratio(ratios['passthrough_added_p50_ms'])} ms vs "
            f"nginx added p50 {fmt_ratio(ratios['nginx_added_p50_ms'])} ms vs the Python hop's "
            f"{fmt_ratio(ratios['floor_added_p50_ms'])} ms; cached/bare at c=1: "
            f"{fmt_ratio(ratios['cached_over_bare_rps_c1'])}; uncached one-member rps / nginx "
            f"at c=32: {fmt_ratio(ratios['uncached_one_member_over_nginx_rps'])})"
        )
        print(
            f"  (c=32 ratios are medians of {self.args.rounds} alternating 1 s rounds; from the "
            f"table's rows: cached/bare {fmt_ratio(ratios['cached_over_bare_rps_table'])}, "
            f"pass-through/nginx {fmt_ratio(ratios['passthrough_over_nginx_rps_table'])}, "
            f"pass-through/Python hop {fmt_ratio(ratios['passthrough_over_floor_rps_table'])})"
        )
        for note in self.notes:
            print(f"note: {note}")
        return {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
            "machine": {
                "nproc": os.cpu_count(),
                "cpu": cpu_model(),
                "python": python_version(),
                "platform": platform.platform(),
                "nginx": tool_version(["nginx", "-v"]) if self.nginx_url else None,
            },
            "load_generator": generator,
            "settings": {
                "gateway_workers": self.args.workers,
                "seconds_per_run": self.args.seconds,
                "warmup_seconds": self.args.warmup,
                "wrk_threads_at_c32": self.args.wrk_threads if self.use_wrk else None,
                "quick": self.args.quick,
            },
            "load_average": {"start": self.load_start, "end": os.getloadavg()},
            "results": [res.as_dict() for by_c in self.results.values() for res in by_c.values()],
            "ratios": ratios,
            "paired_rounds": self.paired,
            "c1_rounds": {name: res.as_dict() for name, res in self.c1_rounds.items()},
            "targets": {
                key: {
                    "label": label,
                    "target": f"{op} {target}",
                    "value": ratios.get(key),
                    "verdict": verdict(key, ratios.get(key)),
                }
                for key, (label, op, target) in TARGETS.items()
            },
            "redis": redis_stats,
            "rss": rss,
            "notes": self.notes,
            "duration_seconds": round(self.elapsed(), 1),
        }

    def stop(self) -> None:
        shield_cleanup()
        if self.observer is not None:
            self.observer.close()
        self.procs.stop_all()
        if self.redis is not None:
            self.redis.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def combine(rounds: list[Result]) -> Result:
    """Several short runs as one: summed counts, median p50 and p99 of the rounds."""
    requests = sum(r.requests for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    first = rounds[0]
    return Result(
        name=first.name,
        concurrency=first.concurrency,
        requests=requests,
        seconds=round(seconds, 3),
        rps=round(requests / seconds, 1),
        p50_ms=round(statistics.median(r.p50_ms for r in rounds), 3),
        p99_ms=round(statistics.median(r.p99_ms for r in rounds), 3),
        errors=sum(r.errors for r in rounds),
        non_2xx=sum(r.non_2xx for r in rounds),
        generator=first.generator,
        distribution_ms={"rounds_p50_ms": [r.p50_ms for r in rounds]},
    )


async def cached_reads(url: str, headers: dict[str, str], count: int, concurrency: int = 16) -> int:
    """``count`` balance reads, ``concurrency`` at a time; returns how many were not hits."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    remaining, misses = count, 0
    async with httpx.AsyncClient(headers=headers, timeout=10, limits=limits) as http:

        async def worker() -> None:
            nonlocal remaining, misses
            while remaining > 0:
                remaining -= 1
                answer = await http.get(url)
                answer.raise_for_status()
                if "hit" not in answer.headers.get("cache-status", ""):
                    misses += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return misses


def profile_samples(path: Path) -> int:
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        count = line.rpartition(" ")[2]
        total += int(count) if count.isdigit() else 0
    return total


def summarize_profile(path: Path, top: int = 25) -> str:
    """Self and inclusive sample shares from py-spy's raw (collapsed stack) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "(empty profile)"
    lines = [f"py-spy: {total} samples; top self time:"]
    lines += [f"  {n / total * 100:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("top inclusive time:")
    lines += [f"  {n / total * 100:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, 20k-request RSS check")
    parser.add_argument("--workers", type=int, default=2, help="gateway workers (default 2)")
    parser.add_argument("--seconds", type=float, help="seconds per measured run (default 4)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per target (default 1)")
    parser.add_argument("--rss-requests", type=int, help="cached reads for the RSS check")
    parser.add_argument("--redis-reads", type=int, default=1000, help="reads for commandstats")
    parser.add_argument(
        "--rounds", type=int, help="alternating 1 s rounds per c=32 ratio (default 5, quick 3)"
    )
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads at c=32")
    parser.add_argument("--budget", type=float, default=170.0, help="seconds for the whole run")
    parser.add_argument("--loadgen", choices=["auto", "python"], default="auto")
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument(
        "--profile", type=float, default=0, help="py-spy a worker for N s of the RSS run"
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "latest.json")
    args = parser.parse_args()
    args.seconds = args.seconds or (2.0 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else 1.0
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.rss_requests = args.rss_requests or (20_000 if args.quick else 100_000)

    install_sigterm_as_interrupt()
    bench = Bench(args)
    try:
        bench.log(
            f"nproc {os.cpu_count()}, python {python_version()}, {cpu_model()}, "
            f"load average {' '.join(f'{x:.2f}' for x in bench.load_start)}"
        )
        if bench.load_start[0] > 1.0:
            bench.notes.append(
                f"the machine was busy at start (load average {bench.load_start[0]:.2f}): "
                "numbers are lower and noisier than on an idle machine"
            )
        bench.start()
        bench.measure()
        bench.paired_rounds()
        bench.diagnose()
        redis_stats = bench.redis_commands()
        rss = bench.rss_growth()
        report = bench.report(redis_stats, rss)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output} ({bench.elapsed():.0f} s so far)")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything", file=sys.stderr)
        return 130
    finally:
        bench.stop()
        print(f"stopped all benchmark processes; total {bench.elapsed():.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
