"""The settings structs' own logic: defaults that depend on other values, and lookups."""

from __future__ import annotations

from gateway.settings import (
    SLUG,
    ClientSettings,
    IdempotencySettings,
    ProgramSettings,
    RedisSettings,
    Settings,
)


def test_replica_acks_auto_is_left_to_the_url() -> None:
    assert RedisSettings().acks() is None
    assert RedisSettings(replica_acks=2).acks() == 2


def test_give_up_defaults_to_six_hours_or_half_the_retention() -> None:
    assert IdempotencySettings().give_up_seconds == 21_600
    assert IdempotencySettings(retention_seconds=3600).give_up_seconds == 1800


def test_a_client_reaches_its_programs_or_every_one_with_a_star() -> None:
    client = ClientSettings(id="c", api_key_sha256="0" * 64, programs=["a"], scopes=[])
    assert client.allows_program("a")
    assert not client.allows_program("b")
    star = ClientSettings(id="s", api_key_sha256="0" * 64, programs=["*"], scopes=[])
    assert star.allows_program("b")


def test_a_program_is_found_by_its_id() -> None:
    program = ProgramSettings(id="p", name="P", provider="alpha", base_url="http://x")
    settings = Settings(programs=[program])
    assert settings.program("p") is program
    assert settings.program("q") is None


def test_program_ids_are_lowercase_slugs() -> None:
    assert SLUG.match("cafe-rewards")
    assert not SLUG.match("-x")
    assert not SLUG.match("Cafe")
    assert not SLUG.match("a" * 64)
