"""Runs last (file order): the logs of the whole integration run hold no PII or secrets, and
/metrics exposes every documented family with bounded labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.connectors.alpha.simulator import SANDBOX_TOKEN as ALPHA_TOKEN
from gateway.connectors.cpextender.simulator import SANDBOX_TOKEN as CP_TOKEN
from gateway.connectors.irt.simulator import SANDBOX_PASS as IRT_PASS
from gateway.connectors.shopyourway.simulator.keys import DEMO_PRIVATE_KEY_PEM
from gateway.sandbox.world import DEMO_API_KEY, READER_KEY, World

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
METRIC_FAMILIES = [
    "loyalty_gateway_http_requests",
    "loyalty_gateway_http_request_duration_seconds",
    "loyalty_gateway_upstream_calls",
    "loyalty_gateway_upstream_call_duration_seconds",
    "loyalty_gateway_balance_cache",
    "loyalty_gateway_token_cache",
    "loyalty_gateway_idempotency",
    "loyalty_gateway_circuit_state",
    "loyalty_gateway_circuit_opened",
    "loyalty_gateway_rate_limited",
]


def _secrets(world: World) -> list[str]:
    key_body = DEMO_PRIVATE_KEY_PEM.splitlines()[1]
    return [
        # people: emails, names, phones, cards and member numbers seeded in the simulators
        "wallace@example.com",
        "CRTestID01@automation.com",
        "ann@example.com",
        "Wallace",
        "Wensleydale",
        "Gromit",
        "01942 992143",
        "8472002626",
        "5550100",
        "5550199",
        "6001000000000001",
        "2059378440",
        "7081207612717221",
        "dQw4w9WgXcQ",
        # credentials
        DEMO_API_KEY,
        READER_KEY,
        CP_TOKEN,
        ALPHA_TOKEN,
        IRT_PASS,
        key_body,
        *world.syw.tokens.keys(),
    ]


def test_logs_of_the_whole_run_hold_no_pii_or_secrets(world: World, log_file: Path) -> None:
    text = log_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) > 200, "expected the whole integration run's logs"
    assert '"event": "request"' in text
    assert '"event": "upstream_exchange"' in text  # debug detail was logged, and redacted
    leaked = [s for s in _secrets(world) if s in text]
    assert not leaked, f"found in logs: {leaked}"
    strings = "\n".join(_strings([json.loads(line) for line in lines]))
    for what, pattern in (
        ("an email address", r"[\w.+-]+@[\w-]+\.[\w.-]+"),
        ("a PIN", r"(?<![\w.:-])(?:1234|4321)(?![\w.:-])"),
        ("a card or member number", r"(?<![\w.])\d{8,}(?![\w.])"),
    ):
        found = re.search(pattern, strings)
        assert found is None, f"{what} was logged: ...{strings[found.start() - 200 : found.end()]}"


def _strings(value: object) -> list[str]:
    """Every string value in the parsed log lines (numbers such as balances are not PII)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_metrics_expose_every_documented_family_with_bounded_labels(
    api: httpx.Client, anonymous: httpx.Client
) -> None:
    api.get("/v1/programs/cafe-rewards/members/2059378440/balance")
    api.get("/v1/programs/cafe-rewards/members/2059378440/balance")
    exposition = anonymous.get("/metrics")
    assert exposition.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(exposition.text)}
    documented = DOCS.read_text(encoding="utf-8")
    for name in METRIC_FAMILIES:
        assert name in families, name
        assert families[name].documentation, f"{name} has no HELP text"
        assert name in documented, f"{name} is not listed in docs/operations.md"
    requests = families["loyalty_gateway_http_requests"].samples
    assert sum(s.value for s in requests if s.name.endswith("_total")) > 50
    hits = [
        s
        for s in families["loyalty_gateway_balance_cache"].samples
        if s.labels.get("result") == "hit" and s.name.endswith("_total")
    ]
    assert hits
    assert all(s.value >= 0 for f in families.values() for s in f.samples)
    for family in families.values():
        for sample in family.samples:
            for label, value in sample.labels.items():
                assert "@" not in value, (family.name, label, value)
                assert not re.search(r"\d{8,}", value), (family.name, label, value)
                if label == "route":
                    assert value == "unmatched" or value.startswith("/"), value
                    assert len(value) < 120
