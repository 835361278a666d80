"""The simulator seam: the program YAML a simulator writes, the common serve-and-seed part,
and the loading of each registered provider's simulator by module name."""

from __future__ import annotations

from typing import Any

import yaml

from gateway.connectors import registry
from gateway.sandbox.simulator import PLACEHOLDER_URL, Served, load, program_yaml


def test_program_yaml_writes_short_auth_as_a_flow_mapping() -> None:
    text = program_yaml(
        program_id="p",
        name="P",
        provider="cpextender",
        base_url="http://127.0.0.1:1",
        auth={"type": "bearer", "token": "t"},
        circuit_open_seconds=0.5,
        points_value="{points_per_unit: 100, currency: USD}",
    )
    assert "    auth: {type: bearer, token: t}\n" in text
    assert "    circuit: {open_seconds: 0.5}\n" in text  # tests edit the file by these lines
    (program,) = yaml.safe_load(text)
    assert program["points_value"] == {"points_per_unit": 100, "currency": "USD"}
    assert "options" not in program


def test_program_yaml_writes_long_auth_as_a_block() -> None:
    auth = {"type": "jwt_bearer", "client_id": "C", "token_url": "http://h:1/" + "t" * 60}
    text = program_yaml(
        program_id="p",
        name="P",
        provider="shopyourway",
        base_url="http://h:1",
        auth=auth,
        circuit_open_seconds=30,
        options="{requestor_id: R}",
    )
    assert "    auth:\n      type: jwt_bearer\n" in text
    (program,) = yaml.safe_load(text)
    assert program["auth"] == auth
    assert program["options"] == {"requestor_id": "R"}


class _Servers:
    def __init__(self) -> None:
        self.apps: list[Any] = []

    def add(self, app: Any) -> str:
        self.apps.append(app)
        return "http://127.0.0.1:4242"


def test_served_seeds_then_serves_its_app() -> None:
    events: list[str] = []

    class Sim(Served):
        def seed(self) -> None:
            events.append("seed")

        def app(self) -> Any:
            events.append("app")
            return object()

    sim = Sim(state={"ledger": []})
    assert sim.url == PLACEHOLDER_URL
    servers = _Servers()
    sim.start(servers)  # type: ignore[arg-type]
    assert events == ["seed", "app"]
    assert sim.url == "http://127.0.0.1:4242"
    assert len(servers.apps) == 1  # wrapped (drop_on_fault), not the bare app


def test_each_registered_provider_names_a_loadable_simulator() -> None:
    for provider in registry.providers():
        simulator = load(provider.simulator)
        try:
            assert simulator.provider == provider.name
            assert simulator.url == PLACEHOLDER_URL  # not started
            (program,) = yaml.safe_load(simulator.program_yaml(circuit_open_seconds=30))
            assert (program["id"], program["provider"]) == (simulator.program_id, provider.name)
            assert simulator.try_lines()
        finally:
            simulator.stop()
