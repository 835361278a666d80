"""Capability protocols: what a provider's connector can do.

A connector class implements the protocols its provider supports and nothing else; the
capability list a program publishes and the 501 ``operation_not_supported`` answers both come
from :func:`capabilities_of`, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

import msgspec

from gateway.connectors.http import UpstreamClient
from gateway.domain.commands import (
    ActivityQuery,
    EarnCommand,
    EnrollRequest,
    MemberPatch,
    RedeemCommand,
)
from gateway.domain.errors import OperationNotSupported
from gateway.domain.ids import SEGMENT, check_id
from gateway.domain.models import ActivityPage, Balance, Member, Offer, Redemption, Transaction
from gateway.infra.resilience import CircuitState
from gateway.infra.store import Store
from gateway.settings import ProgramSettings


class Connector:
    """Base of every provider connector: one instance per configured program."""

    provider: ClassVar[str]
    #: the shape of ``programs[i].options`` (unknown keys are errors)
    Options: ClassVar[type[msgspec.Struct]]
    #: the shape of ``programs[i].auth``; its keys that hold a secret are ``secret_keys``
    #: (check-config warns when one is written into the file instead of ``${ENV}``)
    Auth: ClassVar[type[msgspec.Struct]]
    secret_keys: ClassVar[tuple[str, ...]] = ()
    #: the names its calls carry (``timeouts.operations``, circuit groups, metric labels)
    operations: ClassVar[tuple[str, ...]]
    #: lookup keys (``email``, ``phone``, ``card_number``) the provider can search by
    lookup_keys: ClassVar[tuple[str, ...]] = ()
    #: operations the provider de-duplicates by the token we send: a retry may simply re-send
    native_idempotency: ClassVar[frozenset[str]] = frozenset()
    #: a member id this provider can have (checked before any call; see domain/ids.py)
    member_id_pattern: ClassVar[re.Pattern[str]] = SEGMENT
    #: the same for a redemption id (a void's path)
    redemption_id_pattern: ClassVar[re.Pattern[str]] = SEGMENT
    #: operations the provider refuses to apply twice (e.g. a second void of one
    #: authorization): when not found upstream they are re-sent without a settle time
    refuses_duplicates: ClassVar[frozenset[str]] = frozenset()
    #: calls need an access token from the provider's token endpoint (its own circuit)
    uses_token_endpoint: ClassVar[bool] = False

    @property
    def balance_cacheable(self) -> bool:
        """False when reading a balance proves something (e.g. a PIN check) a cache cannot."""
        return True

    def __init__(self, program: ProgramSettings, store: Store | None = None) -> None:
        self.program = program
        self.store = store
        self.options: Any = msgspec.convert(program.options, self.Options, strict=False)
        self.auth: Any = msgspec.convert(program.auth, self.Auth, strict=False)

    @staticmethod
    def check_auth(auth: Any) -> str | None:
        """The key at fault (``auth.<key>: why``) when ``auth`` (an ``Auth``) cannot work."""
        return None

    #: the client to the provider; every connector sets it in its constructor
    http: UpstreamClient

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        await self.http.aclose()

    def check_ids(self, member_id: str | None, redemption_id: str | None = None) -> None:
        """``400 invalid_request`` for an id this provider cannot have, before any call."""
        if member_id is not None:
            check_id("member_id", member_id, self.member_id_pattern)
        if redemption_id is not None:
            check_id("redemption_id", redemption_id, self.redemption_id_pattern)

    def circuit_state(self) -> CircuitState:
        """The worst of the program's circuits."""
        return self.http.circuits.worst()

    def circuit_states(self) -> dict[str, CircuitState]:
        """Each operation group's circuit (connectors/circuits.py)."""
        return self.http.circuits.states()


@runtime_checkable
class Enroller(Protocol):
    async def enroll(
        self, request: EnrollRequest, idempotency_token: str, *, pin: str | None = None
    ) -> Member: ...


@runtime_checkable
class MemberLookup(Protocol):
    async def lookup(self, key: str, value: str) -> list[Member]: ...


@runtime_checkable
class ProfileReader(Protocol):
    async def get_member(self, member_id: str, *, pin: str | None = None) -> Member: ...


@runtime_checkable
class ProfileUpdater(Protocol):
    async def update_member(
        self, member_id: str, patch: MemberPatch, *, pin: str | None = None
    ) -> Member: ...


@runtime_checkable
class BalanceReader(Protocol):
    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance: ...


@runtime_checkable
class PointsEarner(Protocol):
    async def earn(self, member_id: str, command: EarnCommand) -> Transaction: ...


@runtime_checkable
class PointsRedeemer(Protocol):
    async def redeem(self, member_id: str, command: RedeemCommand) -> Redemption: ...


@runtime_checkable
class RedemptionVoider(Protocol):
    async def void(
        self, member_id: str, redemption_id: str, idempotency_token: str
    ) -> Redemption: ...


@runtime_checkable
class ActivityReader(Protocol):
    async def activity(self, member_id: str, query: ActivityQuery) -> ActivityPage: ...


@runtime_checkable
class OfferReader(Protocol):
    async def offers(self, member_id: str) -> list[Offer]: ...


@runtime_checkable
class HealthProbe(Protocol):
    async def probe(self) -> None:
        """Return when the provider answers; raise a GatewayError when it does not."""


# Locators find a write upstream by the reference the gateway sent, for an outcome that was
# lost (services/writes.py). Each returns the write as the original success would have
# answered when found, ``None`` when provably absent, and raises a GatewayError when the
# provider cannot tell (unreachable, or a history that fits more than one reading).
# ``since``: the history to search starts there (before the key's first attempt).


@runtime_checkable
class EarnLocator(Protocol):
    async def find_earn(
        self, member_id: str, command: EarnCommand, *, since: dt.datetime
    ) -> Transaction | None: ...


@runtime_checkable
class RedemptionLocator(Protocol):
    async def find_redemption(
        self, member_id: str, command: RedeemCommand, *, since: dt.datetime
    ) -> Redemption | None: ...


@runtime_checkable
class VoidLocator(Protocol):
    async def find_void(
        self, member_id: str, redemption_id: str, idempotency_token: str, *, since: dt.datetime
    ) -> Redemption | None: ...


@runtime_checkable
class EnrollLocator(Protocol):
    """Finds a member an earlier, ambiguous enroll may have created (``None``: provably not)."""

    async def find_enrollment(self, request: EnrollRequest) -> Member | None: ...


#: capability name -> protocol; the order is the order programs list them in
CAPABILITIES: dict[str, type[Any]] = {
    "enroll": Enroller,
    "lookup": MemberLookup,
    "profile": ProfileReader,
    "update": ProfileUpdater,
    "balance": BalanceReader,
    "earn": PointsEarner,
    "redeem": PointsRedeemer,
    "void": RedemptionVoider,
    "activity": ActivityReader,
    "offers": OfferReader,
}

P = TypeVar("P")


_SUPPORTED: dict[tuple[type[Any], type[Any]], bool] = {}


def _supports(cls: type[Connector], protocol: type[Any]) -> bool:
    # Protocol isinstance checks are slow; a connector class's methods never change.
    found = _SUPPORTED.get((cls, protocol))
    if found is None:
        found = _SUPPORTED[(cls, protocol)] = issubclass(cls, protocol)
    return found


def capabilities_of(connector: Connector | type[Connector]) -> list[str]:
    """What a connector (or a connector class) can do, in the order programs list it."""
    cls = connector if isinstance(connector, type) else type(connector)
    return [name for name, proto in CAPABILITIES.items() if _supports(cls, proto)]


def require(connector: Connector, capability: str, protocol: type[P]) -> P:
    """Return ``connector`` as ``protocol`` or raise 501 ``operation_not_supported``."""
    if not _supports(type(connector), protocol):
        raise OperationNotSupported(
            f"Program {connector.program.id!r} ({connector.provider}) does not support "
            f"the operation {capability!r}."
        )
    return cast(P, connector)


#: operation group (connectors/circuits.py) -> the protocols whose calls fall in it
_GROUP_PROTOCOLS: dict[str, tuple[type[Any], ...]] = {
    "reads": (MemberLookup, ProfileReader, BalanceReader),
    "writes": (Enroller, ProfileUpdater, PointsEarner, PointsRedeemer, RedemptionVoider),
    "activity": (ActivityReader, EarnLocator, RedemptionLocator, VoidLocator),
    "offers": (OfferReader,),
    "health": (HealthProbe,),
}


def circuit_groups(connector: Connector) -> list[str]:
    """The operation groups a connector's calls use, so their circuits exist from start."""
    groups = ["token"] if connector.uses_token_endpoint else []
    for group, protocols in _GROUP_PROTOCOLS.items():
        if any(_supports(type(connector), protocol) for protocol in protocols):
            groups.append(group)
    return groups
