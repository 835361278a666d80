"""Merge the Redis calls of concurrent requests into one command (auto-pipelining).

A cached balance read is one Redis GET, and on a busy worker that round trip (a write, an
event-loop wake-up and a read per request) was most of the read's CPU time. Lookups made in
the same event-loop pass are sent as one MGET when the loop gets to the scheduled flush.
When nothing else is pending or in flight (a quiet worker) a lookup is sent at once, so it
does not wait for that loop pass. Several fetches may be in flight at once (each on its own pooled
connection), so a slow batch does not hold up the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeyBatcher(Generic[K, V]):
    """``get(item)`` answers ``fetch([..., item, ...])[i]``; equal items are fetched once."""

    def __init__(
        self, fetch: Callable[[list[K]], Awaitable[Sequence[V]]], max_batch: int = 256
    ) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._pending: dict[K, list[asyncio.Future[V]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._direct = 0  # lookups sent on their own, still in flight

    async def get(self, key: K) -> V:
        if not self._pending and not self._tasks and not self._direct:
            self._direct += 1
            try:
                return (await self._fetch([key]))[0]
            finally:
                self._direct -= 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        waiters = self._pending.get(key)
        if waiters is not None:
            waiters.append(future)
        else:
            if not self._pending:
                loop.call_soon(self._flush)
            self._pending[key] = [future]
            if len(self._pending) >= self._max_batch:
                self._flush()
        return await future

    def _flush(self) -> None:
        if not self._pending:
            return  # already sent because the batch was full
        batch, self._pending = self._pending, {}
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: dict[K, list[asyncio.Future[V]]]) -> None:
        keys = list(batch)
        try:
            values = await self._fetch(keys)
        except asyncio.CancelledError:  # shutting down
            for waiters in batch.values():
                for future in waiters:
                    future.cancel()
            raise
        except Exception as exc:  # every waiter sees the failure (e.g. RedisError)
            for waiters in batch.values():
                for future in waiters:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, value in zip(keys, values, strict=True):
            for future in batch[key]:
                if not future.done():  # a waiter that gave up (deadline) is skipped
                    future.set_result(value)
