"""``gateway demo``: every registered provider simulated, the sandbox identity provider, an
embedded Redis that keeps nothing, and the gateway — with a banner that shows how to use it.

SIGTERM, SIGHUP and SIGINT (Ctrl+C) all stop it the same way: the gateway drains, its
embedded Redis stops, the simulators stop, their temporary files go. As a container's PID 1
a signal without a handler would be ignored, so the handlers are what make ``docker stop``
work.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import threading
from types import FrameType
from typing import TYPE_CHECKING

from gateway.config import parse_settings

if TYPE_CHECKING:
    from gateway.sandbox.world import World

#: where the demo's sandbox identity provider listens: the gateway's port + 1 when free
IDP_PORT_OFFSET = 1
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def banner(world: World, base: str, idp: str) -> str:
    from gateway.connectors import registry
    from gateway.sandbox.world import DEMO_API_KEY

    providers = ", ".join(
        f"{registry.PROVIDERS[name].title} {simulator.url}"
        for name, simulator in world.simulators.items()
    )
    members = "".join(
        f"  {simulator.program_id}: {line}\n"
        for simulator in world.simulators.values()
        for line in simulator.try_lines()
    )
    auth = f"Authorization: Bearer {DEMO_API_KEY}"
    json = "Content-Type: application/json"
    members_url = f"{base}/v1/programs"
    return f"""
Loyalty Gateway demo is running at {base}  (docs: {base}/docs, guide: docs/api-guide.md)
Simulated providers: {providers};
an embedded Redis that keeps nothing (the simulators start afresh each time too;
`gateway serve` keeps its data). Member tokens: POST {idp}/token (sandbox identity provider).

Demo API key: {DEMO_API_KEY}  (every program, every scope)

Demo members:
{members}
Try:
  curl -s {members_url} -H '{auth}'
  curl -s {members_url}/cafe-rewards/members/2059378440/balance -H '{auth}'
  curl -s -X POST {members_url}/cafe-rewards/members/2059378440/earn \\
       -H '{auth}' -H 'Idempotency-Key: demo-earn-1' -H '{json}' \\
       -d '{{"points": 50, "reason": "Welcome bonus"}}'
  # enroll the issued IRT card, then read it with its new PIN
  curl -s -X POST {members_url}/irt-rewards/members -H '{auth}' -H '{json}' \\
       -H 'Idempotency-Key: demo-enroll-1' -H 'X-Member-PIN: 4321' \\
       -d '{{"card_number": "6001000000000002", "email": "sam@example.com", "first_name": "Sam"}}'
  # change Alpha's recipient (a JSON Merge Patch)
  curl -s -X PATCH {members_url}/alpha-store/members/OLMKne7Y3N -H '{auth}' \\
       -H 'Content-Type: application/merge-patch+json' -d '{{"phone": "01942 000000"}}'
  # a member token: reaches only its own membership
  TOKEN=$(curl -s -X POST {idp}/token -d program=cafe-rewards -d member_id=2059378440 \\
          | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  curl -s {members_url}/cafe-rewards/members/2059378440/balance -H "Authorization: Bearer $TOKEN"

Press Ctrl+C to stop."""


def cmd_demo(args: argparse.Namespace) -> None:
    from gateway.app import create_app
    from gateway.http_limits import uvicorn_options
    from gateway.sandbox.world import World

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    world = World()
    try:
        idp_port = args.port + IDP_PORT_OFFSET if args.port else 0
        world.idp_port = idp_port if idp_port and _free("127.0.0.1", idp_port) else 0
        world.start()
        world.log_level = "info" if args.verbose else "warning"
        settings = parse_settings(world.config_yaml(port=args.port))
        url = world.servers.add(
            create_app(settings), port=args.port, host=args.host, **uvicorn_options(settings.server)
        )
        base = url.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - only rewriting for display
        print(banner(world, base, world.idp_url), flush=True)
        stop.wait()
    finally:
        world.stop()
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
