"""What the sandbox world asks of each provider's simulator, and its program's YAML.

A provider package names its simulator module (``Provider.simulator``); that module exports
``simulator() -> Simulator``, a fresh one per world. The world (``world.py``) starts every
registered provider's simulator and writes one program for each, so a new provider needs no
line in the world.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from gateway.sandbox.common import drop_on_fault
from gateway.sandbox.runner import ServerThread


class Simulator(Protocol):
    """One provider simulated over HTTP, with its demo data."""

    #: the registry's provider name and the id of the demo program that points at it
    provider: str
    program_id: str
    #: the simulator's ledger, requests and faults (tests read and steer it)
    state: Any
    #: its base URL once started (a placeholder before, so a config renders for the schema)
    url: str

    def start(self, servers: ServerThread) -> None:
        """Seed the demo data and serve the simulator; sets :attr:`url`."""

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        """This provider's item of ``programs:`` in the configuration file."""

    def new_member(self) -> str:
        """A fresh member with no history (each write test gets its own)."""

    def try_lines(self) -> list[str]:
        """The demo banner's lines for this program: members to try and what they show."""

    def stop(self) -> None:
        """Remove anything it wrote outside its state (e.g. a key file)."""


def load(module: str) -> Simulator:
    """A new simulator from the module a ``Provider`` names."""
    made: Simulator = importlib.import_module(module).simulator()
    return made


PLACEHOLDER_URL = "http://127.0.0.1:9"


class Served:
    """The common part of a simulator: a state, seeded and served (a connection can be cut
    after a write applied, ``drop_on_fault``) by :meth:`start`; nothing to remove on stop."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.url = PLACEHOLDER_URL

    def seed(self) -> None:
        """Add the demo data to :attr:`state`."""

    def app(self) -> Any:
        """The simulator's ASGI app over :attr:`state`."""
        raise NotImplementedError

    def start(self, servers: ServerThread) -> None:
        self.seed()
        self.url = servers.add(drop_on_fault(self.app()))

    def stop(self) -> None:
        pass


def program_yaml(
    *,
    program_id: str,
    name: str,
    provider: str,
    base_url: str,
    auth: dict[str, str],
    circuit_open_seconds: float,
    points_value: str | None = None,
    options: str | None = None,
    balance_ttl_seconds: int = 30,
) -> str:
    """One item of ``programs:`` in the documented format (flow mappings where short)."""
    flow = ", ".join(f"{key}: {value}" for key, value in auth.items())
    if len(flow) <= 72:
        auth_yaml = f"    auth: {{{flow}}}\n"
    else:
        auth_yaml = "    auth:\n" + "".join(f"      {k}: {v}\n" for k, v in auth.items())
    return (
        f"  - id: {program_id}\n"
        f"    name: {name}\n"
        f"    provider: {provider}\n"
        f"    base_url: {base_url}\n"
        + auth_yaml
        + (f"    points_value: {points_value}\n" if points_value else "")
        + f"    balance_ttl_seconds: {balance_ttl_seconds}\n"
        + f"    circuit: {{open_seconds: {circuit_open_seconds}}}\n"
        + (f"    options: {options}\n" if options else "")
    )
