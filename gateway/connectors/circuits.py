"""Circuit breakers per program and operation group, and their metrics and log lines.

A provider is not one thing that works or fails: ShopYourWay's offers endpoint can fail
while its balance and earn endpoints answer. Each connector call names its operation; the
operation's group picks the breaker, so a failing endpoint opens only its own group's
circuit (as Envoy's outlier detection or a Hystrix command per dependency call would):

    token     the OAuth token endpoint; while open, every call that needs a new token fails
    reads     member reads: balance, profile, lookup, spendable, find_enrollment
    writes    enroll, update, earn, redeem, void
    activity  the history: activity and the lookups of lost writes (find_earn,
              find_redemption, find_void), which read the same history
    offers    offers
    health    the health probe (GET …/health), so probing never opens a serving circuit

An operation not listed counts as ``reads``; tests/unit/connectors/test_circuits.py checks
that every operation a connector names is listed.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from gateway.infra import metrics
from gateway.infra.resilience import CircuitBreaker, CircuitState
from gateway.settings import ProgramSettings

_log = structlog.get_logger("gateway.upstream")

GROUP_OF: dict[str, str] = {
    "token": "token",
    "balance": "reads",
    "profile": "reads",
    "lookup": "reads",
    "spendable": "reads",
    "find_enrollment": "reads",
    "enroll": "writes",
    "update": "writes",
    "earn": "writes",
    "redeem": "writes",
    "void": "writes",
    "activity": "activity",
    "find_earn": "activity",
    "find_redemption": "activity",
    "find_void": "activity",
    "offers": "offers",
    "health": "health",
}
GROUPS: tuple[str, ...] = ("token", "reads", "writes", "activity", "offers", "health")
#: worst first: the state a program reports as its one ``circuit``
_SEVERITY: dict[CircuitState, int] = {"closed": 0, "half_open": 1, "open": 2}


def group_of(operation: str) -> str:
    return GROUP_OF.get(operation, "reads")


class Circuits:
    """The breakers of one program's client, one per group, made on first use."""

    def __init__(self, program: ProgramSettings, provider: str) -> None:
        self.program = program
        self.provider = provider
        self._breakers: dict[str, CircuitBreaker] = {}

    def export(self, groups: Iterable[str]) -> None:
        """Make these groups' breakers now, so their state series exist from start."""
        for group in groups:
            self.breaker(group)

    def breaker(self, group: str) -> CircuitBreaker:
        found = self._breakers.get(group)
        if found is None:
            circuit = self.program.circuit
            found = self._breakers[group] = CircuitBreaker(
                circuit.failure_threshold,
                circuit.open_seconds,
                on_change=lambda state: self._changed(group, state),
            )
            metrics.child(metrics.CIRCUIT_STATE, self.program.id, group).set(0)
        return found

    def states(self) -> dict[str, CircuitState]:
        return {group: breaker.state for group, breaker in sorted(self._breakers.items())}

    def worst(self) -> CircuitState:
        states = self.states().values()
        return max(states, key=_SEVERITY.__getitem__, default="closed")

    def _changed(self, group: str, state: CircuitState) -> None:
        program = self.program.id
        metrics.child(metrics.CIRCUIT_STATE, program, group).set(metrics.CIRCUIT_VALUES[state])
        if state == "open":
            metrics.child(metrics.CIRCUIT_OPENED, program, group).inc()
            _log.warning("circuit_opened", program=program, provider=self.provider, group=group)
        elif state == "half_open":
            metrics.child(metrics.CIRCUIT_HALF_OPENED, program, group).inc()
            _log.info("circuit_half_open", program=program, provider=self.provider, group=group)
        else:
            _log.info("circuit_closed", program=program, provider=self.provider, group=group)
