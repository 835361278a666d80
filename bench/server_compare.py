"""Which ASGI server runs the gateway: throughput and the connection limits each one enforces.

Serves the same app (``gateway.asgi:app``, one worker, one CP Extender program, embedded Redis)
under each server in turn, then:

* drives ``GET /healthz`` and a cached balance read with wrk at c=32, in alternating rounds
  (the machine drifts by more than the differences judged), and reports each server's median
  requests per second as a ratio to ``gateway serve`` measured in the same run;
* probes, on raw sockets and all at once, what each server does with a connection that sends
  nothing, headers that never finish, a body that trickles, an idle keep-alive connection, a
  32 MB header and 20,000 headers.

The alternatives are not dependencies of the project; run them beside it with::

    uv run --with granian --with hypercorn python bench/server_compare.py

A server that is not installed is reported as such and skipped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN  # noqa: E402
from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.sandbox.world import DEMO_API_KEY  # noqa: E402

from benchlib import Load, Processes, free_port, run_wrk, wait_http  # noqa: E402
from run import gateway_yaml  # noqa: E402
from servers import READ_MEMBER  # noqa: E402

#: the limits every server is asked for (where it has a setting): the gateway's defaults
HEADER_TIMEOUT_S = 10
BODY_TIMEOUT_S = 10
KEEP_ALIVE_S = 5
SERVER_LIMITS_YAML = (
    f"  header_timeout_seconds: {HEADER_TIMEOUT_S}\n"
    f"  body_timeout_seconds: {BODY_TIMEOUT_S}\n"
    f"  keep_alive_seconds: {KEEP_ALIVE_S}\n"
)
#: a probe that is still open after this long counts as "never closed"
PROBE_WAIT_S = 25.0


def servers(port: int, config: Path) -> dict[str, tuple[str | None, list[str]]]:
    """name -> (module that must be importable, argv)."""
    py = sys.executable
    host = ["127.0.0.1"]
    return {
        "gateway serve (uvicorn)": (
            None,
            [py, "-m", "gateway", "serve", "--config", str(config), "--workers", "1"],
        ),
        "uvicorn, stock": (
            None,
            [py, "-m", "uvicorn", "--loop", "uvloop", "--http", "httptools", "--host", *host,
             "--port", str(port), "--log-level", "warning", "--no-access-log",
             "--timeout-keep-alive", str(KEEP_ALIVE_S), "gateway.asgi:app"],
        ),
        "granian": (
            "granian",
            [py, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--workers", "1",
             "--http", "1", "--host", *host, "--port", str(port), "--log-level", "warning",
             "--no-access-log", "--http1-header-read-timeout", str(HEADER_TIMEOUT_S * 1000),
             "gateway.asgi:app"],
        ),
        "hypercorn": (
            "hypercorn",
            [py, "-m", "hypercorn", "-w", "1", "-k", "uvloop", "--bind", f"127.0.0.1:{port}",
             "--keep-alive", str(KEEP_ALIVE_S), "--read-timeout", str(HEADER_TIMEOUT_S),
             "--log-level", "warning", "gateway.asgi:app"],
        ),
    }  # fmt: skip


# -- probes -------------------------------------------------------------------------------------
def _closed_after(sock: socket.socket, started: float, send: Callable[[int], bytes | None]) -> str:
    """Keep calling ``send(i)`` every 0.5 s until the server closes; how long that took."""
    sock.settimeout(0.5)
    i = 0
    while time.monotonic() - started < PROBE_WAIT_S:
        chunk = send(i)
        i += 1
        try:
            if chunk:
                sock.sendall(chunk)
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return f"closed after {time.monotonic() - started:.1f} s (reset)"
        status = data.split(b" ", 2)[1].decode(errors="replace") if data[:5] == b"HTTP/" else ""
        return f"closed after {time.monotonic() - started:.1f} s" + (
            f" ({status})" if status else ""
        )
    return f"open after {PROBE_WAIT_S:.0f} s"


def probe_silent(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        return _closed_after(sock, time.monotonic(), lambda i: None)


def probe_header_trickle(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n")
        return _closed_after(sock, time.monotonic(), lambda i: b"X-%d: v\r\n" % i)


def probe_body_trickle(port: int) -> str:
    head = (
        f"POST /v1/programs/cafe-rewards/members/{READ_MEMBER}/earn HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {DEMO_API_KEY}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head.encode())
        return _closed_after(sock, time.monotonic(), lambda i: b" ")


def probe_idle_keep_alive(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
        sock.settimeout(5)
        data = b""
        while True:  # the whole answer: its head, then Content-Length bytes of body
            data += sock.recv(65536)
            head, sep, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            if sep and len(body) >= (int(length.group(1)) if length else 0):
                break
        return _closed_after(sock, time.monotonic(), lambda i: None)


def _status_of(request: bytes, port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(request)
            data = sock.recv(65536)
        except OSError as exc:
            return f"connection error ({type(exc).__name__})"
    if not data:
        return "closed, no answer"
    return data.split(b"\r\n", 1)[0].decode(errors="replace").removeprefix("HTTP/1.1 ")


def probe_huge_header(port: int) -> str:
    big = b"X-Big: " + b"a" * (32 * 1024 * 1024) + b"\r\n"
    return _status_of(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n" + big + b"\r\n", port)


def probe_many_headers(port: int) -> str:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(20_000))
    return _status_of(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n" + many + b"\r\n", port)


PROBES: dict[str, Callable[[int], str]] = {
    "silent connection": probe_silent,
    "headers never finish": probe_header_trickle,
    "body trickles (1 B / 0.5 s)": probe_body_trickle,
    "idle keep-alive": probe_idle_keep_alive,
    "32 MB header": probe_huge_header,
    "20,000 headers": probe_many_headers,
}


def run_probes(port: int) -> dict[str, str]:
    with concurrent.futures.ThreadPoolExecutor(len(PROBES)) as pool:
        futures = {name: pool.submit(fn, port) for name, fn in PROBES.items()}
        out = {}
        for name, future in futures.items():
            try:
                out[name] = future.result()
            except OSError as exc:
                out[name] = f"error {type(exc).__name__}: {exc}"
        return out


# -- the run ------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per target")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--no-probes", action="store_true")
    parser.add_argument(
        "--only", action="append", help="serve only this server (repeatable; by its name)"
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "servers.json")
    args = parser.parse_args()

    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="lg-servers-"))
    redis = EmbeddedRedis(tcp_port=free_port()).start()
    report: dict[str, Any] = {"servers": {}, "skipped": {}}
    try:
        sim_port = free_port()
        sim = procs.spawn(
            "simulator",
            [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(BENCH_DIR),
             "servers:cp_app", "--host", "127.0.0.1", "--port", str(sim_port),
             "--log-level", "warning", "--no-access-log"],
            log=tmp / "sim.log", cwd=REPO_DIR,
        )  # fmt: skip
        sim_url = f"http://127.0.0.1:{sim_port}"
        wait_http(
            f"{sim_url}/Loyalty/{READ_MEMBER}/BalanceCheck",
            headers={"Authorization": f"Bearer {CP_TOKEN}"},
            proc=sim,
        )
        #: the servers started, in start order: name -> port
        port_of: dict[str, int] = {}
        for name in servers(0, tmp):
            if args.only and name not in args.only:
                continue
            port = free_port()
            config = tmp / f"gateway-{port}.yaml"
            yaml = gateway_yaml(
                port=port,
                workers=1,
                redis_url=redis.url,
                prefix="srv-" + uuid.uuid4().hex[:8],
                cp_url=sim_url,
            )
            config.write_text(yaml.replace("server:\n", "server:\n" + SERVER_LIMITS_YAML, 1))
            module, argv = servers(port, config)[name]
            if module and importlib.util.find_spec(module) is None:
                report["skipped"][name] = f"{module} is not installed"
                continue
            env = {**os.environ, "GATEWAY_CONFIG": str(config)}
            log = tmp / f"{module or 'gateway'}.log"
            proc = procs.spawn(name, argv, log=log, env=env, cwd=REPO_DIR)
            wait_http(f"http://127.0.0.1:{port}/readyz", proc=proc, log=log, timeout=60)
            httpx.get(
                f"http://127.0.0.1:{port}/v1/programs/cafe-rewards/members/{READ_MEMBER}/balance",
                headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
            ).raise_for_status()
            port_of[name] = port
            print(f"started {name} on {port}", flush=True)

        auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        targets = {
            "bare route": ("/healthz", {}),
            "cached balance": (f"/v1/programs/cafe-rewards/members/{READ_MEMBER}/balance", auth),
        }
        rps: dict[str, dict[str, list[float]]] = {n: {t: [] for t in targets} for n in port_of}
        for _ in range(args.rounds):
            for target, (path, headers) in targets.items():
                for name in port_of:
                    load = Load(url=f"http://127.0.0.1:{port_of[name]}{path}", headers=headers)
                    result = run_wrk(
                        f"{name}-{target}", load, concurrency=32, seconds=args.seconds,
                        workdir=tmp, procs=procs,
                    )  # fmt: skip
                    if result.errors or result.non_2xx:
                        raise RuntimeError(f"{name} {target}: {result}")
                    rps[name][target].append(result.rps)
        base = next(iter(port_of))
        for name in port_of:
            entry: dict[str, Any] = {}
            for target in targets:
                median = statistics.median(rps[name][target])
                entry[target] = {
                    "rps_median": median,
                    "rounds": rps[name][target],
                    "ratio_to_" + base: round(median / statistics.median(rps[base][target]), 3),
                }
            if not args.no_probes:
                entry["probes"] = run_probes(port_of[name])
            report["servers"][name] = entry
    finally:
        procs.stop_all()
        redis.stop()

    for name, entry in report["servers"].items():
        print(f"\n{name}")
        for target in targets:
            t = entry[target]
            print(f"  {target:16} {t['rps_median']:9.0f} rps  ratio {t['ratio_to_' + base]:.2f}")
        for probe, outcome in entry.get("probes", {}).items():
            print(f"  {probe:30} {outcome}")
    for name, why in report["skipped"].items():
        print(f"\n{name}: skipped ({why})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
