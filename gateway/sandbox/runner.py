"""Serve ASGI apps over real HTTP on loopback from a background thread.

Used by the test suite and by ``gateway demo``: each app gets its own uvicorn server on a
free port; :meth:`ServerThread.add` returns the base URL once the server is listening.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import uvicorn

from gateway import http_limits


class ServerThread:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="sandbox-servers"
        )
        self._servers: list[uvicorn.Server] = []
        #: each server's serve(): done once its lifespan has shut down (the gateway's
        #: embedded Redis stopped), which stop() waits for
        self._tasks: list[asyncio.Task[None]] = []
        self._thread.start()

    def add(
        self,
        app: Any,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        access_log: bool = False,
        **options: Any,
    ) -> str:
        """Serve ``app``; ``options`` are more ``uvicorn.Config`` arguments (the gateway's
        connection limits: ``gateway.http_limits.uvicorn_options``)."""
        config = http_limits.config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=access_log,
            lifespan="on",
            timeout_graceful_shutdown=2,
            **options,
        )
        server = uvicorn.Server(config)
        self._servers.append(server)
        future = asyncio.run_coroutine_threadsafe(self._start(server), self._loop)
        bound = future.result(timeout=30)
        return f"http://{host}:{bound}"

    async def _start(self, server: uvicorn.Server) -> int:
        self._tasks.append(self._loop.create_task(server.serve()))
        while not server.started:
            if server.should_exit:
                raise RuntimeError("server failed to start")
            await asyncio.sleep(0.01)
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return port

    def stop(self) -> None:
        async def shutdown() -> None:
            for server in self._servers:
                server.should_exit = True
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=8)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
