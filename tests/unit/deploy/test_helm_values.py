"""The Helm chart (helm/loyalty-gateway): values against the schema, template references,
the configuration it renders.

The gate is the part that runs without Helm: both values files validate against
values.schema.json, every ``.Values.x.y`` a template reads is defined in values.yaml (and
every value is read), the templates' blocks are balanced, and the configuration the chart
writes into its ConfigMap is one the gateway accepts. When a ``helm`` binary is on PATH the
chart is also rendered with ``helm template``; otherwise that test is skipped.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gateway.config import parse_settings
from gateway.connectors.shopyourway.simulator.keys import DEMO_PRIVATE_KEY_PEM
from gateway.settings import Settings

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "loyalty-gateway"
TEMPLATES = CHART / "templates"
DEFAULTS = CHART / "values.yaml"
PRODUCTION = CHART / "values-production.yaml"
SCHEMA = CHART / "values.schema.json"

VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z0-9_]+)+)")
ALIAS = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*:?=\s*\.Values((?:\.[A-Za-z0-9_]+)+)")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Values as Helm coalesces them: maps merge, anything else replaces, null deletes."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def values_sets() -> dict[str, dict[str, Any]]:
    defaults = load_yaml(DEFAULTS)
    return {
        "values.yaml": defaults,
        "values.yaml + values-production.yaml": helm_merge(defaults, load_yaml(PRODUCTION)),
    }


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator: jsonschema.Draft7Validator, values: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(values)
    )


# -- the schema ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(values_sets()))
def test_values_files_match_the_schema(validator: jsonschema.Draft7Validator, name: str) -> None:
    assert schema_errors(validator, values_sets()[name]) == []


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ({"replicaCont": 3}, "(top)"),  # a typo is an error, not an ignored key
        ({"image": {"tagg": "1"}}, "image"),
        ({"config": {"server": {"port": 9090}}}, "config.server"),  # owned by the chart
        ({"config": {"redis": {"url": "redis://x:6379/0"}}}, "config.redis"),
        ({"redis": {"url": "http://redis:6379"}}, "redis.url"),
        ({"terminationGracePeriodSeconds": 10}, "terminationGracePeriodSeconds"),
        ({"securityContext": {"allowPrivilegeEscalation": True}}, "securityContext"),
        ({"networkPolicy": {"egress": {"redis": {"ports": [70000]}}}}, "networkPolicy"),
    ],
)
def test_schema_rejects_mistakes(
    validator: jsonschema.Draft7Validator, override: dict[str, Any], where: str
) -> None:
    errors = schema_errors(validator, helm_merge(load_yaml(DEFAULTS), override))
    assert errors, f"{override} was accepted"
    assert any(error.startswith(where) for error in errors), errors


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pw@redis-master:6379/0",
        "rediss://default:pw@redis.example.com:6380/0",
        "redis+sentinel://host1:26379,host2:26379/mymaster/0",
        "rediss+sentinel://:pw@host1:26379,host2:26379/mymaster/0",
        "redis+cluster://redis-cluster:6379/0",
        "unix:///run/redis/redis.sock?db=0",
        "",
    ],
)
def test_schema_accepts_every_redis_url_form(
    validator: jsonschema.Draft7Validator, url: str
) -> None:
    values = helm_merge(load_yaml(DEFAULTS), {"redis": {"url": url}})
    assert schema_errors(validator, values) == []


# -- templates against values.yaml --------------------------------------------------------
def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.suffix in {".yaml", ".tpl", ".txt"})


def referenced_paths() -> dict[tuple[str, ...], set[str]]:
    """``.Values`` paths read by the templates (also through ``$x := .Values.a`` aliases)."""
    found: dict[tuple[str, ...], set[str]] = {}
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        refs = [m.group(1) for m in VALUES_REF.finditer(text)]
        for alias, target in ALIAS.findall(text):
            for m in re.finditer(rf"\${alias}((?:\.[A-Za-z0-9_]+)+)", text):
                refs.append(target + m.group(1))
        for ref in refs:
            found.setdefault(tuple(ref.strip(".").split(".")), set()).add(path.name)
    return found


def defined(values: Any, path: tuple[str, ...]) -> bool:
    node = values
    for key in path:
        if node == {}:
            return True  # a map left empty ({}) in values.yaml, e.g. podAnnotations
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_templates_read_values() -> None:
    refs = referenced_paths()
    assert len(refs) > 50
    assert ("networkPolicy", "egress", "redis", "cidrs") in refs  # found through $np


def test_every_values_path_in_the_templates_is_in_values_yaml() -> None:
    values = load_yaml(DEFAULTS)
    missing = {
        ".".join(path): sorted(files)
        for path, files in referenced_paths().items()
        if not defined(values, path)
    }
    assert missing == {}


def test_every_value_in_values_yaml_is_used_by_a_template() -> None:
    refs = set(referenced_paths())
    unused: list[str] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            path = (*prefix, key)
            if path in refs or any(ref[: len(path)] == path for ref in refs):
                if isinstance(value, dict) and path not in refs:
                    walk(value, path)
                continue
            if not any(path[: len(ref)] == ref for ref in refs):
                unused.append(".".join(path))

    walk(load_yaml(DEFAULTS), ())
    assert unused == []


def test_every_value_is_documented() -> None:
    """Each key of values.yaml has a comment right above it, or sits inside a block that has
    one (e.g. the Kubernetes objects under resources or securityContext)."""
    lines = DEFAULTS.read_text(encoding="utf-8").splitlines()
    undocumented = []
    documented_blocks: list[tuple[int, bool]] = []  # (indent, has a comment) of open blocks
    for i, line in enumerate(lines):
        key = re.match(r"^(\s*)([A-Za-z][A-Za-z0-9_]*):", line)
        if not key:
            continue
        indent = len(key.group(1))
        while documented_blocks and documented_blocks[-1][0] >= indent:
            documented_blocks.pop()
        commented = i > 0 and lines[i - 1].strip().startswith("#")
        inherited = any(has_comment for _, has_comment in documented_blocks)
        is_block = line.rstrip().endswith(":")
        if is_block:
            documented_blocks.append((indent, commented))
        elif not (commented or inherited):
            undocumented.append(f"line {i + 1}: {line.strip()}")
    assert undocumented == []


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_template_blocks_are_balanced(path: Path) -> None:
    """Without helm at hand: every if/range/with/define has its end, and no stray else."""
    text = path.read_text(encoding="utf-8")
    assert text.count("{{") == text.count("}}")
    stack: list[str] = []
    for match in ACTION.finditer(text):
        action = re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.DOTALL).strip()
        word = action.split(None, 1)[0] if action else ""
        if word in {"if", "range", "with", "define", "block"}:
            stack.append(word)
        elif word == "else":
            assert stack, f"{path.name}: else without a block"
        elif word == "end":
            assert stack, f"{path.name}: end without a block"
            stack.pop()
    assert stack == []


# -- the configuration the chart writes ---------------------------------------------------
def chart_config(values: dict[str, Any]) -> dict[str, Any]:
    """What templates/_helpers.tpl "loyalty-gateway.config" renders: .Values.config with
    server.host, server.port and redis.url (as ${REDIS_URL}) set by the chart."""
    config = copy.deepcopy(values.get("config") or {})
    config["server"] = {**(config.get("server") or {}), "host": "0.0.0.0"}  # noqa: S104
    config["server"]["port"] = values["containerPort"]
    config["redis"] = {**(config.get("redis") or {}), "url": "${REDIS_URL}"}
    return config


def fake_env(text: str, tmp_path: Path) -> dict[str, str]:
    """A value for every ${NAME} the configuration needs, as the pod's Secrets would."""
    key_file = tmp_path / "syw-private-key.pem"
    key_file.write_text(DEMO_PRIVATE_KEY_PEM, encoding="utf-8")
    env = {}
    for name, _default in ENV_REF.findall(text):
        if name.endswith("_SHA256"):
            env[name] = hashlib.sha256(name.encode()).hexdigest()
        elif name == "REDIS_URL":
            env[name] = "redis+sentinel://sentinel-0:26379,sentinel-1:26379/mymaster/0"
        elif name == "SYW_REQUESTOR_ID":
            env[name] = "REQ1"
        elif name == "SYW_PRIVATE_KEY_FILE":
            env[name] = str(key_file)
        else:
            env[name] = f"test-{name.lower()}"
    return env


def check_gateway_accepts(config_text: str, values: dict[str, Any], tmp_path: Path) -> Settings:
    assert "${REDIS_URL}" in config_text
    settings = parse_settings(config_text, fake_env(config_text, tmp_path))
    assert settings.server.host == "0.0.0.0"  # noqa: S104 - reachable from the Service
    assert settings.server.port == values["containerPort"]
    assert settings.redis.url is not None
    assert settings.redis.url.startswith("redis+sentinel://")
    return settings


@pytest.mark.parametrize("name", sorted(values_sets()))
def test_chart_config_is_accepted_by_the_gateway(name: str, tmp_path: Path) -> None:
    values = values_sets()[name]
    text = yaml.safe_dump(chart_config(values), sort_keys=True)
    settings = check_gateway_accepts(text, values, tmp_path)
    assert len(settings.programs) == len(values["config"]["programs"])


def test_production_config_holds_no_secret() -> None:
    """Every credential in values-production.yaml is an ${ENV} reference without default."""
    config = load_yaml(PRODUCTION)["config"]
    secret_keys = {"token", "password", "username", "client_id", "private_key", "api_key_sha256"}
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in secret_keys and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
                    found.append(f"{path}.{key}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(config, "config")
    assert found == []
    assert load_yaml(PRODUCTION).get("secrets", {}).get("create", False) is False


# -- helm template (only where helm is installed) -----------------------------------------
HELM = shutil.which("helm")


@pytest.mark.skipif(
    HELM is None,
    reason="helm is not installed here: `helm template` rendering not checked "
    "(the schema and values-path tests above are the gate)",
)
@pytest.mark.parametrize("extra", [[], ["-f", str(PRODUCTION)]], ids=["defaults", "production"])
def test_helm_template_renders_yaml(extra: list[str], tmp_path: Path) -> None:
    assert HELM is not None
    result = subprocess.run(
        [HELM, "template", "lg", str(CHART), "--namespace", "loyalty", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} <= kinds
    assert "HorizontalPodAutoscaler" in kinds
    configmap = next(doc for doc in docs if doc["kind"] == "ConfigMap")
    values = values_sets()["values.yaml" if not extra else "values.yaml + values-production.yaml"]
    check_gateway_accepts(configmap["data"]["config.yaml"], values, tmp_path)
    pod = next(doc for doc in docs if doc["kind"] == "Deployment")["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {
        "/tmp",
        "/etc/loyalty-gateway/config.yaml",
    }
    assert pod["metadata"]["annotations"]["checksum/config"]
