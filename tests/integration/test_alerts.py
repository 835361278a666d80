"""The alert rules fire on what a real gateway exports: a ``gateway serve`` process (two
workers, multiprocess metrics) has a circuit opened and its pool saturated; its /metrics
feed Debian's ``promtool test rules`` with ops/prometheus/alerts.yml."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.config import parse_settings
from gateway.connectors.base import circuit_groups
from gateway.connectors.registry import build_connector
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World
from tests.harness.gateway_process import GatewayProcess

RULES = Path(__file__).resolve().parents[2] / "ops" / "prometheus" / "alerts.yml"
pytestmark = pytest.mark.alerts  # not in the default run: needs promtool (.ci/run installs it)
HEADERS = {"Authorization": f"Bearer {DEMO_API_KEY}"}
SERIES = re.compile(r"^(loyalty_gateway_[a-z_]+)(\{[^}]*\})? (\S+)$")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:  # .ci/run installs Debian's prometheus package, which has it
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    return found


@pytest.fixture(scope="module")
def gateway(
    world: World, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    config = world.config_yaml(redis_url=redis_url, key_prefix="al" + uuid.uuid4().hex[:6])
    # cafe-rewards (the first program) gets a pool of one connection and no line
    config = config.replace(
        "    circuit: {open_seconds: 30}\n",
        "    circuit: {open_seconds: 30}\n"
        "    connections: {max: 1, max_waiting: 0, queue_timeout_seconds: 0}\n",
        1,
    )
    process = GatewayProcess(config, tmp_path_factory.mktemp("alerts")).start()
    try:
        yield process
    finally:
        process.stop()


def _series(exposition: str, name: str) -> dict[str, float]:
    found = {}
    for line in exposition.splitlines():
        match = SERIES.match(line)
        if match and match[1] == name:
            found[match[1] + (match[2] or "")] = float(match[3])
    return found


def _firing(alert: str, **labels: str) -> dict[str, dict[str, str]]:
    """The alert as promtool should see it fire: the rule's labels and its annotations with
    ``{{ $labels.x }}`` filled in (read from the rules file, not copied here)."""
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    rule = next(r for r in rules if r.get("alert") == alert)
    annotations = {}
    for name, text in rule["annotations"].items():
        for label, value in labels.items():
            text = text.replace("{{ $labels." + label + " }}", value)
        annotations[name] = text
    return {"exp_labels": {**rule["labels"], **labels}, "exp_annotations": annotations}


def test_rules_are_valid() -> None:
    subprocess.run([_promtool(), "check", "rules", str(RULES)], check=True, capture_output=True)


LIMIT = 'loyalty_gateway_upstream_connections{program="cafe-rewards",state="limit"}'


def _once_every_worker_is_up(url: str) -> str:
    """/metrics once both workers have started: the process answers as soon as the first
    one listens, and the second may still be in its start-up (seen once in CI)."""
    deadline = time.monotonic() + 20
    while True:
        exposition = httpx.get(url + "/metrics").text
        if _series(exposition, "loyalty_gateway_upstream_connections").get(LIMIT) == 2:
            return exposition
        assert time.monotonic() < deadline, "the second worker never started"
        time.sleep(0.1)


def test_every_circuit_is_exported_from_start(world: World, gateway: GatewayProcess) -> None:
    exposition = _once_every_worker_is_up(gateway.url)  # before any /v1 request
    states = _series(exposition, "loyalty_gateway_circuit_state")
    settings = parse_settings(world.config_yaml())
    expected = set()
    for program in settings.programs:
        for group in circuit_groups(build_connector(program)):
            expected.add(f'loyalty_gateway_circuit_state{{group="{group}",program="{program.id}"}}')
    assert set(states) == expected
    assert set(states.values()) == {0.0}
    assert len(expected) >= 4 * 3  # every program, at least reads, writes and one more
    pools = _series(exposition, "loyalty_gateway_upstream_connections")
    assert pools[LIMIT] == 2  # 2 workers, one connection each (programs[].connections.max)


def test_the_circuit_and_saturation_alerts_fire_on_the_gateways_own_metrics(
    world: World, gateway: GatewayProcess, tmp_path: Path
) -> None:
    syw = "/v1/programs/syw-rewards/members/" + world.new_syw_member() + "/offers"
    world.syw.faults.set(Faults(error_rate=1.0, only_paths=["/GetApplicableOffers"]))
    world.cp.faults.set(Faults(latency_ms=400))
    try:
        key = 'loyalty_gateway_circuit_state{group="offers",program="syw-rewards"}'
        for _ in range(60):  # until a worker (both share no breaker) has opened it
            httpx.get(gateway.url + syw, headers=HEADERS, timeout=15)
            states = _series(
                httpx.get(gateway.url + "/metrics").text, "loyalty_gateway_circuit_state"
            )
            if states[key] == 2:
                break
        activity = "/v1/programs/cafe-rewards/members/2059378440/activity"
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda _: httpx.get(gateway.url + activity, headers=HEADERS, timeout=15),
                    range(8),
                )
            )
        assert any(a.status_code == 503 for a in answers)
    finally:
        world.syw.faults.set(Faults())
        world.cp.faults.set(Faults())
    exposition = httpx.get(gateway.url + "/metrics").text
    states = _series(exposition, "loyalty_gateway_circuit_state")
    assert states[key] == 2
    assert [s for s, v in states.items() if v == 2] == [key]
    saturated = _series(exposition, "loyalty_gateway_upstream_saturated_total")
    assert sum(saturated.values()) > 0

    lint = subprocess.run(
        [_promtool(), "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # every scraped series as the test input: gauges held at their value, counters rising
    # by their value each minute; then what fires must be exactly the open circuit and the
    # saturated pool
    inputs = [{"series": s, "values": f"{v:g}x10"} for s, v in states.items()]
    inputs += [{"series": s, "values": f"0+{v:g}x10"} for s, v in saturated.items()]
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {
                        "eval_time": "3m",
                        "alertname": "LoyaltyGatewayCircuitOpen",
                        "exp_alerts": [
                            _firing(
                                "LoyaltyGatewayCircuitOpen", program="syw-rewards", group="offers"
                            )
                        ],
                    },
                    {
                        "eval_time": "7m",
                        "alertname": "LoyaltyGatewaySaturated",
                        "exp_alerts": [_firing("LoyaltyGatewaySaturated", program="cafe-rewards")],
                    },
                    {"eval_time": "1m", "alertname": "LoyaltyGatewayCircuitOpen", "exp_alerts": []},
                ],
            }
        ],
    }
    spec = tmp_path / "alerts_test.yml"
    spec.write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(
        [_promtool(), "test", "rules", str(spec)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _prometheus() -> str:
    found = shutil.which("prometheus")
    if found is None:  # the same Debian package as promtool
        pytest.fail("prometheus is not installed (apt-get install prometheus)")
    return found


def test_debians_prometheus_scrapes_the_gateway_and_evaluates_every_alert(
    world: World, gateway: GatewayProcess, tmp_path: Path
) -> None:
    """A real Prometheus server scraping the gateway every second with the rules loaded:
    every rule evaluates without error, each alert's expression is a valid query over the
    scraped series, and an opened circuit makes LoyaltyGatewayCircuitOpen active."""
    from gateway.infra.embedded_redis import free_tcp_port

    port = free_tcp_port()
    target = gateway.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {"job_name": "loyalty-gateway", "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )
    server = subprocess.Popen(
        [
            _prometheus(),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                targets = httpx.get(api + "/targets", timeout=2).json()["data"]["activeTargets"]
                if targets and targets[0]["health"] == "up":
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("Prometheus never scraped the gateway")
        # open the offers circuit of syw-rewards again, as above
        offers = "/v1/programs/syw-rewards/members/" + world.new_syw_member() + "/offers"
        world.syw.faults.set(Faults(error_rate=1.0, only_paths=["/GetApplicableOffers"]))
        try:
            for _ in range(20):
                httpx.get(gateway.url + offers, headers=HEADERS, timeout=15)
        finally:
            world.syw.faults.set(Faults())
        rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
        active: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            groups = httpx.get(api + "/rules").json()["data"]["groups"]
            loaded = {r["name"]: r for g in groups for r in g["rules"]}
            alerts = httpx.get(api + "/alerts").json()["data"]["alerts"]
            active = [a["labels"]["alertname"] for a in alerts]
            if "LoyaltyGatewayCircuitOpen" in active and all(
                loaded.get(r["alert"], {}).get("lastEvaluation", "").startswith("2") for r in rules
            ):
                break
            time.sleep(1)
        assert set(loaded) == {r["alert"] for r in rules}
        for rule in rules:
            assert loaded[rule["alert"]]["health"] == "ok", loaded[rule["alert"]]
            query = httpx.get(api + "/query", params={"query": rule["expr"]}).json()
            assert query["status"] == "success", (rule["alert"], query)
        assert "LoyaltyGatewayCircuitOpen" in active, active
        circuit = next(a for a in alerts if a["labels"]["alertname"] == "LoyaltyGatewayCircuitOpen")
        assert circuit["labels"]["program"] == "syw-rewards"
        assert circuit["state"] in ("pending", "firing")
    finally:
        server.terminate()
        server.wait(timeout=20)
