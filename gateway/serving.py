"""uvicorn under ``gateway serve``: one listening socket per worker (SO_REUSEPORT) on Linux.

With one socket shared by all workers, whichever worker's event loop wakes first accepts a
whole burst of new keep-alive connections: the benchmark saw one of two workers take all 32
connections, and stay the only busy one for as long as they lived. With a socket per worker
in one ``SO_REUSEPORT`` group the kernel spreads new connections over the workers by hash.
The parent keeps every worker's socket open, so when a worker dies the connections queued on
its socket wait for the replacement instead of being reset.

Elsewhere (no ``SO_REUSEPORT`` balancing) the workers share one socket, as before.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger

from gateway import http_limits

#: drain time for in-flight requests on SIGTERM
GRACEFUL_SECONDS = 20


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A bound socket made with ``IPPROTO_TCP``: asyncio only turns Nagle off (TCP_NODELAY)
    on connections accepted from such a socket, and uvicorn's own ``bind_socket`` leaves the
    protocol 0, which costs ~40 ms per small keep-alive response."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def reuse_port_balances() -> bool:
    """Only Linux spreads connections over a SO_REUSEPORT group (BSDs give them to one)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class PerWorkerSockets(Multiprocess):
    """uvicorn's supervisor, with worker slot ``i`` always served from socket ``i``.

    Restarts (a dead worker, SIGHUP) reuse the slot's socket; SIGTTIN adds a slot with a new
    socket in the group and SIGTTOU closes the last one.
    """

    def __init__(self, config: uvicorn.Config, host: str, port: int) -> None:
        # SO_REUSEPORT would also let this group share the port with another gateway (an old
        # one still running, say) and silently split its traffic: a plain bind first fails
        # with "address in use" as the shared socket did.
        with listening_socket(host, port) as probe:
            port = probe.getsockname()[1]
        self._host, self._port = host, port
        self.slot_sockets = [self._new_socket() for _ in range(config.workers)]
        super().__init__(config, sockets=self.slot_sockets[:1])

    def _new_socket(self) -> socket.socket:
        return listening_socket(self._host, self._port, reuse_port=True)

    def _spawn(self, slot: int) -> Process:
        process = Process(self.config, [self.slot_sockets[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._spawn(slot) for slot in range(self.processes_num)]

    def restart_all(self) -> None:
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error(f"Worker [{new.pid}] was not ready in time; restart aborted.")
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Worker [{process.pid}] failed to start; stopping.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Worker [{process.pid}] died; starting a new one on its socket")
            self.processes[slot] = self._spawn(slot)

    def handle_ttin(self) -> None:
        self.processes_num += 1
        self.slot_sockets.append(self._new_socket())
        self.processes.append(self._spawn(len(self.slot_sockets) - 1))

    def handle_ttou(self) -> None:
        if self.processes_num <= 1:
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.slot_sockets.pop().close()

    def run(self) -> None:
        try:
            super().run()
        finally:
            for sock in self.slot_sockets:
                sock.close()


def run(app: str, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve ``app`` (an import string) with ``workers`` processes; SIGTERM drains first."""
    config = http_limits.config(
        app,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        proxy_headers=False,
        **options,
    )
    if workers == 1:
        uvicorn.Server(config).run()
    elif reuse_port_balances():
        PerWorkerSockets(config, host, port).run()
    else:
        Multiprocess(config, sockets=[listening_socket(host, port)]).run()
