"""Real Redis deployments for tests: single servers, Sentinel and Cluster, on loopback.

Debian's ``redis-server`` / ``redis-sentinel`` / ``redis-cli`` (``.ci/run`` installs them);
every process gets its own directory and port, and can be killed (``SIGKILL``), stopped
(``SIGTERM``) and started again on the same files.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from gateway.infra.embedded_redis import free_tcp_port

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_SENTINEL = "/usr/bin/redis-sentinel"
REDIS_CLI = "/usr/bin/redis-cli"


def _free(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free and valid too."""
    for _ in range(1000):
        port = random.randint(20_000, 45_000)
        if _free(port) and _free(port + 10_000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def debian_redis_missing() -> str | None:
    """Why the Debian Redis tools cannot be used here (``None`` when they can)."""
    for tool in (REDIS_SERVER, REDIS_SENTINEL, REDIS_CLI):
        if not Path(tool).exists():
            return f"{tool} is not installed (apt-get install redis-server redis-sentinel)"
    return None


def wait_until(predicate: object, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():  # type: ignore[operator]
                return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class RedisProcess:
    """One ``redis-server`` (or sentinel) process with its own port and directory."""

    def __init__(
        self,
        root: Path,
        name: str,
        *,
        args: list[str] | None = None,
        sentinel: bool = False,
        port: int | None = None,
        binary: str = REDIS_SERVER,
    ) -> None:
        self.name = name
        self.binary = binary
        self.port = port or free_tcp_port()
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args or [])
        self.sentinel = sentinel
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _argv(self) -> list[str]:
        # what a server and a sentinel share: their own port, loopback, files in self.dir
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        common += ["--logfile", str(self.dir / "log")]
        if self.sentinel:
            conf = self.dir / "sentinel.conf"
            if not conf.exists():
                conf.write_text("\n".join(self.args) + "\n")
            return [REDIS_SENTINEL, str(conf), *common]
        return [self.binary, *common, "--save", "", *self.args]

    def start(self, timeout: float = 10) -> RedisProcess:
        self.process = subprocess.Popen(self._argv(), stdout=subprocess.DEVNULL)
        wait_until(self.ping, timeout, f"{self.name} to answer")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=1)

    def ping(self) -> bool:
        with self.client() as c:
            return bool(c.ping())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def wipe(self) -> None:
        """Forget everything on disk (a server restarted empty)."""
        for child in self.dir.iterdir():
            if child.name not in ("log", "sentinel.conf"):
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()


def _replica_online(master: RedisProcess) -> bool:
    with master.client() as c:
        info = c.info("replication")
    count = int(info.get("connected_slaves", 0))
    return count >= 1 and all(info[f"slave{i}"]["state"] == "online" for i in range(count))


class SentinelSetup:
    """A master, one replica, three sentinels watching ``mymaster``."""

    MASTER = "mymaster"

    def __init__(self, root: Path) -> None:
        persist = ["--appendonly", "yes"]
        self.nodes = [RedisProcess(root, "node-a", args=persist)]
        self.nodes.append(
            RedisProcess(
                root, "node-b", args=[*persist, "--replicaof", "127.0.0.1", str(self.nodes[0].port)]
            )
        )
        config = [
            f"sentinel monitor {self.MASTER} 127.0.0.1 {self.nodes[0].port} 2",
            f"sentinel down-after-milliseconds {self.MASTER} 1000",
            f"sentinel failover-timeout {self.MASTER} 4000",
            f"sentinel parallel-syncs {self.MASTER} 1",
        ]
        self.sentinels = [
            RedisProcess(root, f"sentinel-{i}", args=config, sentinel=True) for i in range(3)
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.MASTER}/0"

    def start(self) -> SentinelSetup:
        for node in (*self.nodes, *self.sentinels):
            node.start()
        wait_until(self.replicated, 20, "the replica to sync")
        wait_until(
            lambda: all(self._sentinel_sees_replica(s) for s in self.sentinels),
            20,
            "the sentinels to see the replica",
        )
        return self

    def _sentinel_sees_replica(self, sentinel: RedisProcess) -> bool:
        with sentinel.client() as c:
            return len(c.execute_command("SENTINEL", "REPLICAS", self.MASTER)) >= 1

    def master(self) -> RedisProcess:
        """The node the sentinels currently name as master."""
        with self.sentinels[0].client() as c:
            _, port = c.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.MASTER)
        return next(n for n in self.nodes if n.port == int(port))

    def replicated(self) -> bool:
        master = self.master()
        with master.client() as c:
            role = c.info("replication")["role"]
        return role == "master" and _replica_online(master)

    def failover(self) -> None:
        """``SENTINEL FAILOVER``: the replica is promoted, the old master demoted later."""
        with self.sentinels[0].client() as c:
            c.execute_command("SENTINEL", "FAILOVER", self.MASTER)

    def stop(self) -> None:
        for node in (*self.sentinels, *self.nodes):
            node.kill()


class ClusterSetup:
    """Three masters with one replica each."""

    def __init__(self, root: Path) -> None:
        args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "1000",
            "--appendonly",
            "yes",
        ]
        self.nodes = [
            RedisProcess(root, f"cluster-{i}", args=args, port=cluster_port()) for i in range(6)
        ]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> ClusterSetup:
        for node in self.nodes:
            node.start()
        subprocess.run(
            [
                REDIS_CLI,
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_healthy()
        return self

    def info(self, node: RedisProcess) -> dict[str, str]:
        with node.client() as c:
            text = c.execute_command("CLUSTER", "INFO").decode()
        return dict(line.split(":", 1) for line in text.split() if ":" in line)

    def healthy(self) -> bool:
        live = [n for n in self.nodes if n.alive()]
        if not all(self.info(n).get("cluster_state") == "ok" for n in live):
            return False
        masters = self.masters()
        return len(masters) == 3 and all(
            self.replicas_of(m) >= 1 and _replica_online(m) for m in masters
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        wait_until(self.healthy, timeout, "the cluster to be healthy with a replica per master")

    def _nodes_view(self) -> list[list[str]]:
        live = next(n for n in self.nodes if n.alive())
        with live.client() as c:
            text = c.execute_command("CLUSTER", "NODES").decode()
        return [line.split() for line in text.strip().splitlines()]

    def masters(self) -> list[RedisProcess]:
        ports = {
            int(parts[1].split("@")[0].rsplit(":", 1)[1])
            for parts in self._nodes_view()
            if "master" in parts[2] and "fail" not in parts[2] and len(parts) > 8
        }
        return [n for n in self.nodes if n.port in ports]

    def replicas_of(self, master: RedisProcess) -> int:
        view = self._nodes_view()
        ids = {
            parts[0]
            for parts in view
            if int(parts[1].split("@")[0].rsplit(":", 1)[1]) == master.port
        }
        return sum(
            1
            for parts in view
            if "slave" in parts[2] and "fail" not in parts[2] and parts[3] in ids
        )

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@contextlib.contextmanager
def running(setup: SentinelSetup | ClusterSetup | RedisProcess) -> Iterator[None]:
    try:
        setup.start()
        yield
    finally:
        setup.stop() if not isinstance(setup, RedisProcess) else setup.kill()
