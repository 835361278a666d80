"""Who may do what: the one access decision of every request, taken by the litestar
middleware (``api/auth.py``) and the fast balance path (``api/fast_balance.py``) alike, so a
rule added here holds on both (docs/api-guide.md "Authentication").

The order is the documented one: ``401`` (who is calling), the client's rate limit
(``429``), the program (``404`` when the caller may not see it; ids outside the provider's
alphabet ``400``), the client's per-program limit (``429``), a member token's own
memberships (``403``/``404``), the route's scope (``403``), then any added ``Rule``.
``locate`` and ``permit`` are pure; ``Access.admit`` adds the rate limits, which need Redis.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.connectors.base import Connector
from gateway.domain.errors import Forbidden, GatewayError, MemberNotFound, Unauthorized
from gateway.infra import context
from gateway.infra.identity import MemberCaller, MemberTokens, looks_like_jwt
from gateway.services.programs import ProgramDirectory
from gateway.services.ratelimit import RateLimiter
from gateway.settings import ClientSettings, RateLimitSettings, Scope, Settings


@dataclass(frozen=True, slots=True)
class Target:
    """What a request reaches: from its path (None where the route has no such part)."""

    program: str | None = None
    member_id: str | None = None
    redemption_id: str | None = None


#: an extra rule: None to let the request on, or the problem that refuses it
Rule = Callable[[ClientSettings, Scope | None, Target], GatewayError | None]


def find_client(settings: Settings, api_key: str) -> ClientSettings | None:
    """The client whose key hash matches, comparing every hash in constant time."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    found: ClientSettings | None = None
    for client in settings.clients:
        # no early exit: the time taken does not depend on which client (if any) matched
        if hmac.compare_digest(digest, client.api_key_sha256):
            found = client
    return found


def bearer_key(authorization: str) -> str | None:
    """The credential of an ``Authorization: Bearer <credential>`` header, else None."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def locate(
    directory: ProgramDirectory, caller: ClientSettings, target: Target
) -> tuple[Connector | None, RateLimitSettings | None]:
    """The program's connector (404 when the caller may not see it, 400 for an id the
    provider cannot have) and the caller's limit for it, if any. Pure."""
    if target.program is None:
        return None, None
    connector = directory.connector(caller, target.program)
    # ids are opaque path segments: checked before anything reaches the provider
    connector.check_ids(target.member_id, target.redemption_id)
    return connector, caller.program_rate_limits.get(target.program)


def permit(
    caller: ClientSettings, scope: Scope | None, target: Target, rules: Sequence[Rule] = ()
) -> None:
    """A member token's own memberships, the route's scope, then ``rules``. Pure."""
    if isinstance(caller, MemberCaller) and target.program is not None:
        if target.member_id is None:
            # lookups and enrollment reach beyond the token's own memberships
            raise Forbidden("A member token can only reach its own memberships.")
        if not caller.owns(target.program, target.member_id):
            raise MemberNotFound("No such member for this token.")
    if scope is not None and scope not in caller.scopes:
        raise Forbidden(f"This client lacks the scope {scope!r}.")
    for rule in rules:
        refusal = rule(caller, scope, target)
        if refusal is not None:
            raise refusal


class Access:
    """The decision with what it needs: the clients, member tokens and the rate limiter."""

    def __init__(
        self,
        settings: Settings,
        directory: ProgramDirectory,
        limiter: RateLimiter,
        identity: MemberTokens | None = None,
        rules: Sequence[Rule] = (),
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.limiter = limiter
        self.identity = identity
        self.rules = list(rules)

    async def authenticate(self, authorization: str | None) -> ClientSettings:
        """The caller of an ``Authorization`` header: an API key or a member token (401)."""
        key = bearer_key(authorization or "")
        if key is None:
            raise Unauthorized(
                "Send the API key as 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": 'Bearer realm="loyalty-gateway"'},
            )
        client: ClientSettings | None
        if self.identity is not None and looks_like_jwt(key):
            client = await self.identity.verify(key)
        else:
            client = find_client(self.settings, key)
        if client is None:
            raise Unauthorized(
                "The API key is not valid.",
                headers={
                    "WWW-Authenticate": 'Bearer realm="loyalty-gateway", error="invalid_token"'
                },
            )
        ctx = context.current()
        if ctx is not None:
            ctx.client_id = client.id
        if client.rate_limit is not None:
            await self.limiter.enforce(client.id, "client", client.rate_limit)
        return client

    async def admit(
        self, caller: ClientSettings, scope: Scope | None, target: Target
    ) -> Connector | None:
        """The program's connector if the caller may make this request; else the problem.
        The request's log line and metrics are labelled with the program."""
        if target.program is not None:
            ctx = context.current()
            if ctx is not None:
                ctx.program = target.program
        return await self.check(caller, scope, target)

    async def check(
        self, caller: ClientSettings, scope: Scope | None, target: Target
    ) -> Connector | None:
        """``admit`` without labelling the request: for one item of a request that reaches
        several programs (the wallet)."""
        connector, limit = locate(self.directory, caller, target)
        if limit is not None and target.program is not None:
            await self.limiter.enforce(caller.id, target.program, limit)
        permit(caller, scope, target, self.rules)
        return connector
