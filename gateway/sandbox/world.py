"""The sandbox world: every provider simulator running over HTTP with demo data.

Shared by ``gateway demo`` and the integration tests, so both exercise the same setup.
The tokens and keys here are demo values for the sandbox only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
import uuid
from pathlib import Path

from gateway.sandbox import alpha, cpextender, identity, irt, shopyourway
from gateway.sandbox.common import drop_on_fault
from gateway.sandbox.runner import ServerThread
from gateway.sandbox.shopyourway_keys import DEMO_PRIVATE_KEY_PEM, DEMO_PUBLIC_KEY_PEM

CP_TOKEN = "cp-demo-token"
ALPHA_TOKEN = "alpha-demo-token"
IRT_USER = "irt-demo-user"
IRT_PASS = "irt-demo-pass"
SYW_CLIENT_ID = "DEMO_PARTNER"
SYW_REQUESTOR_ID = "DEMO"
DEMO_API_KEY = "demo-key-for-the-sandbox-only"
READER_KEY = "reader-" + DEMO_API_KEY  # a second client: alpha-store, members:read only
LIMITED_KEY = "limited-" + DEMO_API_KEY  # a third client: 10 requests per minute


def _us_date(days_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).strftime("%m/%d/%Y")


def seed_cp(state: cpextender.CPState) -> None:
    """The document's sample customer (with recent dates) plus a plain one."""
    state.add_customer(
        cpextender.Customer(
            customer_number="2059378440",
            display_number="CPOL-123185",
            points=1504,
            open_authorizations=1000,
            history=[
                {"Activity": "Historical Summary", "Date": "11/29/2015", "PointAmount": 1404},
                {
                    "Date": _us_date(30),
                    "PointAmount": 100,
                    "Document": "123456789",
                    "Reason": "Facebook Share",
                },
                {
                    "Activity": "Pending Charge",
                    "Date": _us_date(29),
                    "PointAmount": 1000,
                    "Location": "Web Order",
                    "Document": "WB-101-10444",
                },
            ],
        )
    )
    state.add_customer(
        cpextender.Customer(
            customer_number="1000000001",
            display_number="CPOL-100001",
            points=5000,
            history=[{"Activity": "Historical Summary", "Date": "01/01/2020", "PointAmount": 5000}],
        )
    )


def seed_alpha(state: alpha.AlphaState) -> None:
    state.add(
        alpha.recipient(
            id="OLMKne7Y3N",
            email="wallace@example.com",
            public_key="dQw4w9WgXcQ",
            firstname="Wallace",
            surname="Wensleydale",
            company="Anti-Pesto Pest Control",
            address1="62 West Wallaby Street",
            town="Wigan",
            postcode="WG7 7FU",
            country_code="gb",
            telephone="01942 992143",
            balance=234,
            created_at="2020-01-24 15:14:05",
            updated_at="2020-03-24 22:20:10",
        )
    )


def seed_irt(state: irt.IRTState) -> None:
    """An enrolled card (PIN 1234), an issued card not yet enrolled, and a cancelled one."""
    state.add(
        irt.Card(
            number="6001000000000001",
            enrolled=True,
            pin="1234",
            spendable=500,
            annual=120,
            enrolled_on="2024-03-01 10:00:00",
            profile={
                "Email": "ann@example.com",
                "FirstName": "Ann",
                "LastName": "Example",
                "Phone": "5550100",
                "City": "Springfield",
                "State": "IL",
                "Zip": "62701",
            },
        )
    )
    state.add(irt.Card(number="6001000000000002", spendable=0))
    state.add(irt.Card(number="6001000000000003", cancelled=True))


class World:
    """Start with :meth:`start`; then ``cp_url``/``alpha_url`` and the states are live."""

    def __init__(self, servers: ServerThread | None = None) -> None:
        self.servers = servers or ServerThread()
        self.cp = cpextender.CPState(CP_TOKEN)
        self.alpha = alpha.AlphaState(ALPHA_TOKEN)
        self.irt = irt.IRTState(IRT_USER, IRT_PASS)
        self.syw = shopyourway.SYWState(
            SYW_CLIENT_ID, DEMO_PUBLIC_KEY_PEM, requestor_id=SYW_REQUESTOR_ID
        )
        # the demo private key as a file, as a deployment would mount its key
        self._key_dir = Path(tempfile.mkdtemp(prefix="lg-syw-"))
        self.syw_key_file = self._key_dir / "syw-demo-private.pem"
        self.syw_key_file.write_text(DEMO_PRIVATE_KEY_PEM, encoding="utf-8")
        # placeholders until start(): the config renders (e.g. for the OpenAPI export) before
        self.cp_url = "http://127.0.0.1:9"
        self.alpha_url = "http://127.0.0.1:9"
        self.irt_url = "http://127.0.0.1:9"
        self.syw_url = "http://127.0.0.1:9"
        self.idp = identity.IdentityProvider()
        self.idp_url = "http://127.0.0.1:9"
        #: logging of every gateway configured from this world (tests send it to a file)
        self.log_level = "warning"
        self.log_output = "stdout"

    def start(self) -> World:
        seed_cp(self.cp)
        seed_alpha(self.alpha)
        self.cp_url = self.servers.add(drop_on_fault(cpextender.create_app(self.cp)))
        self.alpha_url = self.servers.add(drop_on_fault(alpha.create_app(self.alpha)))
        seed_irt(self.irt)
        self.irt_url = self.servers.add(drop_on_fault(irt.create_app(self.irt)))
        shopyourway.seed_shopyourway(self.syw)
        self.syw_url = self.servers.add(drop_on_fault(shopyourway.create_app(self.syw)))
        self.syw.token_url = self.syw_token_url
        self.idp_url = self.servers.add(identity.create_app(self.idp))
        return self

    @property
    def syw_token_url(self) -> str:
        return self.syw_url + shopyourway.TOKEN_PATH

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
  - id: cafe-rewards
    name: Cafe Rewards
    provider: cpextender
    base_url: {self.cp_url}
    auth: {{type: bearer, token: {CP_TOKEN}}}
    points_value: {{points_per_unit: 100, currency: USD}}
    balance_ttl_seconds: 30
    circuit: {{open_seconds: {circuit_open_seconds}}}
  - id: alpha-store
    name: Alpha Reward Store
    provider: alpha
    base_url: {self.alpha_url}
    auth: {{type: bearer, token: {ALPHA_TOKEN}}}
    points_value: {{points_per_unit: 100, currency: GBP}}
    balance_ttl_seconds: 30
    circuit: {{open_seconds: {circuit_open_seconds}}}
  - id: irt-rewards
    name: IRT Rewards
    provider: irt
    base_url: {self.irt_url}
    auth: {{type: credentials, username: {IRT_USER}, password: {IRT_PASS}}}
    points_value: {{points_per_unit: 100, currency: USD}}
    balance_ttl_seconds: 30
    circuit: {{open_seconds: {circuit_open_seconds}}}
    options: {{security_mode: medium}}
  - id: syw-rewards
    name: Shop Your Way Rewards
    provider: shopyourway
    base_url: {self.syw_url}/tellurideAS
    auth:
      type: jwt_bearer
      client_id: {SYW_CLIENT_ID}
      token_url: {self.syw_token_url}
      private_key_file: {self.syw_key_file}
    balance_ttl_seconds: 30
    circuit: {{open_seconds: {circuit_open_seconds}}}
    options: {{requestor_id: {SYW_REQUESTOR_ID}, offer_id: GATEWAY_BONUS}}
"""

    # -- fresh members for write tests (each write lands on its own member) ---------------
    def new_cp_customer(self) -> str:
        number = "4" + str(uuid.uuid4().int)[:9]
        self.cp.add_customer(cpextender.Customer(customer_number=number, display_number=number))
        return number

    def new_irt_card(self) -> str:
        card = "9" + str(uuid.uuid4().int)[:15]
        self.irt.add(irt.Card(number=card, enrolled=True, pin="1"))
        return card

    def new_syw_member(self, points: int = 0) -> str:
        number = "7081" + str(uuid.uuid4().int)[:12]
        self.syw.add_member(
            number,
            points=points,
            profile={
                "EmailAddress": f"{number}@example.com",
                "FirstName": "A",
                "LastName": "B",
                "ZipCode": "60179",
            },
        )
        return number

    def stop(self) -> None:
        self.servers.stop()
        shutil.rmtree(self._key_dir, ignore_errors=True)
