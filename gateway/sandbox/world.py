"""The sandbox world: every registered provider's simulator over HTTP, with demo data.

Shared by ``gateway demo`` and the integration tests, so both exercise the same setup. Each
provider package brings its simulator (``Provider.simulator``); the world starts one per
registered provider and writes one program for each, so it names no provider itself (the
shortcuts at the end are the tests' names for the four built-in ones). The tokens and keys
here are demo values for the sandbox only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.connectors import registry
from gateway.sandbox import identity
from gateway.sandbox.runner import ServerThread
from gateway.sandbox.simulator import PLACEHOLDER_URL, Simulator, load

DEMO_API_KEY = "demo-key-for-the-sandbox-only"
READER_KEY = "reader-" + DEMO_API_KEY  # a second client: alpha-store, members:read only
LIMITED_KEY = "limited-" + DEMO_API_KEY  # a third client: 10 requests per minute


class World:
    """Start with :meth:`start`; then each simulator's ``url`` and ``state`` are live."""

    def __init__(self, servers: ServerThread | None = None) -> None:
        self.servers = servers or ServerThread()
        #: provider name -> its simulator, in the registry's order
        self.simulators: dict[str, Simulator] = {
            provider.name: load(provider.simulator) for provider in registry.providers()
        }
        self.idp = identity.IdentityProvider()
        # a placeholder until start(): the config renders (e.g. for the OpenAPI export) before
        self.idp_url = PLACEHOLDER_URL
        #: the port the identity provider listens on (0: any free one)
        self.idp_port = 0
        #: logging of every gateway configured from this world (tests send it to a file)
        self.log_level = "warning"
        self.log_output = "stdout"

    def start(self) -> World:
        for simulator in self.simulators.values():
            simulator.start(self.servers)
        self.idp_url = self.servers.add(identity.create_app(self.idp), port=self.idp_port)
        return self

    def config_yaml(
        self,
        *,
        api_key: str = DEMO_API_KEY,
        redis_url: str | None = None,
        port: int = 8080,
        lease_seconds: int = 5,
        circuit_open_seconds: float = 30,
        key_prefix: str = "lg",
        part_deadline_seconds: float = 2.0,
        redis_data_dir: str | None = None,
        replica_acks: int | str = "auto",
        reconcile: str | None = None,
    ) -> str:
        """A gateway configuration for this world, in the documented file format.

        ``reconcile``: an ``idempotency.reconcile`` mapping in YAML flow style, e.g.
        ``{settle_seconds: 1, first_check_seconds: 0.2}`` (default: the documented one).

        Without ``redis_url`` the gateway uses its embedded Redis: kept in
        ``redis_data_dir`` when given, else not persisted at all (the simulators start
        afresh each time too, so records of an earlier run would describe nothing)."""
        key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        programs = "".join(
            simulator.program_yaml(circuit_open_seconds=circuit_open_seconds)
            for simulator in self.simulators.values()
        )
        if redis_url:
            redis_line = f"  url: {redis_url}\n  replica_acks: {replica_acks}\n"
        elif redis_data_dir:
            redis_line = f"  data_dir: {redis_data_dir}\n  persist: true\n"
        else:
            redis_line = "  persist: false\n"
        return f"""\
server:
  host: 127.0.0.1
  port: {port}
redis:
{redis_line}  key_prefix: {key_prefix}
logging:
  level: {self.log_level}
  format: json
  output: {self.log_output}
idempotency:
  lease_seconds: {lease_seconds}
{f"  reconcile: {reconcile}{chr(10)}" if reconcile else ""}aggregates:
  part_deadline_seconds: {part_deadline_seconds}
identity:
  issuer: {identity.ISSUER}
  audience: {identity.AUDIENCE}
  jwks_url: {self.idp_url}/.well-known/jwks.json
  allowed_scopes: [members:read, points:redeem]
clients:
  - id: demo
    api_key_sha256: {key_hash}
    programs: ["*"]
    scopes: [members:read, members:write, points:earn, points:redeem]
  - id: reader
    api_key_sha256: {hashlib.sha256(("reader-" + api_key).encode()).hexdigest()}
    programs: [alpha-store]
    scopes: [members:read]
  - id: limited
    api_key_sha256: {hashlib.sha256(("limited-" + api_key).encode()).hexdigest()}
    programs: ["*"]
    scopes: [members:read]
    rate_limit: {{requests: 10, per_seconds: 60}}
programs:
{programs}"""

    def stop(self) -> None:
        self.servers.stop()
        for simulator in self.simulators.values():
            simulator.stop()

    # -- the tests' shortcuts to the built-in providers' simulators ------------------------
    def _state(self, provider: str) -> Any:
        return self.simulators[provider].state

    @property
    def cp(self) -> Any:
        return self._state("cpextender")

    @property
    def alpha(self) -> Any:
        return self._state("alpha")

    @property
    def irt(self) -> Any:
        return self._state("irt")

    @property
    def syw(self) -> Any:
        return self._state("shopyourway")

    @property
    def cp_url(self) -> str:
        return self.simulators["cpextender"].url

    @property
    def alpha_url(self) -> str:
        return self.simulators["alpha"].url

    @property
    def irt_url(self) -> str:
        return self.simulators["irt"].url

    @property
    def syw_url(self) -> str:
        return self.simulators["shopyourway"].url

    @property
    def _syw(self) -> Any:
        return self.simulators["shopyourway"]

    @property
    def syw_token_url(self) -> str:
        return str(self._syw.token_url)

    @property
    def syw_key_file(self) -> Any:
        return self._syw.key_file

    def new_cp_customer(self) -> str:
        return self.simulators["cpextender"].new_member()

    def new_irt_card(self) -> str:
        """An enrolled card with PIN ``1``."""
        return self.simulators["irt"].new_member()

    def new_syw_member(self, points: int = 0) -> str:
        return str(self._syw.new_member(points))
