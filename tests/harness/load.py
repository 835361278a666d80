"""A write load that behaves like a careful client, and the verdict from the providers' ledgers.

Each write is an earn, a redemption or (ShopYourWay) a void on a fresh member (so a member's
ledger entries of that kind are exactly that write's applications; a void's member gets its
redemption made through the gateway before the load). Its client retries with the same
``Idempotency-Key`` on transport errors, ``409`` and ``5xx`` (honouring ``Retry-After``) until
a final answer or its deadline, spreading attempts over every gateway URL given. Afterwards
every acknowledged key is replayed once. The verdict is read from the simulators' own ledgers:

- ``duplicates``: writes applied more than once;
- ``lost``: writes answered 201 and not applied (or applied with other points);
- ``applied_unacknowledged``: applied, but the client never got a final answer;
- ``server_errors``: 500 answers seen (a 5xx that is not the upstream's doing);
- ``max_stuck_s``: the longest time from a write's first attempt to its final answer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.sandbox.world import DEMO_API_KEY, World

PROGRAMS = {"cpextender": "cafe-rewards", "shopyourway": "syw-rewards", "irt": "irt-rewards"}
RETRY_STATUSES = {409, 500, 502, 503, 504}


#: what a write does, by the ledger entries it leaves
Kind = str  # "earn" | "redeem" | "void"
#: the write mix a load runs by default: provider -> kind -> share of the writes
DEFAULT_MIX = {
    "cpextender": {"earn": 3, "redeem": 2},
    "shopyourway": {"earn": 2, "redeem": 2, "void": 1},
    "irt": {"earn": 3, "redeem": 2},
}


@dataclass
class Write:
    provider: str
    member: str
    points: int
    kind: Kind = "earn"
    #: for a void: the authorization code of the redemption it reverses
    redemption_id: str = ""
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    first_at: float = 0.0
    done_at: float = 0.0
    status: int | None = None
    body: bytes = b""
    replay_status: int | None = None
    replay_same: bool | None = None
    #: when this write last got an answer it had to retry (0: never)
    last_refused_at: float = 0.0

    @property
    def path(self) -> str:
        base = f"/v1/programs/{PROGRAMS[self.provider]}/members/{self.member}"
        if self.kind == "earn":
            return f"{base}/earn"
        if self.kind == "redeem":
            return f"{base}/redemptions"
        return f"{base}/redemptions/{self.redemption_id}/void"

    @property
    def request(self) -> dict[str, Any] | None:
        if self.kind == "earn":
            return {"points": self.points, "reason": "chaos"}
        if self.kind == "redeem":
            return {"points": self.points, "reference": f"chaos-{self.key[:8]}"}
        return None

    @property
    def success(self) -> int:
        return 200 if self.kind == "void" else 201


def fresh_member(world: World, provider: str, kind: Kind = "earn") -> str:
    funds = 0 if kind == "earn" else 10_000
    if provider == "cpextender":
        number = world.new_cp_customer()
        world.cp.customers[number].points = funds
        return number
    if provider == "shopyourway":
        return world.new_syw_member(points=funds)
    card = world.new_irt_card()
    world.irt.cards[card].spendable = funds
    return card


def _kind(provider: str, entry_kind: str, amount: int) -> Kind:
    if provider == "cpextender":
        return "redeem" if entry_kind == "authorize" else "earn"
    if provider == "shopyourway":
        return entry_kind
    return "earn" if amount > 0 else "redeem"


def applied(world: World) -> tuple[Counter[tuple[str, Kind]], Counter[tuple[str, Kind]]]:
    """Applications and points (unsigned) per member and kind, from the simulators' ledgers."""
    count: Counter[tuple[str, Kind]] = Counter()
    points: Counter[tuple[str, Kind]] = Counter()
    with world.cp.lock:
        cp = [("cpextender", e.customer_number, e.kind, e.points) for e in world.cp.ledger]
    entries = [
        *cp,
        *(("shopyourway", e.member_number, e.kind, e.points) for e in list(world.syw.ledger)),
        *(("irt", e.card, e.call, e.points) for e in list(world.irt.ledger)),
    ]
    for provider, member, entry_kind, amount in entries:
        key = (member, _kind(provider, entry_kind, amount))
        count[key] += 1
        points[key] += abs(amount)
    return count, points


class WriteLoad:
    def __init__(
        self,
        world: World,
        urls: list[str],
        writes: int,
        *,
        mix: dict[str, dict[Kind, int]] | None = None,
        concurrency: int = 16,
        deadline_s: float = 120.0,
    ) -> None:
        self.world = world
        self.urls = urls
        self.concurrency = concurrency
        self.deadline_s = deadline_s
        shares = [(p, k, n) for p, kinds in (mix or DEFAULT_MIX).items() for k, n in kinds.items()]
        total = sum(n for _, _, n in shares)
        self.writes = []
        for index, (provider, kind, share) in enumerate(shares):
            count = writes * share // total
            if index == len(shares) - 1:
                count = writes - len(self.writes)
            for i in range(count):
                member = fresh_member(world, provider, kind)
                self.writes.append(Write(provider, member, 10 + i % 7, kind))
        self._prepare_voids()
        # interleave providers so a fault hits all of them
        self.writes.sort(key=lambda w: hash(w.key))
        self.finished = 0
        self.fault_at = 0.0
        self.fault_s = 0.0
        self._lock = threading.Lock()

    def _prepare_voids(self) -> None:
        """Each void reverses a redemption made through the gateway before the load."""
        with self._client() as client:
            for write in self.writes:
                if write.kind != "void":
                    continue
                made = client.post(
                    f"{self.urls[0]}/v1/programs/{PROGRAMS[write.provider]}/members/"
                    f"{write.member}/redemptions",
                    json={"points": write.points},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                made.raise_for_status()
                write.redemption_id = made.json()["id"]

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=15, headers={"Authorization": f"Bearer {DEMO_API_KEY}"})

    def _one(self, write: Write) -> None:
        write.first_at = time.monotonic()
        give_up = write.first_at + self.deadline_s
        with self._client() as client:
            while time.monotonic() < give_up:
                url = self.urls[write.attempts % len(self.urls)]
                write.attempts += 1
                try:
                    answer = client.post(
                        url + write.path, json=write.request, headers={"Idempotency-Key": write.key}
                    )
                except httpx.TransportError:
                    write.statuses[0] += 1
                    write.last_refused_at = time.monotonic()
                    time.sleep(0.1)
                    continue
                write.statuses[answer.status_code] += 1
                if answer.status_code in RETRY_STATUSES:
                    write.last_refused_at = time.monotonic()
                    time.sleep(min(2.0, float(answer.headers.get("retry-after", "0.1"))))
                    continue
                write.status, write.body = answer.status_code, answer.content
                write.done_at = time.monotonic()
                break
        with self._lock:
            self.finished += 1

    def run(self, fault: Callable[[], None] | None = None, at_fraction: float = 0.3) -> None:
        """Send every write; ``fault`` runs (in this thread) once ``at_fraction`` are done."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self._one, w) for w in self.writes]
            if fault is not None:
                while self.finished < at_fraction * len(self.writes):
                    time.sleep(0.02)
                self.fault_at = time.monotonic()
                fault()
                self.fault_s = time.monotonic() - self.fault_at
            for future in futures:
                future.result()

    def replay(self) -> None:
        """Every acknowledged key once more: it must be the same answer, replayed."""

        def again(write: Write) -> None:
            with self._client() as client:
                for _ in range(50):
                    try:
                        answer = client.post(
                            self.urls[0] + write.path,
                            json=write.request,
                            headers={"Idempotency-Key": write.key},
                        )
                    except httpx.TransportError:
                        time.sleep(0.2)
                        continue
                    if answer.status_code in RETRY_STATUSES:
                        time.sleep(0.2)
                        continue
                    write.replay_status = answer.status_code
                    write.replay_same = answer.content == write.body
                    return

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(again, [w for w in self.writes if w.status == w.success]))

    def verdict(self) -> dict[str, Any]:
        count, points = applied(self.world)
        acked = [w for w in self.writes if w.status == w.success]
        stuck = [w.done_at - w.first_at for w in self.writes if w.status is not None]
        statuses: Counter[int] = Counter()
        for w in self.writes:
            statuses.update(w.statuses)

        def of(w: Write) -> int:
            return count[(w.member, w.kind)]

        return {
            "writes": len(self.writes),
            "kinds": dict(Counter(f"{w.provider}-{w.kind}" for w in self.writes)),
            "acknowledged": len(acked),
            "unfinished": sum(1 for w in self.writes if w.status is None),
            "other_final": sum(1 for w in self.writes if w.status not in (None, w.success)),
            "ledger_entries": sum(of(w) for w in self.writes),
            "duplicates": sum(1 for w in self.writes if of(w) > 1),
            "lost": sum(1 for w in acked if of(w) != 1 or points[(w.member, w.kind)] != w.points),
            "applied_unacknowledged": sum(
                1 for w in self.writes if w.status != w.success and of(w) > 0
            ),
            "server_errors": statuses[500],
            "replays_not_201": sum(1 for w in acked if w.replay_status not in (None, w.success)),
            "replays_different": sum(1 for w in acked if w.replay_same is False),
            "max_stuck_s": round(max(stuck, default=0.0), 2),
            # from the fault to the last answer any client had to retry
            # (0 when no client had to retry after the fault)
            "disturbed_s": round(
                max(
                    0.0, max((w.last_refused_at for w in self.writes), default=0.0) - self.fault_at
                ),
                1,
            )
            if self.fault_at
            else 0.0,
            "fault_took_s": round(self.fault_s, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
        }


def assert_exactly_once(verdict: dict[str, Any]) -> None:
    """The pass rule: every write acknowledged, applied exactly once, no 500."""
    problems = {
        k: verdict[k]
        for k in (
            "unfinished",
            "other_final",
            "duplicates",
            "lost",
            "applied_unacknowledged",
            "server_errors",
            "replays_not_201",
            "unknown_open",
        )
        if verdict.get(k)
    }
    assert not problems, f"exactly-once violated: {problems} in {verdict}"
    assert verdict["ledger_entries"] == verdict["acknowledged"] == verdict["writes"], verdict
