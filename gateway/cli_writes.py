"""``gateway writes unknown`` and ``gateway writes settle``: unknown write outcomes for ops
(runbook: docs/operations.md#unknown-write-outcomes)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import msgspec

from gateway.infra.store import Store
from gateway.services.idempotency import IdempotencyService
from gateway.services.unknowns import UnknownWrite, open_unknowns, settle_by_hand
from gateway.settings import Settings


def redis_url(settings: Settings, given: str | None) -> str:
    """``--redis-url``, else ``redis.url``, else the socket of a running embedded Redis."""
    if given:
        return given
    if settings.redis.url:
        return settings.redis.url
    from gateway.infra.embedded_redis import default_data_dir

    data_dir = Path(settings.redis.data_dir) if settings.redis.data_dir else default_data_dir()
    socket = data_dir / "redis.sock"
    if not socket.exists():
        sys.exit(
            f"gateway: no redis.url and no embedded Redis socket at {socket}; "
            "is the gateway running? (or pass --redis-url)"
        )
    return f"unix://{socket}?db=0"


def _row(item: UnknownWrite) -> list[str]:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}s"

    return [
        item.client or "?",
        item.key or "?",
        item.program,
        item.operation,
        item.member_id or "-",
        item.reference or "-",
        seconds(item.age_seconds),
        seconds(item.last_check_seconds_ago),
        str(item.checks),
        "gave up" if item.next_check_in_seconds is None else seconds(item.next_check_in_seconds),
    ]


HEADER = [
    "CLIENT",
    "KEY",
    "PROGRAM",
    "OPERATION",
    "MEMBER",
    "REFERENCE",
    "AGE",
    "CHECKED",
    "CHECKS",
    "NEXT",
]


def _with_service(settings: Settings, url: str) -> tuple[Store, IdempotencyService]:
    store = Store.from_url(url, settings.redis.key_prefix, replica_acks=settings.redis.acks())
    return store, IdempotencyService(store.records, settings.idempotency)


async def list_unknown(settings: Settings, url: str, program: str | None, as_json: bool) -> int:
    store, service = _with_service(settings, url)
    try:
        found = await open_unknowns(service, program)
    finally:
        await store.aclose()
    if as_json:
        print(json.dumps(msgspec.to_builtins(found), indent=2))
        return 0
    if not found:
        print("no open unknown write outcomes")
        return 0
    table = [HEADER, *(_row(item) for item in found)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


async def settle(settings: Settings, url: str, args: argparse.Namespace) -> int:
    store, service = _with_service(settings, url)
    try:
        done = await settle_by_hand(
            service,
            args.client,
            args.key,
            applied=args.applied,
            redemption_id=args.id,
            member_id=args.member_id,
        )
    except (LookupError, ValueError) as exc:
        print(f"gateway: not settled: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.aclose()
    print(done)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    writes = sub.add_parser("writes", help="unknown write outcomes: list them, settle one")
    inner = writes.add_subparsers(dest="writes_command", required=True)
    unknown = inner.add_parser("unknown", help="list the writes whose outcome is unknown")
    unknown.add_argument("--program", help="only this program")
    unknown.add_argument("--json", action="store_true", help="JSON instead of a table")
    settle_cmd = inner.add_parser(
        "settle", help="record a decision made with the provider's support desk"
    )
    settle_cmd.add_argument("client", help="the client id of the write (CLIENT column)")
    settle_cmd.add_argument("key", help="its Idempotency-Key (KEY column)")
    decision = settle_cmd.add_mutually_exclusive_group(required=True)
    decision.add_argument("--applied", action="store_true", help="the provider applied it")
    decision.add_argument(
        "--not-applied", dest="applied", action="store_false", help="it never applied it"
    )
    settle_cmd.add_argument("--id", help="a redemption's authorization code, if known")
    settle_cmd.add_argument("--member-id", help="for an enrollment: the member id it made")
    for parser in (unknown, settle_cmd):
        parser.add_argument("--config", help="YAML file (default: $GATEWAY_CONFIG)")
        parser.add_argument("--redis-url", help="default: redis.url, or the embedded socket")
    return writes


def run(settings: Settings, args: argparse.Namespace) -> int:
    url = redis_url(settings, args.redis_url)
    if args.writes_command == "unknown":
        return asyncio.run(list_unknown(settings, url, args.program, args.json))
    return asyncio.run(settle(settings, url, args))
