"""The demo's banner: every registered provider, its members, and the calls a newcomer needs
(reads, earn, enroll, PATCH, a member token from the sandbox identity provider)."""

from __future__ import annotations

from gateway import cli_demo
from gateway.connectors import registry
from gateway.sandbox.world import DEMO_API_KEY, World


def test_the_banner_shows_every_provider_and_every_kind_of_call() -> None:
    world = World()  # not started: placeholder URLs are enough for the text
    try:
        text = cli_demo.banner(world, "http://127.0.0.1:8080", "http://127.0.0.1:8081")
    finally:
        world.stop()
    for provider in registry.providers():
        assert provider.title in text
    for simulator in world.simulators.values():
        assert f"  {simulator.program_id}: " in text
    assert DEMO_API_KEY in text
    for call in ("/earn", "-X PATCH", "irt-rewards/members -H", "6001000000000002", "/token"):
        assert call in text, call
    assert "Authorization: Bearer $TOKEN" in text
    assert "http://127.0.0.1:8081/token" in text


def test_the_identity_provider_sits_next_to_the_gateway_when_free() -> None:
    assert cli_demo.IDP_PORT_OFFSET == 1
    assert cli_demo._free("127.0.0.1", 0)
