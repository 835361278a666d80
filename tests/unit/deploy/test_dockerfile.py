"""The container image (Dockerfile): what it runs, as whom, and how it is probed.

Docker itself is not needed: the Dockerfile is parsed. Its final stage must run the same
command the integration tests start (``python -m gateway serve``, tests/integration/
test_cli.py) as a fixed non-root user, with a HEALTHCHECK on /healthz, and agree with the
Helm chart (user id, port, configuration path).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CHART = REPO / "helm" / "loyalty-gateway"


@dataclass
class Instruction:
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions in order: comments dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    all_stages = stages(instructions)
    assert len(all_stages) >= 2, "expected a multi-stage build (builder + runtime)"
    return all_stages[-1]


def last(stage: list[Instruction], keyword: str) -> Instruction | None:
    found = [i for i in stage if i.keyword == keyword]
    return found[-1] if found else None


def exec_form(instruction: Instruction | None) -> list[str]:
    """ENTRYPOINT / CMD in exec (JSON) form, so PID 1 is the program and gets SIGTERM."""
    if instruction is None:
        return []
    value = json.loads(instruction.args)
    assert isinstance(value, list), f"{instruction.keyword} must be a JSON array"
    assert all(isinstance(part, str) for part in value)
    return value


def chart_values() -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(values, dict)
    return values


def test_final_stage_runs_as_a_fixed_non_root_user(final_stage: list[Instruction]) -> None:
    user = last(final_stage, "USER")
    assert user is not None, "the final stage has no USER: it would run as root"
    uid, _, gid = user.args.partition(":")
    # numeric, so Kubernetes' runAsNonRoot can check it without /etc/passwd
    assert uid.isdigit(), f"USER {user.args} is not numeric"
    assert int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    values = chart_values()
    for context in ("podSecurityContext", "securityContext"):
        section = values[context]
        assert section["runAsUser"] == int(uid)
        assert section["runAsNonRoot"] is True
    assert values["securityContext"]["readOnlyRootFilesystem"] is True


def test_entrypoint_is_gateway_serve_as_the_integration_test_starts_it(
    final_stage: list[Instruction],
) -> None:
    command = exec_form(last(final_stage, "ENTRYPOINT")) + exec_form(last(final_stage, "CMD"))
    assert command == ["gateway", "serve"]
    # `gateway` is the console script of gateway.cli:main ...
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["gateway"] == "gateway.cli:main"
    # ... which `python -m gateway` runs too, and that is what test_cli.py starts.
    main = (REPO / "gateway" / "__main__.py").read_text(encoding="utf-8")
    assert "from gateway.cli import main" in main
    test_cli = (REPO / "tests" / "integration" / "test_cli.py").read_text(encoding="utf-8")
    assert re.search(r'"-m",\s*"gateway",\s*"serve"', test_cli)


def test_entrypoint_is_exec_form_and_stops_with_sigterm(final_stage: list[Instruction]) -> None:
    entrypoint = last(final_stage, "ENTRYPOINT")
    assert entrypoint is not None
    assert entrypoint.args.startswith("["), "shell form would put /bin/sh in front as PID 1"
    stop = last(final_stage, "STOPSIGNAL")
    assert stop is not None
    assert stop.args == "SIGTERM"


def test_healthcheck_probes_healthz_with_python(final_stage: list[Instruction]) -> None:
    check = last(final_stage, "HEALTHCHECK")
    assert check is not None, "no HEALTHCHECK in the final stage"
    assert not check.args.upper().startswith("NONE")
    options, _, command = check.args.partition("CMD ")
    assert "--interval=" in options
    probe = json.loads(command)
    assert probe[0] == "python"  # slim images have no curl
    assert "/healthz" in " ".join(probe)


def test_port_and_config_path_agree_with_the_chart(final_stage: list[Instruction]) -> None:
    expose = last(final_stage, "EXPOSE")
    assert expose is not None
    assert expose.args.split("/")[0] == str(chart_values()["containerPort"]) == "8080"
    env = " ".join(i.args for i in final_stage if i.keyword == "ENV")
    assert re.search(r"\bGATEWAY_CONFIG=/etc/loyalty-gateway/config\.yaml\b", env)
    deployment = (CHART / "templates" / "deployment.yaml").read_text(encoding="utf-8")
    assert "mountPath: /etc/loyalty-gateway/config.yaml" in deployment
    assert re.search(r"\bTMPDIR=/tmp\b", env)  # the only writable path (read-only root fs)
    assert "mountPath: /tmp" in deployment


def test_the_embedded_redis_keeps_its_data_in_a_volume(final_stage: list[Instruction]) -> None:
    """Without redis.url the gateway persists its records under XDG_STATE_HOME: that must
    be a writable volume under --read-only, owned by the non-root user."""
    env = " ".join(i.args for i in final_stage if i.keyword == "ENV")
    assert re.search(r"\bXDG_STATE_HOME=/var/lib/loyalty-gateway\b", env)
    volume = last(final_stage, "VOLUME")
    assert volume is not None
    assert json.loads(volume.args) == ["/var/lib/loyalty-gateway"]
    runs = " ".join(i.args for i in final_stage if i.keyword == "RUN")
    assert "install -d -o 10001 -g 10001 -m 0700 /var/lib/loyalty-gateway" in runs


def expand_args(text: str, instructions: list[Instruction]) -> str:
    """``${NAME}`` replaced by the default of ``ARG NAME=default``; quotes dropped."""
    defaults = dict(
        i.args.split("=", 1) for i in instructions if i.keyword == "ARG" and "=" in i.args
    )
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), text)
    return expanded.replace('"', "")


def test_dependencies_come_from_the_lock_file(instructions: list[Instruction]) -> None:
    builder = stages(instructions)[0]
    runs = expand_args(" ".join(i.args for i in builder if i.keyword == "RUN"), instructions)
    assert re.search(r"pip install [^&]*\buv==\d+\.\d+\.\d+", runs), "uv is not pinned"
    assert re.search(r"uv (sync|export) [^&]*--frozen", runs), "not installed from uv.lock"
    assert "--no-dev" in runs
    copied = " ".join(i.args for i in builder if i.keyword == "COPY")
    assert "uv.lock" in copied


def test_final_stage_copies_only_the_virtualenv(
    instructions: list[Instruction], final_stage: list[Instruction]
) -> None:
    base = [i.args for i in instructions if i.keyword in {"FROM", "ARG"}]
    assert any("python:3.11-slim" in args for args in base)
    copies = [i.args for i in final_stage if i.keyword in {"COPY", "ADD"}]
    assert copies, "the final stage copies nothing"
    assert all(args.startswith("--from=builder ") for args in copies), copies
    assert not [i for i in final_stage if i.keyword == "RUN" and "pip install" in i.args]


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "exclude everything, then re-include what the build copies"
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!gateway/"} <= set(lines)


def test_no_frontend_image_is_pulled_and_the_header_is_true() -> None:
    """A ``# syntax=`` line makes BuildKit pull a frontend from Docker Hub (fails offline);
    the header's run example must survive a drain and be reachable with ``-p``."""
    from gateway import serving

    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not any(line.lower().startswith("# syntax=") for line in text.splitlines())
    assert "--stop-timeout 30" in text
    assert "server.host: 0.0.0.0" in text
    assert (
        f"waiting up to {serving.GRACEFUL_SECONDS} s (GRACEFUL_SECONDS in gateway/serving.py)"
        in (" ".join(text.replace("#", " ").split()))
    )
    assert serving.GRACEFUL_SECONDS < 30  # the documented --stop-timeout outlasts the drain
