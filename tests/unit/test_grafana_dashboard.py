"""The Grafana dashboard only queries metrics the gateway exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gateway.infra import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "loyalty-gateway.json"


def test_dashboard_queries_exported_metrics_only() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = {m.name for m in metrics.REGISTRY.collect()}
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            queried |= set(re.findall(r"loyalty_gateway_[a-z_]+", target["expr"]))
    assert queried
    for name in queried:
        base = re.sub(r"_(total|bucket|sum|count)$", "", name)
        assert base in exported, name
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in (
        "request rate",
        "error",
        "latency",
        "upstream",
        "cache hit",
        "idempotency",
        "circuit",
    ):
        assert topic in titles, topic
