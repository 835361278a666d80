"""services/access.py: the one access decision, in its documented order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.config import parse_settings
from gateway.domain.errors import (
    Forbidden,
    InvalidRequest,
    MemberNotFound,
    ProgramNotFound,
    RateLimited,
    Unauthorized,
)
from gateway.infra.identity import MemberCaller
from gateway.sandbox.world import DEMO_API_KEY, LIMITED_KEY, READER_KEY, World
from gateway.services.access import Access, Target, bearer_key, find_client, locate, permit
from gateway.services.programs import ProgramDirectory
from gateway.settings import ClientSettings, RateLimitSettings, Settings


class Limiter:
    """Counts what the decision asks to count; refuses the scopes named in ``full``."""

    def __init__(self, full: set[str] | None = None) -> None:
        self.counted: list[tuple[str, str]] = []
        self.full = full or set()

    async def enforce(self, client_id: str, scope: str, limit: RateLimitSettings) -> None:
        self.counted.append((client_id, scope))
        if scope in self.full:
            raise RateLimited("used up", headers={"Retry-After": "1"})


@pytest.fixture(scope="module")
def settings() -> Settings:
    world = World()  # not started: its configuration is all this needs
    return parse_settings(world.config_yaml(redis_url="redis://127.0.0.1:1"))


@pytest.fixture(scope="module")
def directory(settings: Settings) -> Iterator[ProgramDirectory]:
    made = ProgramDirectory(settings)
    yield made
    asyncio.run(made.aclose())


def _access(settings: Settings, directory: ProgramDirectory, **kw: Any) -> Access:
    return Access(settings, directory, kw.pop("limiter", Limiter()), **kw)


def _demo(settings: Settings) -> ClientSettings:
    found = find_client(settings, DEMO_API_KEY)
    assert found is not None
    return found


def test_bearer_key_takes_only_a_bearer_credential() -> None:
    assert bearer_key("Bearer abc") == "abc"
    assert bearer_key("bearer   abc ") == "abc"
    assert bearer_key("Basic abc") is None
    assert bearer_key("Bearer ") is None


def test_authenticate_refuses_a_missing_or_unknown_key(
    settings: Settings, directory: ProgramDirectory
) -> None:
    access = _access(settings, directory)
    for header in (None, "", "Basic x", "Bearer not-a-key"):
        with pytest.raises(Unauthorized) as refused:
            asyncio.run(access.authenticate(header))
        assert "WWW-Authenticate" in refused.value.headers
    assert asyncio.run(access.authenticate(f"Bearer {DEMO_API_KEY}")).id == "demo"


def test_the_client_limit_is_counted_at_authentication(
    settings: Settings, directory: ProgramDirectory
) -> None:
    limiter = Limiter(full={"client"})
    access = _access(settings, directory, limiter=limiter)
    with pytest.raises(RateLimited):
        asyncio.run(access.authenticate(f"Bearer {LIMITED_KEY}"))
    assert limiter.counted == [("limited", "client")]
    asyncio.run(access.authenticate(f"Bearer {DEMO_API_KEY}"))  # no limit configured
    assert limiter.counted == [("limited", "client")]


def test_locate_hides_foreign_programs_and_checks_ids(
    settings: Settings, directory: ProgramDirectory
) -> None:
    reader = find_client(settings, READER_KEY)
    assert reader is not None
    with pytest.raises(ProgramNotFound):
        locate(directory, reader, Target("cafe-rewards", "2059378440"))
    with pytest.raises(ProgramNotFound):
        locate(directory, _demo(settings), Target("no-such-program"))
    with pytest.raises(InvalidRequest):
        locate(directory, _demo(settings), Target("cafe-rewards", ".hidden"))
    connector, limit = locate(directory, _demo(settings), Target("cafe-rewards", "2059378440"))
    assert connector is not None
    assert connector.program.id == "cafe-rewards"
    assert limit is None
    assert locate(directory, _demo(settings), Target()) == (None, None)


def test_permit_checks_member_tokens_then_the_scope_then_the_rules(
    settings: Settings,
) -> None:
    reader = find_client(settings, READER_KEY)
    assert reader is not None
    permit(reader, "members:read", Target("alpha-store", "OLMKne7Y3N"))
    with pytest.raises(Forbidden, match="points:earn"):
        permit(reader, "points:earn", Target("alpha-store", "OLMKne7Y3N"))
    token = MemberCaller(
        id="member",
        api_key_sha256="",
        programs=["alpha-store"],
        scopes=["members:read"],
        memberships=frozenset({("alpha-store", "OLMKne7Y3N")}),
    )
    permit(token, "members:read", Target("alpha-store", "OLMKne7Y3N"))
    with pytest.raises(MemberNotFound):
        permit(token, "members:read", Target("alpha-store", "someone-else"))
    with pytest.raises(Forbidden):
        permit(token, "members:read", Target("alpha-store"))  # a lookup
    refusal = Forbidden("no")
    with pytest.raises(Forbidden, match="no"):
        permit(reader, "members:read", Target("alpha-store", "x"), [lambda c, s, t: refusal])
    permit(reader, "members:read", Target("alpha-store", "x"), [lambda c, s, t: None])


def test_admit_counts_the_program_limit_before_the_scope(
    settings: Settings, directory: ProgramDirectory
) -> None:
    limiter = Limiter(full={"cafe-rewards"})
    access = _access(settings, directory, limiter=limiter)
    limited = ClientSettings(
        id="per-program",
        api_key_sha256="",
        programs=["*"],
        scopes=[],
        program_rate_limits={"cafe-rewards": RateLimitSettings(requests=1, per_seconds=60)},
    )
    with pytest.raises(RateLimited):  # 429 before the 403 the missing scope would give
        asyncio.run(access.admit(limited, "members:read", Target("cafe-rewards", "2059378440")))
    assert limiter.counted == [("per-program", "cafe-rewards")]
    with pytest.raises(Forbidden):
        asyncio.run(access.admit(limited, "members:read", Target("alpha-store", "OLMKne7Y3N")))


def test_admit_applies_the_added_rules(settings: Settings, directory: ProgramDirectory) -> None:
    seen: list[Target] = []

    def rule(caller: ClientSettings, scope: Any, target: Target) -> Forbidden | None:
        seen.append(target)
        return Forbidden("by rule") if target.member_id == "2059378440" else None

    access = _access(settings, directory, rules=[rule])
    demo = _demo(settings)
    with pytest.raises(Forbidden, match="by rule"):
        asyncio.run(access.admit(demo, "members:read", Target("cafe-rewards", "2059378440")))
    connector = asyncio.run(access.admit(demo, "members:read", Target("alpha-store", "OLMKne7Y3N")))
    assert connector is not None
    assert [t.member_id for t in seen] == ["2059378440", "OLMKne7Y3N"]


def test_check_decides_without_labelling_the_request(
    settings: Settings, directory: ProgramDirectory
) -> None:
    from gateway.infra import context

    access = _access(settings, directory)

    async def run() -> tuple[str | None, str | None]:
        ctx = context.begin("label")
        await access.check(_demo(settings), "members:read", Target("alpha-store", "OLMKne7Y3N"))
        checked = ctx.program
        await access.admit(_demo(settings), "members:read", Target("alpha-store", "OLMKne7Y3N"))
        return checked, ctx.program

    assert asyncio.run(run()) == (None, "alpha-store")
