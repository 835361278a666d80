"""Operation groups: every operation a connector names is grouped; each group's breaker is
its own; a connector's groups exist (with a state series) from its construction."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import generate_latest

from gateway.connectors.base import circuit_groups
from gateway.connectors.circuits import GROUP_OF, GROUPS, Circuits, group_of
from gateway.connectors.registry import build_connector
from gateway.infra import metrics
from gateway.settings import ProgramSettings

CONNECTORS = Path(__file__).resolve().parents[3] / "gateway" / "connectors"


def _named_operations() -> set[str]:
    names: set[str] = set()
    for source in CONNECTORS.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        names |= set(re.findall(r'operation="([a-z_]+)"', text))
        # operations passed on as an argument: _balance_check(member, "balance"), ...
        names |= set(
            re.findall(r'_(?:fetch|balance_check|history_since|matching)\([^)]*"([a-z_]+)"\)', text)
        )
    return names


def test_every_operation_a_connector_names_has_a_group() -> None:
    named = _named_operations()
    assert {"balance", "earn", "offers", "token", "find_redemption"} <= named
    assert named <= set(GROUP_OF), named - set(GROUP_OF)
    assert set(GROUP_OF.values()) == set(GROUPS)


def test_groups_match_the_documented_reading() -> None:
    assert group_of("offers") == "offers"
    assert group_of("balance") == group_of("profile") == "reads"
    assert group_of("earn") == group_of("void") == "writes"
    assert group_of("find_earn") == group_of("activity") == "activity"
    assert group_of("not-a-known-operation") == "reads"


def _program(provider: str, **auth: str) -> ProgramSettings:
    return ProgramSettings(
        id=f"t-{provider}",
        name="T",
        provider=provider,
        base_url="http://p.test",
        auth=auth or {},
    )


def test_one_failing_group_leaves_the_others_closed() -> None:
    circuits = Circuits(_program("cpextender"), "cpextender")
    offers = circuits.breaker("offers")
    for _ in range(5):
        offers.record_failure()
    assert circuits.breaker("reads").allow()
    assert circuits.states() == {"offers": "open", "reads": "closed"}
    assert circuits.worst() == "open"


def test_a_connector_exports_the_groups_its_calls_use_from_start() -> None:
    cp = build_connector(_program("cpextender", type="bearer", token="t"))
    assert circuit_groups(cp) == ["reads", "writes", "activity", "health"]
    assert set(cp.circuit_states()) == {"reads", "writes", "activity", "health"}
    exposition = generate_latest(metrics.REGISTRY).decode()
    for group in ("reads", "writes", "activity", "health"):
        line = f'loyalty_gateway_circuit_state{{group="{group}",program="t-cpextender"}} 0.0'
        assert line in exposition
    assert (
        'loyalty_gateway_upstream_connections{program="t-cpextender",state="limit"} 200.0'
        in exposition
    )
