"""The gateway's upstream HTTP client in isolation: httpx vs httpx+aiohttp transport vs aiohttp.

    uv run --with httpx-aiohttp python bench/transport_compare.py [--quick] [--requests N]

``httpx-aiohttp`` (and with it aiohttp) is installed only into uv's throwaway environment by
``--with``; without it the script measures what it can and says what it skipped.

Starts the CP Extender simulator in its own uvicorn process, then makes N GETs of
``/Loyalty/<id>/BalanceCheck`` (with the bearer token, as the gateway does) at concurrency 1
and 32 with each client, in alternating rounds so drift hits all of them alike. It reports
requests per second, p50/p99 latency and the client process's CPU time per request — the
cost the gateway worker itself pays per upstream call, which matters most when the
simulator (one process) is the limit at c=32. Writes bench/results/transport.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN

from benchlib import (
    BENCH_DIR,
    REPO_DIR,
    Processes,
    free_port,
    install_sigterm_as_interrupt,
    percentile,
    python_version,
    wait_http,
)
from servers import READ_MEMBER

Get = Callable[[], Awaitable[int]]
PATH = f"/Loyalty/{READ_MEMBER}/BalanceCheck"
HEADERS = {"Authorization": f"Bearer {CP_TOKEN}"}
#: what gateway/connectors/http.py gives every program's client
LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)
TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class Client:
    """One client under test: ``get()`` makes one request and returns its status."""

    def __init__(self, name: str, get: Get, close: Callable[[], Awaitable[None]]) -> None:
        self.name, self.get, self.close = name, get, close


async def make_clients(base: str) -> tuple[list[Client], list[str]]:
    clients: list[Client] = []
    skipped: list[str] = []

    plain = httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=TIMEOUT, limits=LIMITS)

    async def httpx_get() -> int:
        response = await plain.get(PATH)
        return response.status_code

    clients.append(Client("httpx (default transport)", httpx_get, plain.aclose))

    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        skipped.append("httpx + httpx_aiohttp transport (run with: uv run --with httpx-aiohttp)")
    else:
        # the client's limits do not reach a custom transport: give them to it
        bridged = httpx.AsyncClient(
            base_url=base,
            headers=HEADERS,
            timeout=TIMEOUT,
            transport=AiohttpTransport(limits=LIMITS),
        )

        async def bridged_get() -> int:
            response = await bridged.get(PATH)
            return response.status_code

        clients.append(Client("httpx + httpx_aiohttp transport", bridged_get, bridged.aclose))

    try:  # what gateway/connectors/http.py uses now, if it has one of its own
        from gateway.connectors.transport import UpstreamTransport
    except ImportError:
        skipped.append("gateway.connectors.transport.UpstreamTransport (not in this tree)")
    else:
        own = httpx.AsyncClient(
            base_url=base,
            headers=HEADERS,
            timeout=TIMEOUT,
            transport=UpstreamTransport(limits=LIMITS, trust_env=False),
        )

        async def own_get() -> int:
            response = await own.get(PATH)
            return response.status_code

        clients.append(Client("httpx + gateway UpstreamTransport", own_get, own.aclose))

        # how gateway/connectors/http.py calls it: no AsyncClient, no httpx.Request
        direct = UpstreamTransport(limits=LIMITS, trust_env=False)
        url = base + PATH
        header_items = list(HEADERS.items())

        async def direct_get() -> int:
            response = await direct.send(
                "GET", url, header_items, None, connect=2.0, read=5.0, pool=5.0
            )
            return response.status_code

        clients.append(Client("gateway UpstreamTransport.send", direct_get, direct.aclose))

    try:
        import aiohttp
    except ImportError:
        skipped.append("raw aiohttp (run with: uv run --with httpx-aiohttp)")
    else:
        session = aiohttp.ClientSession(
            base_url=base,
            headers=HEADERS,
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=5, connect=2),
        )

        async def aiohttp_get() -> int:
            async with session.get(PATH) as response:
                await response.read()
                return response.status

        clients.append(Client("raw aiohttp", aiohttp_get, session.close))
    return clients, skipped


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.errors = 0


async def run_batch(client: Client, count: int, concurrency: int, tally: Tally) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            try:
                status = await client.get()
            except Exception:
                tally.errors += 1
                continue
            tally.latencies.append(time.perf_counter() - t0)
            if status != 200:
                tally.errors += 1

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    tally.seconds += time.perf_counter() - wall
    tally.cpu_seconds += time.process_time() - cpu


async def measure(base: str, requests: int, rounds: int) -> dict[str, Any]:
    clients, skipped = await make_clients(base)
    tallies = {(c.name, conc): Tally() for c in clients for conc in (1, 32)}
    try:
        for client in clients:  # warm-up: connections open, code paths hot
            await run_batch(client, 300, 32, Tally())
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            for conc in (1, 32):
                for client in clients:
                    await run_batch(client, per_round, conc, tallies[(client.name, conc)])
    finally:
        for client in clients:
            await client.close()
    rows = []
    for (name, conc), tally in tallies.items():
        tally.latencies.sort()
        done = len(tally.latencies)
        rows.append(
            {
                "client": name,
                "concurrency": conc,
                "requests": done,
                "rps": round(done / tally.seconds, 1),
                "p50_ms": round(percentile(tally.latencies, 50) * 1000, 3),
                "p99_ms": round(percentile(tally.latencies, 99) * 1000, 3),
                "cpu_us_per_request": round(tally.cpu_seconds / max(done, 1) * 1e6, 1),
                "errors": tally.errors,
            }
        )
    return {"rows": rows, "skipped": skipped}


def pick_loop(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3000 requests per cell")
    parser.add_argument("--requests", type=int, help="requests per client and concurrency")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="auto: uvloop when installed, as uvicorn (and so the gateway) picks it",
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "transport.json")
    args = parser.parse_args()
    requests = args.requests or (3000 if args.quick else 9000)
    install_sigterm_as_interrupt()
    procs = Processes()
    started = time.monotonic()
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(f"/tmp/lg-bench-transport-sim-{port}.log")
        sim = procs.spawn(
            "simulator",
            [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(BENCH_DIR),
             "servers:cp_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            log=log,
            cwd=REPO_DIR,
        )  # fmt: skip
        wait_http(base + PATH, headers=HEADERS, proc=sim, log=log)
        print(f"simulator {base}; {requests} GETs per client and concurrency, {args.rounds} rounds")
        loop = pick_loop(args.loop)
        print(f"event loop: {loop}")
        if loop == "uvloop":
            import uvloop

            report = uvloop.run(measure(base, requests, args.rounds))
        else:
            report = asyncio.run(measure(base, requests, args.rounds))
        log.unlink(missing_ok=True)
    except KeyboardInterrupt:
        print("interrupted: stopping the simulator", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()

    rows = report["rows"]
    baseline = {r["concurrency"]: r for r in rows if r["client"].startswith("httpx (default")}
    print(f"\n{'client':<34}{'c':>4}{'rps':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}"
          f"{'rps vs httpx':>14}{'cpu vs httpx':>14}")  # fmt: skip
    for row in sorted(rows, key=lambda r: (r["concurrency"], r["client"])):
        base_row = baseline[row["concurrency"]]
        row["rps_vs_httpx"] = round(row["rps"] / base_row["rps"], 2)
        row["cpu_vs_httpx"] = round(row["cpu_us_per_request"] / base_row["cpu_us_per_request"], 2)
        print(
            f"{row['client']:<34}{row['concurrency']:>4}{row['rps']:>10.1f}{row['p50_ms']:>9.3f}"
            f"{row['p99_ms']:>9.2f}{row['cpu_us_per_request']:>12.1f}"
            f"{row['rps_vs_httpx']:>14.2f}{row['cpu_vs_httpx']:>14.2f}"
        )
    for item in report["skipped"]:
        print(f"skipped: {item}")
    versions = {}
    for module in ("httpx", "httpcore", "aiohttp", "httpx_aiohttp", "uvloop"):
        try:
            from importlib.metadata import version

            versions[module] = version(module.replace("_", "-"))
        except Exception:
            versions[module] = None
    report.update(
        {
            "requests_per_cell": requests,
            "rounds": args.rounds,
            "python": python_version(),
            "event_loop": loop,
            "versions": versions,
            "duration_seconds": round(time.monotonic() - started, 1),
        }
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output} in {report['duration_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
