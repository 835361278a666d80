"""One full partner flow through the Python client openapi-python-client generates from
openapi/openapi.json (imported from build/clients/python by tests/clients/test_clients.py).

Prints nothing; returns what it saw, and raises on the first surprise.
"""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_gateway_client import AuthenticatedClient
from loyalty_gateway_client.api.aggregates import (
    v1_programs_members_member_id_overview_overview as overview,
)
from loyalty_gateway_client.api.members import (
    v1_programs_members_enroll as enroll,
)
from loyalty_gateway_client.api.points import (
    v1_programs_members_member_id_balance_balance as balance,
)
from loyalty_gateway_client.api.points import (
    v1_programs_members_member_id_earn_earn as earn,
)
from loyalty_gateway_client.api.points import (
    v1_programs_members_member_id_redemptions_redeem as redeem,
)
from loyalty_gateway_client.api.points import (
    v1_programs_members_member_id_redemptions_redemption_id_void_void as void,
)
from loyalty_gateway_client.api.programs import (
    v1_programs_list_programs as list_programs,
)
from loyalty_gateway_client.models import (
    Address,
    EarnRequest,
    EnrollRequest,
    Member,
    Overview,
    Problem,
    ProgramList,
    Redemption,
    RedemptionRequest,
    Transaction,
)


def _unique() -> str:
    return "p" + uuid.uuid4().hex[:16]


def run(base_url: str, api_key: str, program: str = "syw-rewards") -> dict[str, Any]:
    seen: dict[str, Any] = {}
    client = AuthenticatedClient(base_url=base_url, token=api_key, raise_on_unexpected_status=True)
    with client:
        programs = list_programs.sync(client=client)
        assert isinstance(programs, ProgramList), programs
        seen["programs"] = [p.id for p in programs.data]
        assert program in seen["programs"]

        made = enroll.sync_detailed(
            program,
            client=client,
            idempotency_key=_unique(),
            body=EnrollRequest(
                email=f"{_unique()}@example.com",
                first_name="Py",
                last_name="Thon",
                address=Address(postal_code="60179"),
            ),
        )
        assert made.status_code == 201, made.content
        assert isinstance(made.parsed, Member)
        member_id = made.parsed.member_id
        seen["member_id"] = member_id

        reads = [balance.sync_detailed(program, member_id, client=client) for _ in range(2)]
        seen["balance_cache"] = [r.headers["cache-status"] for r in reads]
        assert "fwd=miss" in seen["balance_cache"][0]
        assert "; hit" in seen["balance_cache"][1]

        key, body = _unique(), EarnRequest(points=100, reference=_unique())
        earned, again = (
            earn.sync_detailed(program, member_id, client=client, body=body, idempotency_key=key)
            for _ in range(2)
        )
        assert earned.status_code == 201, earned.content
        assert isinstance(earned.parsed, Transaction)
        assert isinstance(again.parsed, Transaction)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.parsed.id == earned.parsed.id
        seen["earn"] = {"id": earned.parsed.id, "points": earned.parsed.points, "replayed": True}

        redeemed = redeem.sync_detailed(
            program,
            member_id,
            client=client,
            body=RedemptionRequest(points=50, reference=_unique()),
            idempotency_key=_unique(),
        )
        assert isinstance(redeemed.parsed, Redemption), redeemed.content
        seen["redemption"] = {"id": redeemed.parsed.id, "status": str(redeemed.parsed.status)}

        voided = void.sync_detailed(
            program, member_id, redeemed.parsed.id, client=client, idempotency_key=_unique()
        )
        assert voided.status_code == 200, voided.content
        assert isinstance(voided.parsed, Redemption)
        seen["void"] = {"status": str(voided.parsed.status)}

        whole = overview.sync(program, member_id, client=client)
        assert isinstance(whole, Overview), whole
        seen["overview"] = {"complete": whole.complete, "points": whole.balance.data.points}

        refused = redeem.sync_detailed(
            program,
            member_id,
            client=client,
            body=RedemptionRequest(points=1_000_000),
            idempotency_key=_unique(),
        )
        assert isinstance(refused.parsed, Problem), refused.content
        assert refused.headers["content-type"].startswith("application/problem+json")
        seen["problem"] = {"status": refused.parsed.status, "code": refused.parsed.code}
    return seen
