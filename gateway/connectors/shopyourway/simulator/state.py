"""The simulator's state: members, point lots, authorizations, the ledger, issued tokens and the
offers it knows; every call reads and changes it under its lock."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

from gateway.sandbox.common import FaultPlan, RecordedRequest

TOKEN_PATH = "/oauthAS/service/oAuth/token.json"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MT_SERVER_NAME = "sim-01_rewards_ds1"
MSG1 = "View balance and account information"
MSG2 = "at shopyourwayrewards.com"
MAX_ASSERTION_LIFETIME_SECONDS = 4 * 3600
#: header ``alg`` values meaning RSASSA-PKCS1-v1_5 with SHA-256: RS256 and the document's names
DOCUMENT_ALG_NAMES = ("SHA256withRSA", "RSA")

#: "Authentication at Telluride": code -> the document's description
AUTH_MESSAGES = {
    "CLIENT_ID_INVALID": (
        "This describes the client id is not yet registered or not in approved state in "
        "OAuth server."
    ),
    "CLIENT_ID_REQUIRED": "Client ID is missing in http header.",
    "ACCESSTOKEN_INVALID": "The current token is invalid.",
    "ACCESSTOKEN_EXPIRED": "The current token is expired, need to refresh token.",
    "ACCESSTOKEN_REQUIRED": "Access token is missing in http header.",
    "APPLICATION_NOT_PERMITTED": (
        "Application permission has to be granted by Administrator. Please contact Admin."
    ),
    "AUTHENTICATION EXCEPTION": "Generic error during authentication. Please contact Admin.",
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}[:.]\d{2}[:.]\d{2}$")
_DIGITS = re.compile(r"^\d+$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z'.\- ]*$")
_LENGTH = "The actual length is greater than the MaxLength value"


class PointLot(msgspec.Struct):
    """Member-own points expiring together; ``expiry`` is ``YYYYMMDD``."""

    points: int
    expiry: str


class Authorization(msgspec.Struct, kw_only=True):
    """A redemption (ProcessRedemption Function R) that Function V may void."""

    code: str
    member_number: str
    points: int
    lots: list[PointLot]
    transaction_number: str = ""
    order_id: str = ""
    voided: bool = False


class Member(msgspec.Struct, kw_only=True):
    """One member; ``profile`` holds the fields under the document's names (``EmailAddress``,
    ``FirstName``, ``PhoneNumbers``...). ``points`` is the balance; ``lots`` are the expiring
    buckets (their sum is the balance when it is positive)."""

    member_number: str
    profile: dict[str, Any]
    club_status: str = "A"
    pin_number: str = ""
    member_identifier: str = ""
    points: int = 0
    lots: list[PointLot] = msgspec.field(default_factory=list)
    activity: list[dict[str, Any]] = msgspec.field(default_factory=list)
    authorizations: dict[str, Authorization] = msgspec.field(default_factory=dict)
    date_issued_ms: int = 0

    def credit(self, points: int, expiry: str) -> None:
        """Add points; a negative balance (debt) is paid off before a lot is created."""
        if points <= 0:
            return
        debt = max(0, -self.points)
        self.points += points
        rest = points - min(debt, points)
        if rest > 0:
            for lot in self.lots:
                if lot.expiry == expiry:
                    lot.points += rest
                    break
            else:
                self.lots.append(PointLot(rest, expiry))
            self.lots.sort(key=lambda lot: lot.expiry)

    def debit(self, points: int) -> list[PointLot]:
        """Take points, nearest-expiring lots first; returns what was taken from which lot."""
        taken: list[PointLot] = []
        remaining = points
        for lot in sorted(self.lots, key=lambda lot: lot.expiry):
            if remaining <= 0:
                break
            part = min(lot.points, remaining)
            lot.points -= part
            remaining -= part
            taken.append(PointLot(part, lot.expiry))
        self.lots = [lot for lot in self.lots if lot.points > 0]
        self.points -= points
        return taken

    def phones(self) -> list[dict[str, Any]]:
        block = self.profile.get("PhoneNumbers") or {}
        phones = block.get("Phone") if isinstance(block, dict) else None
        return [p for p in phones or [] if isinstance(p, dict)]


class LedgerEntry(msgspec.Struct):
    """A point change that was applied: ``points`` is signed (redeem negative, void positive)."""

    kind: str  # earn | redeem | void
    member_number: str
    points: int
    transaction_number: str
    authorization_code: str


class IssuedToken(msgspec.Struct, kw_only=True):
    client_id: str
    issued_at: float
    expires_at: float
    expired: bool = False


def default_offers() -> list[dict[str, Any]]:
    """GetApplicableOffers' offers, in the document sample's shape (one end date moved on)."""
    return [
        {
            "Conditional": "N",
            "Stackable": "Y",
            "OfferRewardType": "EARN",
            "RewardBasis": "ItemCount",
            "RewardCalculationType": "Fixed",
            "OfferCode": "99768",
            "OfferName": "EarnSpendthresh_CARs_NAME",
            "Description": "EarnSpendthresh_CARs_99768",
            "StartDTTM": "2023-01-31T00:00:00",
            "EndDTTM": "2035-05-14T23:59:59",
            "OfferRewardPotential": "2",
            "OfferDescription": "",
            "OfferTitle": "",
            "OfferEndDate": "",
            "LegalCopy": "",
        },
        {
            "Conditional": "Y",
            "Stackable": "Y",
            "OfferRewardType": "XR",
            "RewardBasis": "DollarSpend",
            "RewardCalculationType": "Fixed",
            "OfferCode": "7.7GRB-subclub_noMG",
            "OfferName": "7.7GRB-subclub",
            "Description": "desc7.7GRB-subclub ",
            "StartDTTM": "2018-08-31T00:00:00",
            "EndDTTM": "2035-07-31T23:59:59",
            "XRFlatOffer": "Y",
            "OfferDescription": "",
            "OfferTitle": "",
            "OfferEndDate": "",
            "LegalCopy": "",
        },
    ]


#: profile fields (document names) and their defaults, in the lookup sample's order
PROFILE_DEFAULTS: dict[str, Any] = {
    "EmailAddress": "",
    "Prefix": "",
    "FirstName": "",
    "LastName": "",
    "MiddleInitial": "",
    "Address1": "",
    "Address2": "",
    "City": "",
    "State": "",
    "ZipCode": "",
    "ZipCodeExtension": "",
    "Suffix": "",
    "CreatedBy": "",
    "ClubDNPStatus": "",
    "AgeEligible": "Y",
    "DOB": "",
    "OnlineValidationFlag": "N",
    "WirelessPermissionFlag": "",
    "LanguagePreference": "E",
    "CardDesignType": "VRTL",
    "SHCAssociateInd": "N",
    "ClubEmailOptStatus": "N",
    "CountryCode": "US",
    "PhoneNumbers": {"Phone": []},
    "MemberEarnType": "BASE",
    "TestCardIndicator": "",
    "Affinities": {"Affinity": []},
    "Attributes": {
        "Attr": [{"attrname": "RECEIPT", "attrvalue": ""}, {"attrname": "SEARSCC", "attrvalue": ""}]
    },
    "TermsAndConditions": {"TermAndCondition": []},
    "EnrollmentSourceCode": "",
    "EnrollmentStoreNumber": "",
    "Gender": "",
}


class SYWState:
    """Everything the simulator knows; tests read and flip it directly (under ``lock``)."""

    def __init__(
        self,
        client_id: str,
        public_key_pem: str,
        *,
        requestor_id: str = "DEMO",
        token_lifetime_seconds: float = 3600,
    ) -> None:
        self.client_id = client_id
        self.public_key_pem = public_key_pem
        self.requestor_id = requestor_id
        self.token_lifetime_seconds = token_lifetime_seconds
        #: the URL the assertion's ``aud`` must equal; "" accepts any ``aud`` ending TOKEN_PATH
        self.token_url = ""
        self.max_assertion_lifetime_seconds: float = MAX_ASSERTION_LIFETIME_SECONDS
        self.members: dict[str, Member] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.token_requests = 0
        self.ledger: list[LedgerEntry] = []
        self.requests: list[RecordedRequest] = []
        self.faults = FaultPlan()
        self.lock = threading.Lock()
        #: some deployments answer ACCESSTOKEN_EXPIRED with HTTP 500 instead of 401
        self.expired_token_as_http_500 = False
        #: False -> every Rewards call answers APPLICATION_NOT_PERMITTED
        self.application_permitted = True
        self.points_per_cent = 10
        #: the document's activity rows carry no AuthorizationCode; True adds it as a
        #: ``TransactionAttributes`` entry (some deployments do: the gateway reads both)
        self.activity_shows_authorization_code = False
        #: offer ids PostExternalBonus accepts (else status "2" OfferId is not activated)
        self.bonus_offer_ids: set[str] = {"GATEWAY_BONUS"}
        #: what GetApplicableOffers lists (``OffersSet.ApplicableOffer`` items)
        self.offers: list[dict[str, Any]] = default_offers()
        #: wall clock in epoch seconds; tests may replace it
        self.clock: Callable[[], float] = time.time
        self._next_member = 7081460000037153

    # -- seeding ------------------------------------------------------------------------

    def add_member(
        self,
        member_number: str,
        *,
        profile: dict[str, Any] | None = None,
        club_status: str = "A",
        pin_number: str = "",
        points: int = 0,
        expiring: list[tuple[int, str]] | None = None,
        member_identifier: str | None = None,
        date_issued_ms: int | None = None,
    ) -> Member:
        """Seed a member. ``expiring`` = [(points, "YYYYMMDD")] must sum to ``points``;
        without it the points expire in a year. ``profile`` uses the document's field names."""
        if expiring is None:
            expiring = [(points, _expiry_in(self, days=365))] if points > 0 else []
        if sum(p for p, _ in expiring) != max(points, 0):
            raise ValueError("expiring buckets must add up to points")
        member = Member(
            member_number=member_number,
            profile={**_copy(PROFILE_DEFAULTS), **(profile or {})},
            club_status=club_status,
            pin_number=pin_number or str((profile or {}).get("ZipCode", ""))[:5],
            member_identifier=member_identifier or secrets.token_urlsafe(24),
            points=points,
            lots=sorted((PointLot(p, e) for p, e in expiring), key=lambda lot: lot.expiry),
            date_issued_ms=date_issued_ms if date_issued_ms is not None else _now_ms(self),
        )
        self.members[member_number] = member
        return member

    def allocate_member_number(self) -> str:
        """A fresh 16-digit MemberNumber starting 7081."""
        while str(self._next_member) in self.members:
            self._next_member += 1
        number = str(self._next_member)
        self._next_member += 1
        return number

    # -- tokens -------------------------------------------------------------------------

    def issue_token(self, client_id: str | None = None) -> str:
        """Issue an access token directly (what a good token request does)."""
        now = self.clock()
        token = secrets.token_hex(32)
        self.tokens[token] = IssuedToken(
            client_id=client_id or self.client_id,
            issued_at=now,
            expires_at=now + self.token_lifetime_seconds,
        )
        return token

    def expire_all_tokens(self) -> None:
        """Every token issued so far now answers ACCESSTOKEN_EXPIRED."""
        with self.lock:
            for token in self.tokens.values():
                token.expired = True


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# -- the simulator's clock ------------------------------------------------------------------


def _now(state: SYWState) -> dt.datetime:
    """Naive UTC 'now' from the state's clock."""
    return dt.datetime.fromtimestamp(state.clock(), dt.UTC).replace(tzinfo=None)


def _now_ms(state: SYWState) -> int:
    return int(state.clock() * 1000)


def _expiry_in(state: SYWState, *, days: int) -> str:
    return (_now(state) + dt.timedelta(days=days)).strftime("%Y%m%d")
