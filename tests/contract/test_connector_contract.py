"""The contract every provider keeps, run for each registered one over real HTTP against its
own simulator — the four built-in providers and the test-only example provider
(tests/providers/example), which joins through the public seam, ``registry.register``.

A new provider passes this file before it is done (docs/adding-a-provider.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from gateway.app import create_app
from gateway.config import inline_secrets, parse_settings
from gateway.connectors import registry
from gateway.connectors.base import CAPABILITIES, Connector
from gateway.connectors.circuits import GROUP_OF
from gateway.connectors.provider import Provider
from gateway.domain.commands import EarnCommand
from gateway.domain.errors import InvalidRequest, MemberNotFound
from gateway.http_limits import uvicorn_options
from gateway.sandbox.runner import ServerThread
from gateway.sandbox.simulator import Simulator, load
from gateway.settings import ProgramSettings
from tests.providers.example.provider import PROVIDER as EXAMPLE

#: every provider registered at import (the built-in ones), then the example one
BUILT_IN = list(registry.PROVIDERS)
NAMES = [*BUILT_IN, "example"]
#: a member id every provider's pattern admits and no simulator has
ABSENT = "0000000000"
API_KEY = "contract-" + uuid.uuid4().hex
#: the PIN of a new member, where the provider has PINs (IRT); the others ignore it
PIN = "1"


@pytest.fixture(scope="module", autouse=True)
def example_registered() -> Iterator[None]:
    registry.register(EXAMPLE)  # the example provider's one registry line
    try:
        yield
    finally:
        registry.unregister(EXAMPLE.name)


@pytest.fixture(scope="module")
def servers() -> Iterator[ServerThread]:
    started = ServerThread()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def simulators(servers: ServerThread) -> Iterator[dict[str, Simulator]]:
    made = {name: load(registry.PROVIDERS[name].simulator) for name in NAMES}
    for simulator in made.values():
        simulator.start(servers)
    try:
        yield made
    finally:
        for simulator in made.values():
            simulator.stop()


def _document(simulators: list[Simulator], redis_url: str | None = None) -> str:
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    redis = f"redis:\n  url: {redis_url}\n  key_prefix: lg-contract\n" if redis_url else ""
    return (
        f"{redis}logging: {{level: warning}}\n"
        "clients:\n"
        f"  - {{id: contract, api_key_sha256: {digest}, programs: ['*'],\n"
        "     scopes: [members:read, members:write, points:earn, points:redeem]}\n"
        "programs:\n" + "".join(s.program_yaml(circuit_open_seconds=30) for s in simulators)
    )


def _program(simulator: Simulator) -> ProgramSettings:
    program = parse_settings(_document([simulator])).programs[0]
    assert program.provider == simulator.provider
    return program


class _Recorder:
    """Wraps a connector's client: the operation names its calls carry."""

    def __init__(self, connector: Connector) -> None:
        self.names: set[str] = set()
        original = connector.http.request

        async def request(*args: Any, operation: str, **kwargs: Any) -> httpx.Response:
            self.names.add(operation)
            return await original(*args, operation=operation, **kwargs)

        connector.http.request = request  # type: ignore[method-assign]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- what the provider declares ---------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_declaration_is_whole(name: str) -> None:
    provider: Provider = registry.PROVIDERS[name]
    cls = provider.connector
    assert cls.provider == provider.name
    assert issubclass(cls.Options, msgspec.Struct)
    assert issubclass(cls.Auth, msgspec.Struct)
    assert set(cls.secret_keys) <= provider.auth_keys, "a secret key its Auth shape lacks"
    assert cls.operations, "names its calls"
    assert set(cls.operations) <= set(GROUP_OF), "every operation has a circuit group"
    assert provider.capabilities, "can do something"
    assert set(provider.capabilities) <= set(CAPABILITIES)
    assert provider.title
    assert provider.document


@pytest.mark.parametrize("name", NAMES)
def test_its_simulators_program_passes_the_configuration_checks(
    name: str, simulators: dict[str, Simulator]
) -> None:
    program = _program(simulators[name])
    cls = registry.PROVIDERS[name].connector
    assert cls.check_auth(msgspec.convert(program.auth, cls.Auth)) is None


@pytest.mark.parametrize("name", NAMES)
def test_its_secret_keys_are_reported_when_written_into_the_file(
    name: str, simulators: dict[str, Simulator]
) -> None:
    found = inline_secrets(_document([simulators[name]]))
    written = {path.removeprefix("programs[0].auth.") for path in found if "programs" in path}
    program = _program(simulators[name])
    assert written == {key for key in registry.secret_keys(name) if program.auth.get(key)}


# -- what it does, over HTTP against its simulator ----------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_reads_and_writes_against_its_simulator(
    name: str, simulators: dict[str, Simulator]
) -> None:
    simulator = simulators[name]
    provider = registry.PROVIDERS[name]
    member = simulator.new_member()

    async def scenario() -> None:
        connector = registry.build_connector(_program(simulator))
        recorder = _Recorder(connector)
        try:
            with pytest.raises(InvalidRequest):
                connector.check_ids(".")  # refused before any call
            assert recorder.names == set()
            capabilities = provider.capabilities
            if "balance" in capabilities:
                before = await connector.balance(member, pin=PIN)  # type: ignore[attr-defined]
                assert (before.program, before.member_id) == (simulator.program_id, member)
                assert before.points >= 0
                with pytest.raises(MemberNotFound):
                    await connector.balance(ABSENT, pin=PIN)  # type: ignore[attr-defined]
            if "profile" in capabilities:
                profile = await connector.get_member(member, pin=PIN)  # type: ignore[attr-defined]
                assert profile.member_id == member
            if "earn" in capabilities:
                token = uuid.uuid4().hex
                command = EarnCommand(
                    points=25,
                    reason="contract",
                    reference="contract-" + token[:12],
                    point_type=None,
                    idempotency_token=token,
                    pin=PIN,
                )
                earned = await connector.earn(member, command)  # type: ignore[attr-defined]
                assert earned.points == 25
                after = await connector.balance(member, pin=PIN)  # type: ignore[attr-defined]
                assert after.points == before.points + 25
                if "earn" in connector.native_idempotency:
                    await connector.earn(member, command)  # type: ignore[attr-defined]
                    again = await connector.balance(member, pin=PIN)  # type: ignore[attr-defined]
                    assert again.points == after.points, "the provider applied a resend twice"
            assert recorder.names <= set(connector.operations), recorder.names
        finally:
            await connector.aclose()

    _run(scenario())


def test_the_gateway_serves_a_registered_provider(
    simulators: dict[str, Simulator], servers: ServerThread, redis_url: str
) -> None:
    """The whole app, not just the connector: listed, read and written like the others."""
    example = simulators["example"]
    settings = parse_settings(_document([example], redis_url))
    url = servers.add(create_app(settings), **uvicorn_options(settings.server))
    member = example.new_member()
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ) as api:
        listed = api.get("/v1/programs").json()["data"]
        assert [(p["id"], p["provider"]) for p in listed] == [("example-stamps", "example")]
        assert listed[0]["capabilities"] == ["profile", "balance", "earn"]
        key = {"Idempotency-Key": uuid.uuid4().hex}
        path = f"/v1/programs/example-stamps/members/{member}"
        first = api.post(path + "/earn", json={"points": 3}, headers=key)
        replay = api.post(path + "/earn", json={"points": 3}, headers=key)
        assert (first.status_code, replay.status_code) == (201, 201)
        assert replay.json() == first.json()
        assert api.get(path + "/balance").json()["points"] == 3
        applied = [entry for entry in example.state.ledger.values() if entry[0] == member]
        assert len(applied) == 1, "the replay reached the provider as a second earn"
        unsupported = api.get(path + "/activity")
        assert unsupported.status_code == 501
        assert unsupported.json()["code"] == "operation_not_supported"
