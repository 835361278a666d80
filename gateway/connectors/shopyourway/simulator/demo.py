"""The sandbox world's ShopYourWay (gateway demo, tests): the token server and the Rewards
API on one server, the demo key pair, the seeded members."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from gateway.connectors.shopyourway.simulator.app import create_app
from gateway.connectors.shopyourway.simulator.keys import (
    DEMO_PRIVATE_KEY_PEM,
    DEMO_PUBLIC_KEY_PEM,
)
from gateway.connectors.shopyourway.simulator.seed import DEMO_MEMBER_NUMBER, seed_shopyourway
from gateway.connectors.shopyourway.simulator.state import TOKEN_PATH, SYWState
from gateway.sandbox.common import drop_on_fault
from gateway.sandbox.runner import ServerThread
from gateway.sandbox.simulator import PLACEHOLDER_URL, program_yaml

#: the Telluride client id and requestor id of the sandbox only
SANDBOX_CLIENT_ID = "DEMO_PARTNER"
SANDBOX_REQUESTOR_ID = "DEMO"


class SYWSimulator:
    provider = "shopyourway"
    program_id = "syw-rewards"

    def __init__(self) -> None:
        self.state = SYWState(
            SANDBOX_CLIENT_ID, DEMO_PUBLIC_KEY_PEM, requestor_id=SANDBOX_REQUESTOR_ID
        )
        self.url = PLACEHOLDER_URL
        # the demo private key as a file, as a deployment would mount its key
        self._key_dir = Path(tempfile.mkdtemp(prefix="lg-syw-"))
        self.key_file = self._key_dir / "syw-demo-private.pem"
        self.key_file.write_text(DEMO_PRIVATE_KEY_PEM, encoding="utf-8")

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def start(self, servers: ServerThread) -> None:
        seed_shopyourway(self.state)
        self.url = servers.add(drop_on_fault(create_app(self.state)))
        self.state.token_url = self.token_url

    def program_yaml(self, *, circuit_open_seconds: float) -> str:
        return program_yaml(
            program_id=self.program_id,
            name="Shop Your Way Rewards",
            provider=self.provider,
            base_url=self.url + "/tellurideAS",
            auth={
                "type": "jwt_bearer",
                "client_id": SANDBOX_CLIENT_ID,
                "token_url": self.token_url,
                "private_key_file": str(self.key_file),
            },
            circuit_open_seconds=circuit_open_seconds,
            options=f"{{requestor_id: {SANDBOX_REQUESTOR_ID}, offer_id: GATEWAY_BONUS}}",
        )

    def new_member(self, points: int = 0) -> str:
        number = "7081" + str(uuid.uuid4().int)[:12]
        self.state.add_member(
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

    def try_lines(self) -> list[str]:
        return [
            f"member {DEMO_MEMBER_NUMBER} (BOB ROB, 11,000 points, offers, activity); enroll "
            "needs email, first_name, last_name and address.postal_code"
        ]

    def stop(self) -> None:
        shutil.rmtree(self._key_dir, ignore_errors=True)


def simulator() -> SYWSimulator:
    return SYWSimulator()
