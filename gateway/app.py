"""create_app(settings): routes, lifespan (Redis, connectors), exception handler."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, Response
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.routes import HTTPRoute
from litestar.types import Scope
from redis.exceptions import RedisError

from gateway import __version__
from gateway.api import docs_ui, openapi
from gateway.api import fast_balance as fast_balance_path
from gateway.api.aggregates import AggregateController
from gateway.api.auth import ApiKeyMiddleware
from gateway.api.bodies import strict_body
from gateway.api.docs_ui import BundledSwaggerUI
from gateway.api.edge import Edge
from gateway.api.members import MemberController
from gateway.api.points import PointsController
from gateway.api.problems import handle_exception
from gateway.api.programs import ProgramController
from gateway.api.state import Services
from gateway.api.system import healthz, openapi_document, prometheus_metrics, readyz
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.infra.identity import MemberTokens
from gateway.infra.logging import configure as configure_logging
from gateway.infra.store import Store
from gateway.services.access import Access, Rule
from gateway.services.aggregates import AggregateService
from gateway.services.balances import BalanceService
from gateway.services.idempotency import IdempotencyService
from gateway.services.programs import ProgramDirectory
from gateway.services.ratelimit import RateLimiter
from gateway.services.reads import ReadService
from gateway.services.reconciler import Reconciler
from gateway.services.writes import WriteService
from gateway.settings import Settings

_log = structlog.get_logger("gateway.app")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Loyalty Gateway",
        version=__version__,
        description=(
            "One normalized REST API in front of many loyalty-points providers. "
            "Errors are RFC 9457 problem+json with a stable `code`; state-changing POSTs "
            "need an `Idempotency-Key` header."
        ),
        servers=[Server(url="/")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The client's API key, or an end-user (member) JWT from the "
                    "configured identity provider, limited to the memberships it lists.",
                )
            }
        ),
        path="/docs",
        render_plugins=[BundledSwaggerUI()],
    )


def _exit_for_restart() -> None:
    """The embedded Redis cannot be kept running: stop (SIGTERM drains) so that whatever
    supervises the gateway starts it again."""
    os.kill(os.getpid(), signal.SIGTERM)


def start_embedded_redis(settings: Settings) -> EmbeddedRedis:
    """The embedded Redis of these settings, started and supervised."""
    embedded = EmbeddedRedis(data_dir=settings.redis.data_dir, persist=settings.redis.persist)
    embedded.start()
    embedded.supervise(on_give_up=_exit_for_restart)
    return embedded


def create_litestar(
    settings: Settings,
    store: Store | None = None,
    *,
    embedded_url: str | None = None,
    access_rules: Sequence[Rule] = (),
) -> Litestar:
    """The litestar app. ``store`` may be given (tests); otherwise one is made at start-up:
    on ``redis.url``, on ``embedded_url`` (the embedded Redis ``gateway serve`` started for
    its workers), or on an embedded Redis of its own. ``access_rules`` are added to the
    access decision of every request (services/access.py)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        embedded: EmbeddedRedis | None = None
        own_store = store
        if own_store is None:
            url = settings.redis.url or embedded_url
            if url is None:
                embedded = start_embedded_redis(settings)
                url = embedded.url
            own_store = Store.from_url(
                url,
                settings.redis.key_prefix,
                replica_acks=settings.redis.acks(),
                ack_timeout_ms=settings.redis.replica_ack_timeout_ms,
            )
        try:
            await own_store.records.mark_fresh()
        except RedisError:
            # not fatal: a claim that finds no marker treats Redis as having lost its data
            _log.warning("redis_unavailable_at_start")
        directory = ProgramDirectory(settings, own_store)
        balances = BalanceService(own_store)
        writes = WriteService(balances, settings.idempotency.reconcile)
        idempotency = IdempotencyService(own_store.records, settings.idempotency)
        limiter = RateLimiter(own_store)
        identity = MemberTokens(settings.identity) if settings.identity else None
        access = Access(settings, directory, limiter, identity, access_rules)
        app.state.services = Services(
            settings=settings,
            store=own_store,
            directory=directory,
            balances=balances,
            writes=writes,
            aggregates=AggregateService(settings.aggregates, balances, access),
            idempotency=idempotency,
            access=access,
            reads=ReadService(),
            identity=identity,
            embedded_store=settings.redis.url is None and store is None,
        )
        app.state.settings = settings
        app.state.directory = directory
        reconciling = None
        if settings.idempotency.reconcile.enabled:
            reconciler = Reconciler(
                idempotency, writes, directory.connectors, settings.idempotency.reconcile
            )
            reconciling = asyncio.get_running_loop().create_task(reconciler.run())
        try:
            yield
        finally:
            if reconciling is not None:
                reconciling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reconciling
            await directory.aclose()
            if app.state.services.identity is not None:
                await app.state.services.identity.aclose()
            if store is None:
                await own_store.aclose()
            if embedded is not None:
                embedded.stop()

    auth = DefineMiddleware(
        ApiKeyMiddleware,
        exclude=["^/healthz", "^/readyz", "^/metrics", "^/docs", "^/openapi.json"],
    )
    handlers: list[Any] = [
        ProgramController,
        MemberController,
        PointsController,
        AggregateController,
        healthz,
        readyz,
    ]
    if settings.server.docs:
        handlers += [openapi_document, docs_ui.assets_router()]
    if settings.server.metrics_public:
        handlers.append(prometheus_metrics)
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        middleware=[auth],
        exception_handlers={Exception: handle_exception},
        before_request=strict_body,
        openapi_config=openapi_config() if settings.server.docs else None,
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
    )
    _answer_options_with_every_method(app)
    if settings.server.docs:
        # built once here, then served as is by /openapi.json and /docs/openapi.json
        openapi.finish(app.openapi_schema, wallet_max_items=settings.aggregates.wallet_max_items)
    return app


def _options_handler(allow: str) -> Callable[[Scope], Response[None]]:
    def options_handler(scope: Scope) -> Response[None]:
        return Response(content=None, status_code=204, headers={"Allow": allow})

    return options_handler


def _answer_options_with_every_method(app: Litestar) -> None:
    """litestar 2.x keeps, for a path whose handlers two registrations add (the members
    collection, a member), the OPTIONS handler made for the first: its ``Allow`` then misses
    the later methods (``OPTIONS, POST`` on ``/members``, which also has GET), while the
    405's ``Allow`` is right. Each route's OPTIONS handler is given the route's own list."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        allow = ", ".join(sorted(route.methods))
        for handler in route.route_handlers:
            if handler.handler_name == "options_handler":
                handler._fn = _options_handler(allow)  # type: ignore[assignment]  # sync, as litestar's own


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    fast_balance: bool = True,
    embedded_url: str | None = None,
    access_rules: Sequence[Rule] = (),
) -> Edge:
    """The ASGI application to serve (logging is configured from the settings).

    ``fast_balance=False`` sends plain balance reads through litestar too (the tests compare
    both ways; see gateway/api/fast_balance.py)."""
    log = settings.logging
    configure_logging(log.level, log.format, log.output)
    app = create_litestar(settings, store, embedded_url=embedded_url, access_rules=access_rules)
    return Edge(
        app,
        fast_path=fast_balance_path.answer if fast_balance else None,
        max_header_bytes=settings.server.max_header_bytes,
        max_headers=settings.server.max_headers,
    )
