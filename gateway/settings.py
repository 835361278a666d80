"""The gateway's configuration as typed structs (one YAML file, read once at start-up).

Reading the file — YAML, ``${ENV}`` interpolation, conversion and the rules beyond types —
is ``gateway/settings_parse.py``; any problem stops start-up with a :class:`ConfigError`
whose messages name the offending keys as paths such as ``programs[1].auth.token``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

Scope = Literal["members:read", "members:write", "points:earn", "points:redeem"]
ALL_SCOPES: tuple[Scope, ...] = ("members:read", "members:write", "points:earn", "points:redeem")


class ConfigError(Exception):
    """The configuration cannot be used. ``problems``: every fault found, each naming its key
    path (``programs[1].auth.token: ...``); the message is them one per line."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_body_bytes: int = 65_536
    #: the request's header fields, all together, and how many; beyond: 431
    max_header_bytes: int = 16_384
    max_headers: int = 100
    #: an idle keep-alive connection is closed after this many seconds
    keep_alive_seconds: float = 5.0
    #: connections (and requests in flight) one worker serves at once; beyond: 503
    max_connections_per_worker: int = 1000
    #: a request's line and headers must arrive within this many seconds (408, or a silent
    #: close for a connection that sent nothing); its body within ``body_timeout_seconds``
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    docs: bool = True
    metrics_public: bool = True


class RedisSettings(_Section):
    url: str | None = None
    key_prefix: str = "lg"
    #: replicas that must acknowledge an idempotency record before the gateway relies on it
    #: ("auto": 1 for Sentinel and Cluster URLs, 0 for a single server or the embedded one)
    replica_acks: int | Literal["auto"] = "auto"
    replica_ack_timeout_ms: int = 500
    #: the embedded Redis (no ``url``): where it keeps its append-only file, and whether
    #: it keeps one at all (``persist: false`` forgets everything at each restart)
    data_dir: str | None = None
    persist: bool = True

    def acks(self) -> int | None:
        """``replica_acks`` as the store takes it (``None``: the URL's safe default)."""
        return None if self.replica_acks == "auto" else self.replica_acks


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"
    #: stdout, stderr or a file path (appended to)
    output: str = "stdout"


class ReconcileSettings(_Section):
    """How unknown outcomes are settled without a retry (docs/operations.md)."""

    #: run the background reconciler in every worker
    enabled: bool = True
    #: how long after an attempt that may have reached the provider a write found absent
    #: is taken as never applied (a request still in flight there would have landed by
    #: then); default: twice the operation's read timeout plus the connect timeout
    settle_seconds: float | None = None
    #: first look at an unknown after this; then twice as long each time, up to the max
    first_check_seconds: float = 5.0
    max_interval_seconds: float = 300.0
    #: stop looking after this age (the unknown stays open and listed, for an operator);
    #: default: 6 h, or half of ``retention_seconds`` when that is shorter
    give_up_seconds: int | None = None
    #: how often each worker asks the schedule for due records, and how many it takes
    poll_seconds: float = 1.0
    batch: int = 20


class IdempotencySettings(_Section):
    retention_seconds: int = 86_400
    #: how long a running write holds its key without renewing it (it renews every third)
    lease_seconds: int = 5
    #: after Redis lost its data, look every write up upstream before sending it, for
    #: ``retention_seconds`` (a retry of a write acknowledged before the loss is then found)
    check_after_store_loss: bool = True
    reconcile: ReconcileSettings = msgspec.field(default_factory=ReconcileSettings)

    @property
    def give_up_seconds(self) -> int:
        configured = self.reconcile.give_up_seconds
        return configured if configured is not None else min(21_600, self.retention_seconds // 2)


class AggregateSettings(_Section):
    """The BFF endpoints (overview, wallet)."""

    part_deadline_seconds: float = 2.0
    recent_activity: int = 5
    wallet_max_items: int = 20


class RateLimitSettings(_Section):
    """At most ``requests`` per ``per_seconds`` (a burst of ``requests`` is allowed)."""

    requests: int
    per_seconds: float = 1.0


class IdentitySettings(_Section):
    """End-user JWTs (member-scoped access) from an identity provider."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    #: static public keys (PEM or JWK JSON), instead of or besides ``jwks_url``
    keys: list[str] = msgspec.field(default_factory=list)
    algorithms: list[str] = msgspec.field(default_factory=lambda: ["RS256", "ES256"])
    leeway_seconds: int = 60
    #: claim listing the memberships the token may touch: "program:member_id" strings or
    #: {"program": ..., "member_id": ...} objects
    memberships_claim: str = "memberships"
    #: claim with the token's scopes (space-separated string or list)
    scopes_claim: str = "scope"
    #: scopes a member token may ever carry (its own claim can only narrow this)
    allowed_scopes: list[Scope] = msgspec.field(default_factory=lambda: ["members:read"])
    jwks_cache_seconds: int = 300
    rate_limit: RateLimitSettings | None = None
    #: the longest a token may live (``exp`` - ``iat``, or ``exp`` - now without ``iat``)
    max_token_lifetime_seconds: int = 86_400


class ClientSettings(_Section):
    id: str
    api_key_sha256: str
    programs: list[str]
    scopes: list[Scope]
    rate_limit: RateLimitSettings | None = None
    #: program id -> a tighter limit for this client on that program
    program_rate_limits: dict[str, RateLimitSettings] = msgspec.field(default_factory=dict)

    def allows_program(self, program_id: str) -> bool:
        return "*" in self.programs or program_id in self.programs


class TimeoutSettings(_Section):
    connect_seconds: float = 2.0
    read_seconds: float = 5.0
    #: per-operation read timeouts (operation name -> seconds), e.g. {earn: 10}
    operations: dict[str, float] = msgspec.field(default_factory=dict)


class CircuitSettings(_Section):
    failure_threshold: int = 5
    open_seconds: float = 30.0


class ConnectionSettings(_Section):
    """The pool of connections to a program's provider, per worker process.

    A call holds a connection for the provider's latency, so one worker serves at most
    ``max / latency`` calls a second (200 connections at 200 ms: 1,000/s). Calls beyond
    ``max`` wait in line; a call that waited ``queue_timeout_seconds``, or finds
    ``max_waiting`` already waiting, is answered 503 by the gateway for itself.
    """

    max: int = 200
    max_waiting: int = 1000
    queue_timeout_seconds: float = 2.0


class RetrySettings(_Section):
    max_retries: int = 2
    budget_ratio: float = 0.1


class PointsValueSettings(_Section):
    points_per_unit: int
    currency: str


class ProgramSettings(_Section):
    id: str
    name: str
    provider: str
    base_url: str
    #: the provider's own shape (its connector's ``Auth``), checked by the provider registry
    auth: dict[str, Any] = msgspec.field(default_factory=dict)
    points_value: PointsValueSettings | None = None
    balance_ttl_seconds: int = 30
    max_stale_seconds: int = 600
    timeouts: TimeoutSettings = msgspec.field(default_factory=TimeoutSettings)
    circuit: CircuitSettings = msgspec.field(default_factory=CircuitSettings)
    retries: RetrySettings = msgspec.field(default_factory=RetrySettings)
    connections: ConnectionSettings = msgspec.field(default_factory=ConnectionSettings)
    ca_bundle: str | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class Settings(_Section):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    redis: RedisSettings = msgspec.field(default_factory=RedisSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    idempotency: IdempotencySettings = msgspec.field(default_factory=IdempotencySettings)
    aggregates: AggregateSettings = msgspec.field(default_factory=AggregateSettings)
    identity: IdentitySettings | None = None
    clients: list[ClientSettings] = msgspec.field(default_factory=list)
    programs: list[ProgramSettings] = msgspec.field(default_factory=list)

    def program(self, program_id: str) -> ProgramSettings | None:
        return next((p for p in self.programs if p.id == program_id), None)


#: a program id (also the documented pattern of the `program` path parameter)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
