"""Shared pieces of the benchmark scripts: child processes, load generation, /proc readings.

Everything here talks to 127.0.0.1 only, and every load run is bounded in time and (when
asked) in request count.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent


# -- ports, readiness -----------------------------------------------------------------------
def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``url`` until it answers 200; fail early when ``proc`` died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.05)


# -- child processes --------------------------------------------------------------------------
class Processes:
    """Children started in sessions of their own; :meth:`stop_all` ends each whole group.

    A new session keeps a terminal's Ctrl+C away from the children: the benchmark notices
    the interrupt and stops them itself, in reverse order of start.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        out: Any = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        finally:
            if log:
                out.close()
        self.items.append((name, proc))
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL to what is left after ``timeout``."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        # the leader may be gone while its children (e.g. uvicorn workers) linger
        deadline = time.monotonic() + timeout
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        shield_cleanup()
        while self.items:
            _, proc = self.items.pop()
            self.stop(proc)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # a group whose members are all zombies still "exists"; count only live members
    return any(_stat(pid)[1] == pgid and _stat(pid)[2] != "Z" for pid in _all_pids())


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _stat(pid: int) -> tuple[int, int, str]:
    """(ppid, pgid, state) from /proc/<pid>/stat; (-1, -1, '') when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1, -1, ""
    rest = raw[raw.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[2]), rest[0]


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/<pid>/stat (0 when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        ppid = _stat(pid)[0]
        if ppid > 0:
            children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kib(pids: Sequence[int]) -> int:
    """Sum of VmRSS over ``pids`` (kB as /proc/<pid>/status reports it)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def shield_cleanup() -> None:
    """Ignore further Ctrl+C / SIGTERM: the clean-up that follows is bounded and must finish
    (``uv run`` forwards the terminal's SIGINT, so the child sees it twice)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def install_sigterm_as_interrupt() -> None:
    """A SIGTERM to the benchmark unwinds like Ctrl+C, so its ``finally`` cleans up."""

    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, raise_interrupt)


# -- load generation ----------------------------------------------------------------------------
@dataclass
class Load:
    """One request shape; ``unique_key_header`` gets a fresh value on every request."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    unique_key_header: str | None = None
    key_prefix: str = "bench"
    #: (before, first, count, after): request n goes to f"{before}{first + n % count}{after}"
    #: (the URL's own path is then only used for the connection)
    rotating_path: tuple[str, int, int, str] | None = None
    #: have wrk tell non-2xx answers apart by status (parses every answer: costs wrk CPU)
    count_statuses: bool = False

    def path_for(self, n: int) -> str | None:
        if self.rotating_path is None:
            return None
        before, first, count, after = self.rotating_path
        return f"{before}{first + n % count}{after}"


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and timeouts
    non_2xx: int
    generator: str
    #: wrk --latency's distribution (50/75/90/99 %), as printed
    distribution_ms: dict[str, Any] = field(default_factory=dict)
    #: calls the gateway made to the provider per answered request (from its /metrics)
    upstream_per_request: float | None = None
    #: CPU seconds each gateway worker spent during the run (from /proc/<pid>/stat)
    worker_cpu_seconds: list[float] | None = None
    #: gateway CPU time per answered request (sum over workers), microseconds
    cpu_us_per_request: float | None = None
    #: status code -> count of the non-2xx answers (when the load counts them)
    non_2xx_statuses: dict[str, int] = field(default_factory=dict)
    #: Redis commands per answered request, all kinds (INFO commandstats around the run;
    #: commands still running from a previous load can add a little)
    redis_per_request: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk_script(load: Load, *, per_thread_limit: int = 0) -> str:
    """A wrk Lua script for ``load``: method, headers and body; optionally a fresh key per
    request (``request()``) and a stop after ``per_thread_limit`` answers (``response()``);
    ``done()`` prints one machine-readable line."""
    lines = [f"wrk.method = {_lua_string(load.method)}"]
    for name, value in load.headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if load.body is not None:
        lines.append(f"wrk.body = {_lua_string(load.body)}")
    lines.append(
        """
local nthreads = 0
local threads = {}
statuses = {}
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end
"""
    )
    if load.unique_key_header or load.rotating_path:
        key_line = path_line = ""
        if load.unique_key_header:
            name = _lua_string(load.unique_key_header)
            key_line = f'wrk.headers[{name}] = prefix .. "-" .. counter'
        if load.rotating_path:
            before, first, count, after = load.rotating_path
            path_line = (
                f"wrk.path = {_lua_string(before)} .. string.format('%d', {first} + "
                f"(counter + tid * 7919) % {count}) .. {_lua_string(after)}"
            )
        lines.append(
            f"""
local counter = 0
local prefix = {_lua_string(load.key_prefix + "-" + uuid.uuid4().hex[:12])}
function init(args)
  prefix = prefix .. "-" .. tostring(tid)
end
function request()
  counter = counter + 1
  {key_line}
  {path_line}
  return wrk.format(nil, wrk.path, wrk.headers, nil)
end
"""
        )
    if per_thread_limit or load.count_statuses:
        lines.append(
            f"""
local seen = 0
local limit = {per_thread_limit}
local count_statuses = {"true" if load.count_statuses else "false"}
function response(status, headers, body)
  if count_statuses and status >= 300 then
    statuses[status] = (statuses[status] or 0) + 1
  end
  seen = seen + 1
  if seen == limit then
    io.write("BENCH_LIMIT_REACHED\\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end
"""
        )
    lines.append(
        """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_DONE requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
  local merged = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, code .. "=" .. n) end
  io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\\n")
end
"""
    )
    return "\n".join(lines)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _parse_wrk(text: str) -> dict[str, float]:
    """Requests/sec, the ``--latency`` distribution and the BENCH_DONE line."""
    out: dict[str, float] = {}
    for pct, number, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        out[f"p{pct}_ms"] = float(number) * _UNIT_MS[unit]
    if match := re.search(r"Requests/sec:\s+([\d.]+)", text):
        out["rps_text"] = float(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        out["non_2xx"] = float(match.group(1))
    if match := re.search(r"^BENCH_STATUS (.*)$", text, re.M):
        for pair in match.group(1).split():
            key, _, value = pair.partition("=")
            out[f"status_{key}"] = float(value)
    if match := re.search(r"^BENCH_DONE (.*)$", text, re.M):
        for pair in match.group(1).split():
            key, _, value = pair.partition("=")
            out[key] = float(value)
    return out


def run_wrk(
    name: str,
    load: Load,
    *,
    concurrency: int,
    seconds: float,
    workdir: Path,
    threads: int = 1,
    limit: int = 0,
    procs: Processes | None = None,
) -> Result:
    """One wrk run (``-t threads -c concurrency -d seconds --latency``); with ``limit`` it
    stops after about that many answers (or at ``seconds``, whichever comes first)."""
    threads = max(1, min(threads, concurrency))
    per_thread = -(-limit // threads) if limit else 0
    script = workdir / f"wrk-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua"
    script.write_text(wrk_script(load, per_thread_limit=per_thread), encoding="utf-8")
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        load.url,
    ]
    log = workdir / "wrk-last.txt"
    own = procs or Processes()
    proc = own.spawn("wrk", argv, log=log)
    try:
        _wait_wrk(proc, log, threads if limit else 0, seconds + 30)
    finally:
        if proc.poll() is None:
            Processes.stop(proc)
        with contextlib.suppress(ValueError):
            own.items.remove(("wrk", proc))
    text = log.read_text(errors="replace")
    parsed = _parse_wrk(text)
    if "requests" not in parsed or "p50_ms" not in parsed:
        raise RuntimeError(f"wrk gave no result for {name}:\n{text[-2000:]}")
    duration = parsed["duration_us"] / 1e6
    return Result(
        name=name,
        concurrency=concurrency,
        requests=int(parsed["requests"]),
        seconds=round(duration, 3),
        rps=round(parsed["requests"] / duration, 1),
        # wrk's done() gives the same percentiles in whole microseconds; the --latency
        # text rounds to 10 us, too coarse for the c=1 differences
        p50_ms=round(parsed.get("p50_us", parsed["p50_ms"] * 1000) / 1000, 3),
        p99_ms=round(parsed.get("p99_us", parsed["p99_ms"] * 1000) / 1000, 3),
        errors=int(
            parsed.get("connect", 0)
            + parsed.get("read", 0)
            + parsed.get("write", 0)
            + parsed.get("timeout", 0)
        ),
        non_2xx=int(parsed.get("non_2xx", 0)),
        generator=f"wrk -t{threads}",
        distribution_ms={k: v for k, v in parsed.items() if re.fullmatch(r"p\d+_ms", k)},
        non_2xx_statuses={
            k.removeprefix("status_"): int(v) for k, v in parsed.items() if k.startswith("status_")
        },
    )


def _wait_wrk(proc: subprocess.Popen[bytes], log: Path, stopping: int, timeout: float) -> None:
    """Wait for wrk; with a request limit, SIGINT it once every thread has reached it.

    A wrk thread stops itself at the limit (``wrk.thread:stop()``), but wrk's main thread
    sleeps for the whole ``-d``; its SIGINT handler ends that sleep and prints the summary.
    """
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise RuntimeError("wrk did not finish in time")
        if stopping and log.read_text(errors="replace").count("BENCH_LIMIT_REACHED") >= stopping:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGINT)
            stopping = 0
        time.sleep(0.05)


def run_python(
    name: str, load: Load, *, concurrency: int, seconds: float, limit: int = 0
) -> Result:
    """The same measurement from Python (when wrk is missing): asyncio streams speaking
    HTTP/1.1 over keep-alive connections, one per concurrent worker. A hand-rolled client,
    because httpx costs about a millisecond of CPU per request and would measure itself."""
    return asyncio.run(_python_load(name, load, concurrency, seconds, limit))


def _request_bytes(load: Load, host: str, path: str, key: str | None) -> bytes:
    body = load.body.encode() if load.body is not None else b""
    lines = [f"{load.method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in load.headers.items()]
    if key is not None and load.unique_key_header:
        lines.append(f"{load.unique_key_header}: {key}")
    if body or load.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            while True:  # chunked: size line, data, CRLF ... until the 0-size chunk
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    return status
    if length:
        await reader.readexactly(length)
    return status


async def _python_load(
    name: str, load: Load, concurrency: int, seconds: float, limit: int
) -> Result:
    url = httpx.URL(load.url)
    host, port = url.host, url.port or 80
    target = url.raw_path.decode("ascii")
    varies = load.unique_key_header or load.rotating_path
    fixed = None if varies else _request_bytes(load, f"{host}:{port}", target, None)
    latencies: list[float] = []
    errors = non_2xx = issued = 0
    run_id = uuid.uuid4().hex[:12]  # keys never repeat across runs of the same load
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    stop_at = started + seconds

    async def worker(index: int) -> None:
        nonlocal errors, non_2xx, issued
        reader, writer = await asyncio.open_connection(host, port)
        n = 0
        try:
            while time.perf_counter() < stop_at and (not limit or issued < limit):
                issued += 1
                n += 1
                payload = fixed or _request_bytes(
                    load,
                    f"{host}:{port}",
                    load.path_for(index * 7919 + n) or target,
                    f"{load.key_prefix}-{run_id}-{index}-{n}",
                )
                t0 = time.perf_counter()
                try:
                    writer.write(payload)
                    status = await asyncio.wait_for(_read_response(reader), 5)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append(time.perf_counter() - t0)
                if not 200 <= status < 300:
                    non_2xx += 1
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        name=name,
        concurrency=concurrency,
        requests=len(latencies),
        seconds=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 3),
        p99_ms=round(percentile(latencies, 99) * 1000, 3),
        errors=errors,
        non_2xx=non_2xx,
        generator="python asyncio (raw HTTP/1.1, keep-alive)",
        non_2xx_statuses=statuses,
    )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def python_version() -> str:
    return sys.version.split()[0]
