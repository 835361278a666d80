"""KeyBatcher: concurrent lookups become one fetch; failures and give-ups are per waiter."""

from __future__ import annotations

import asyncio

import pytest

from gateway.infra.batching import KeyBatcher


class Backend:
    def __init__(self, values: dict[str, bytes], fail: Exception | None = None) -> None:
        self.values = values
        self.fail = fail
        self.calls: list[list[str]] = []

    async def fetch(self, keys: list[str]) -> list[bytes | None]:
        self.calls.append(keys)
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return [self.values.get(key) for key in keys]


def test_on_a_quiet_batcher_the_first_lookup_goes_alone_the_rest_in_one_fetch() -> None:
    backend = Backend({"a": b"1", "b": b"2"})

    async def main() -> list[bytes | None]:
        batcher = KeyBatcher(backend.fetch)
        return await asyncio.gather(*(batcher.get(k) for k in ["a", "b", "a", "missing", "a"]))

    assert asyncio.run(main()) == [b"1", b"2", b"1", None, b"1"]
    assert backend.calls == [["a"], ["b", "a", "missing"]]


def test_a_lone_lookup_is_sent_at_once_and_later_ones_make_a_new_batch() -> None:
    backend = Backend({"a": b"1", "b": b"2"})

    async def main() -> None:
        batcher = KeyBatcher(backend.fetch)
        assert await batcher.get("a") == b"1"
        assert await batcher.get("b") == b"2"

    asyncio.run(main())
    assert backend.calls == [["a"], ["b"]]


def test_a_full_batch_goes_out_without_waiting_for_the_loop() -> None:
    backend = Backend({str(n): str(n).encode() for n in range(5)})

    async def main() -> list[bytes | None]:
        batcher = KeyBatcher(backend.fetch, max_batch=2)
        return await asyncio.gather(*(batcher.get(str(n)) for n in range(5)))

    assert asyncio.run(main()) == [b"0", b"1", b"2", b"3", b"4"]
    assert backend.calls == [["0"], ["1", "2"], ["3", "4"]]


def test_a_failed_fetch_fails_every_waiter_of_that_batch_only() -> None:
    backend = Backend({}, fail=ConnectionError("redis down"))

    async def main() -> None:
        batcher = KeyBatcher(backend.fetch)
        results = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        backend.fail = None
        backend.values["a"] = b"back"
        assert await batcher.get("a") == b"back"

    asyncio.run(main())


def test_a_waiter_that_gives_up_does_not_disturb_the_others() -> None:
    backend = Backend({"a": b"1"})

    async def main() -> None:
        batcher = KeyBatcher(backend.fetch)
        quitter = asyncio.ensure_future(batcher.get("a"))
        stayer = asyncio.ensure_future(batcher.get("a"))
        await asyncio.sleep(0)
        quitter.cancel()
        assert await stayer == b"1"
        with pytest.raises(asyncio.CancelledError):
            await quitter

    asyncio.run(main())
