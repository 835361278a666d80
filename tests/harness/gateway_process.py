"""A real ``gateway serve`` process for tests that kill and restart it.

It runs in its own process group, as in a container or under systemd's control group: a
``SIGKILL`` of the group takes the workers and an embedded Redis with it, like a crash of
the pod; a ``SIGTERM`` to the parent is the clean stop (drain, then exit).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.infra.embedded_redis import free_tcp_port


class GatewayProcess:
    def __init__(self, config_text: str, root: Path, name: str = "gateway", workers: int = 2):
        self.root = root
        self.name = name
        self.port = free_tcp_port()
        self.workers = workers
        self.config = root / f"{name}.yaml"
        self.config.write_text(config_text.replace("port: 8080", f"port: {self.port}"))
        self.log = root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> GatewayProcess:
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gateway",
                    "serve",
                    "--config",
                    str(self.config),
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (parent, workers, embedded Redis)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self._reap_group()

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM the parent (a clean stop: drain, then exit); its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._reap_group()
        return code

    def _reap_group(self) -> None:
        """Wait until no process of the group is left (orphaned workers hold the port)."""
        assert self.process is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        elif self.process is not None:
            self._reap_group()
