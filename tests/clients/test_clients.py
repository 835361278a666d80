"""Clients generated from openapi/openapi.json, driven through one full flow each against the
demo world: list programs, enroll, balance miss then hit, earn with an Idempotency-Key and its
replay, redeem, void, overview, and a refused redemption read as a typed problem.

- Python: openapi-python-client (from PyPI with uvx), which must generate with no warning.
- TypeScript: openapi-typescript types + openapi-fetch (npm registry, versions locked in
  tests/clients/typescript/package-lock.json); tsc type-checks the flow against the types.

Marked ``clients`` (needs uvx, node and npm and their registries; `.ci/run` runs `pytest -m
clients`). The generated code lands in build/clients/.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.sandbox.world import DEMO_API_KEY, World

pytestmark = pytest.mark.clients

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
BUILD = ROOT / "build" / "clients"
TYPESCRIPT = Path(__file__).resolve().parent / "typescript"
GENERATOR = "openapi-python-client==0.29.1"


def _run(command: list[str], cwd: Path = ROOT, **env: str) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)}:\n{output[-3000:]}"
    return output


@pytest.fixture(scope="module")
def python_client() -> Iterator[Path]:
    out = BUILD / "python"
    output = _run(
        [
            *("uvx", "--from", GENERATOR, "openapi-python-client", "generate"),
            *("--path", str(DOCUMENT), "--output-path", str(out), "--overwrite"),
        ]
    )
    # e.g. "Warning(s) encountered while generating ... response will be omitted"
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(out))
    try:
        yield out
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("loyalty_gateway_client")]:
            del sys.modules[name]


def _check_flow(world: World, seen: dict[str, Any]) -> None:
    assert "syw-rewards" in seen["programs"]
    assert seen["balance_cache"][0].startswith("loyalty-gateway; fwd=miss")
    assert seen["earn"]["points"] == 100
    assert seen["void"]["status"] == "voided"
    assert seen["overview"] == {"complete": True, "points": 100}  # 100 earned, 50 voided back
    assert seen["problem"] == {"status": 422, "code": "insufficient_points"}
    # the provider's ledger: the replayed earn was applied once
    earns = [e for e in world.syw.ledger if e.member_number == seen["member_id"]]
    assert [e.kind for e in earns].count("earn") == 1


def test_the_generated_python_client_runs_the_whole_flow(
    python_client: Path, world: World, gateway_url: str
) -> None:
    assert (python_client / "loyalty_gateway_client" / "py.typed").is_file()
    flow = importlib.import_module("tests.clients.python_flow")
    _check_flow(world, flow.run(gateway_url, DEMO_API_KEY))


def test_the_generated_typescript_client_runs_the_whole_flow(
    world: World, gateway_url: str
) -> None:
    npm = shutil.which("npm")
    assert npm, "node and npm are needed (.ci/run installs Debian's nodejs and npm if missing)"
    _run([npm, "ci", "--no-audit", "--no-fund"], cwd=TYPESCRIPT)
    _run([npm, "run", "-s", "generate"], cwd=TYPESCRIPT)
    _run([npm, "run", "-s", "build"], cwd=TYPESCRIPT)  # tsc: the flow type-checks
    output = _run(
        ["node", "build/js/flow.js"],
        cwd=TYPESCRIPT,
        GATEWAY_URL=gateway_url,
        API_KEY=DEMO_API_KEY,
    )
    _check_flow(world, json.loads(output.strip().splitlines()[-1]))
