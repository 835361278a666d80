"""A faithful ShopYourWay simulator: the Telluride OAuth token server and the Rewards API.

Built from ``shopyourway-rewards-api.txt`` (the provider's own document), not from what the
gateway would find convenient:

* **Token server** -- ``POST /oauthAS/service/oAuth/token.json`` takes ``grant_type`` =
  ``urn:ietf:params:oauth:grant-type:jwt-bearer`` and a JWT ``assertion`` as JSON, XML or
  form data. The assertion must be signed RSA with SHA-256 (``RS256``; the document's own
  header spellings ``SHA256withRSA``/``RSA`` are accepted as the same algorithm) with the
  registered key, ``iss`` = the client id, ``aud`` = the token URL, and ``iat``/``exp`` in
  *milliseconds* (integers; exp at most 4 h after iat). The answer is the document's sample:
  ``{"access_token", "token_type": "Bearer", "exp": <ms>, "iss": <ms issued>}``. The document
  does not define token errors; refusals use RFC 6749's error shape
  ``{"error": ..., "error_description": ...}`` (``invalid_grant`` for a bad assertion,
  ``unsupported_grant_type``/``invalid_request`` for a bad request), always with HTTP 401.
* **Rewards API** -- ``POST /tellurideAS/...``: every call first checks the ``client_id`` and
  ``access_token`` HTTP headers. The document lists the "Authentication at Telluride" codes
  and their descriptions but not the response shape; here they come as HTTP 401 (500 for an
  expired token when :attr:`SYWState.expired_token_as_http_500` is set) with
  ``{"code": "<CODE>", "message": "<the document's description>"}``. Business outcomes are
  HTTP 200 with the status inside the body, in each API's own place and casing.

Times (activity ``TransactionDTTM``, ``ResponseDate``...) are UTC; expiry buckets are
``YYYYMMDD``. Points are worth ``pointsPerCent`` = 10 per cent (1000 points = $1).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from litestar import Litestar, Request, Response, post
from litestar.exceptions import HTTPException

from gateway.sandbox.common import DroppedConnection, FaultPlan, RecordedRequest, record_request

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


# --------------------------------------------------------------------------------------------
# state


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


# --------------------------------------------------------------------------------------------
# small helpers


def _now(state: SYWState) -> dt.datetime:
    """Naive UTC 'now' from the state's clock."""
    return dt.datetime.fromtimestamp(state.clock(), dt.UTC).replace(tzinfo=None)


def _now_ms(state: SYWState) -> int:
    return int(state.clock() * 1000)


def _expiry_in(state: SYWState, *, days: int) -> str:
    return (_now(state) + dt.timedelta(days=days)).strftime("%Y%m%d")


def _dttm(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _parse(text: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, fmt)
    except ValueError:
        return None


def _valid_date(text: str) -> bool:
    return bool(_DATE.match(text)) and _parse(text, "%Y-%m-%d") is not None


def _s(body: dict[str, Any], key: str) -> str:
    """A request field as stripped text ("" when absent, null or not a scalar)."""
    value = body.get(key)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    return ""


def _int(text: str) -> int | None:
    """An integer written with digits only (an optional leading minus)."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return None


def _dollars(points: int, points_per_cent: int) -> str:
    value = Decimal(points) / Decimal(points_per_cent * 100)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _pulse(started: float) -> str:
    return f"{int((time.perf_counter() - started) * 1000)}ms"


def _response_date_time(state: SYWState) -> tuple[int, int]:
    """(ResponseDate, ResponseTime): midnight in epoch ms, and ms since midnight."""
    now_ms = _now_ms(state)
    midnight = now_ms - now_ms % 86_400_000
    return midnight, now_ms - midnight


def _auth_code(state: SYWState) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        if not any(code in m.authorizations for m in state.members.values()):
            return code


def _code_attribute(state: SYWState, code: str) -> dict[str, str] | None:
    return {"authorizationCode": code} if state.activity_shows_authorization_code else None


def _member_by(state: SYWState, number: str, identifier: str) -> Member | None:
    if number:
        return state.members.get(number)
    return next((m for m in state.members.values() if m.member_identifier == identifier), None)


def activity_entry(
    *,
    when: dt.datetime,
    transaction_type: str,
    description: str,
    points: int = 0,
    redeemed: int = 0,
    balance: int,
    points_per_cent: int = 10,
    transaction_number: str = "",
    order_id: str = "",
    store: str = "00001",
    register: str = "001",
    reason_code: str = "",
    offer: tuple[str, str] | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``TransactionDetail`` of GetMemberActivityDetail, in the document sample's shape."""
    return {
        "TransactionDTTM": _dttm(when),
        "TransactionID": secrets.token_hex(16).upper(),
        "TransactionDescription": description,
        "TransactionType": transaction_type,
        "TotalPoints": points,
        "TotalBasePoints": 0,
        "TotalBonusPoints": points,
        "SpecialUsePoints": 0,
        "TotalPointsRedeemed": redeemed,
        "SpecialUsePointsRedeemed": 0,
        "DollarValueOfPointsRedeemed": float(_dollars(redeemed, points_per_cent)),
        "SpecialUsePointsRedeemedDollarValue": 0,
        "TotalExpired": 0,
        "StoreLocation": store,
        "StoreFormat": "TLCO",
        "EarnType": "BONUS",
        "GrossSpend": "0.00",
        "ReasonCode": reason_code,
        "PostTS": _dttm(when),
        "PickUpStoreNumber": store,
        "TotalTax": "0.00",
        "AssociateID": "",
        "ProcessStatus": "A",
        "TransactionNumber": transaction_number,
        "RegisterNumber": register,
        "TotalDollarSaving": 0.0,
        "OrderId": order_id,
        "OrderSource": "TELL",
        "PointBalance": balance,
        "EarnOffers": {
            "EarnOffer": (
                [
                    {
                        "EarnOfferCode": offer[0],
                        "EarnOfferName": offer[1],
                        "EarnOfferType": "BONUS",
                        "PointsEarned": points,
                        "QualifiedAmount": 0.0,
                    }
                ]
                if offer
                else []
            )
        },
        "TransactionAttributes": {
            "TransactionAttribute": [
                {"TransactionAttributeKey": k, "TransactionAttributeValue": v}
                for k, v in (attributes or {}).items()
            ]
        },
    }


# --------------------------------------------------------------------------------------------
# the token server


class TokenRefused(Exception):
    def __init__(self, description: str, error: str = "invalid_grant") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _token_params(content_type: str, raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/json":
        try:
            body = json.loads(text)
        except ValueError:
            raise TokenRefused("the body is not JSON", "invalid_request") from None
        if not isinstance(body, dict):
            raise TokenRefused("the body is not a JSON object", "invalid_request")
        return {k: v for k, v in body.items() if isinstance(v, str)}
    if content_type in ("application/xml", "text/xml"):
        params = {}
        for name in ("grant_type", "assertion"):
            found = re.search(rf"<{name}>\s*(.*?)\s*</{name}>", text, re.DOTALL)
            if found:
                params[name] = html.unescape(found.group(1))
        return params
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    raise TokenRefused(
        "Content-Type must be application/json, application/xml or "
        "application/x-www-form-urlencoded",
        "invalid_request",
    )


def _b64decode(part: str) -> bytes:
    """Base64url as JWS says, or the padded standard base64 of the document's sample."""
    padded = part + "=" * (-len(part) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise TokenRefused("the assertion is not a JWT") from None


def _public_key(pem: str) -> rsa.RSAPublicKey:
    data = pem.encode()
    key: Any = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"BEGIN CERTIFICATE" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the registered key is not an RSA key")
    return key


def _verified_claims(assertion: str, public_key_pem: str) -> dict[str, Any]:
    """The assertion's claims once its RSA-SHA256 signature checks out against the key."""
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts):
        raise TokenRefused("the assertion is not a JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
    except ValueError:
        raise TokenRefused("the assertion's header is not JSON") from None
    alg = header.get("alg") if isinstance(header, dict) else None
    key = _public_key(public_key_pem)
    # joserfc accepts only canonical base64url segments; the document's padded standard
    # base64 (which authlib.jose tolerated for RS256 too) is checked below like its alg names.
    canonical = all(re.fullmatch(r"[A-Za-z0-9_-]+", part) for part in parts)
    if alg == "RS256" and canonical:
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
        try:
            token = jwt.decode(assertion, RSAKey.import_key(pem), algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            raise TokenRefused("the assertion's signature does not verify") from None
        return dict(token.claims)
    if alg in DOCUMENT_ALG_NAMES or alg == "RS256":
        try:
            key.verify(
                _b64decode(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise TokenRefused("the assertion's signature does not verify") from None
        try:
            body = json.loads(_b64decode(parts[1]))
        except ValueError:
            raise TokenRefused("the assertion's claims are not JSON") from None
        if not isinstance(body, dict):
            raise TokenRefused("the assertion's claims are not a JSON object")
        return body
    raise TokenRefused(f"unsupported alg {alg!r}: only RS256 (SHA256withRSA) is accepted")


def _check_claims(state: SYWState, claims: dict[str, Any]) -> None:
    if claims.get("iss") != state.client_id:
        raise TokenRefused("iss is not a registered client id")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if state.token_url:
        good = state.token_url in audiences
    else:
        good = any(isinstance(a, str) and a.rstrip("/").endswith(TOKEN_PATH) for a in audiences)
    if not good:
        raise TokenRefused("aud is not this token endpoint's URL")
    stamps: dict[str, int] = {}
    for name in ("iat", "exp"):
        value = claims.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenRefused(
                f"{name} must be an integer: milliseconds since the epoch, without decimals"
            )
        if value < 10**12:
            raise TokenRefused(f"{name} looks like seconds; it must be milliseconds")
        stamps[name] = value
    now_ms = _now_ms(state)
    iat, exp = stamps["iat"], stamps["exp"]
    if iat > now_ms + 60_000:
        raise TokenRefused("iat is in the future")
    if exp <= now_ms:
        raise TokenRefused("the assertion has expired (exp is in the past)")
    if exp - iat > state.max_assertion_lifetime_seconds * 1000:
        raise TokenRefused("exp is more than 4 hours after iat")


def _token_answer(state: SYWState, content_type: str, raw: bytes) -> dict[str, Any]:
    params = _token_params(content_type, raw)
    if params.get("grant_type") != GRANT_TYPE:
        raise TokenRefused(f"grant_type must be {GRANT_TYPE}", "unsupported_grant_type")
    assertion = params.get("assertion", "").strip()
    if not assertion:
        raise TokenRefused("assertion is required", "invalid_request")
    try:
        claims = _verified_claims(assertion, state.public_key_pem)
    except ValueError as exc:  # the registered key itself is unusable
        raise TokenRefused(str(exc)) from None
    _check_claims(state, claims)
    with state.lock:
        token = state.issue_token(state.client_id)
        issued = state.tokens[token]
    issued_ms = int(issued.issued_at * 1000)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "exp": issued_ms + int(state.token_lifetime_seconds * 1000),
        "iss": issued_ms,
    }


# --------------------------------------------------------------------------------------------
# Rewards API: one function per call, each (state, body, started) -> (answer, applied a write)

Reply = tuple[dict[str, Any], bool]


def _member_view(state: SYWState, member: Member, search_type: str) -> dict[str, Any]:
    p = member.profile
    phones = member.phones()
    return {
        "msg1": MSG1,
        "msg2": MSG2,
        "msg3": "",
        "msg4": "",
        "msg5": "",
        **{k: p.get(k, "") for k in list(PROFILE_DEFAULTS)[:12]},
        "MemberNumber": member.member_number,
        "ClubStatus": member.club_status,
        "AuthFirstName": "",
        "AuthLastName": "",
        "ClubStatusChangeDate": member.date_issued_ms,
        "StatusChangeReasonCode": "",
        "StatusChangeReasonDesc": "",
        "CreatedBy": p.get("CreatedBy", ""),
        "DateIssued": member.date_issued_ms,
        "MemberSinceDate": member.date_issued_ms,
        "ClubDNPStatus": p.get("ClubDNPStatus", ""),
        "AgeEligible": p.get("AgeEligible", "Y"),
        "DOB": p.get("DOB", ""),
        "OnlineValidationFlag": p.get("OnlineValidationFlag", "N"),
        "OnlineValidationDate": member.date_issued_ms - member.date_issued_ms % 86_400_000,
        "WirelessPermissionFlag": p.get("WirelessPermissionFlag", ""),
        "LanguagePreference": p.get("LanguagePreference", "E"),
        "VIPTier": "",
        "TotalSpentYTD": 0,
        "TotalTripYTD": 0,
        "SpendNextTierLevel": "0",
        "VIPNextLevel": [{}],
        "CardDesignType": p.get("CardDesignType", "VRTL"),
        "SHCAssociateInd": p.get("SHCAssociateInd", "N"),
        "TotalRedeemablePoints": max(member.points, 0),
        "EmailStatusReturn": "",
        "RedemptionSystemCode": "M",
        "ClubEmailOptStatus": p.get("ClubEmailOptStatus", "N"),
        "SearchType": search_type,
        "Deceased": False,
        "CountryCode": p.get("CountryCode", "US"),
        "PhoneNumbers": {
            "Phone": [
                {
                    "PhoneType": ph.get("PhoneType", "M"),
                    "PreferredPhoneType": ph.get("PreferredPhoneType")
                    or ("Y" if len(phones) == 1 else "N"),
                    "PhoneNumber": str(ph.get("PhoneNumber", "")),
                    "CarrierCode": ph.get("CarrierCode", ""),
                }
                for ph in phones
            ]
        },
        "IncompleteProfileInd": "N",
        "EmailConfirmed": "N",
        "MemberEarnType": p.get("MemberEarnType", "BASE"),
        "TestCardIndicator": p.get("TestCardIndicator", ""),
        "MobileValid": "",
        "Affinities": _copy(p.get("Affinities", {"Affinity": []})),
        "Attributes": _copy(p.get("Attributes", PROFILE_DEFAULTS["Attributes"])),
        "TermsAndConditions": _copy(p.get("TermsAndConditions", {"TermAndCondition": []})),
        "CheckoutPrompt": {},
        "Charity": "N",
        "EnrollmentSourceCode": p.get("EnrollmentSourceCode", ""),
        "EnrollmentStoreNumber": p.get("EnrollmentStoreNumber", ""),
        "SurvivorMemberNumber": "",
        "MobileConfirmed": "N",
        "Gender": p.get("Gender", ""),
    }


def _lookup_reply(
    state: SYWState,
    result: str,
    started: float,
    status: str,
    text: str,
    version: str,
    members: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``<result>.GetMemberLookupReply[0]`` wrapper CreateMember and GetMemberLookup share."""
    date, time_of_day = _response_date_time(state)
    messages = (MSG1, MSG2) if result == "GetMemberLookupResult" else (None, None)
    return {
        result: {
            "GetMemberLookupReply": [
                {
                    "MTServerName": MT_SERVER_NAME,
                    "Additional": {
                        "msg1": messages[0],
                        "msg2": messages[1],
                        "Status": status,
                        "StatusText": text,
                        "MessageVersion": version,
                        "SysPulse": _pulse(started),
                    },
                    "Type": "PROCESSED",
                    "ResponseDate": date,
                    "ResponseTime": time_of_day,
                    "NumRecordsReturned": len(members),
                    "Members": {"Member": members},
                }
            ]
        }
    }


def _requestor_problem(state: SYWState, requestor: str) -> str | None:
    if not requestor:
        return "REQUESTOR ID IS REQUIRED"
    if len(requestor) > 4:
        return f"REQUESTOR ID IS INVALID -{_LENGTH}"
    if requestor != state.requestor_id:
        return "REQUESTOR ID IS INVALID"
    return None


def _email_problem(email: str) -> str | None:
    """CreateMember's status 80 texts."""
    if len(email) >= 50:
        return "Email Address must be < 50 characters"
    if "@" not in email:
        return 'Invalid email - Missing "@" sign'
    if email.count("@") > 1:
        return "Invalid email - Extra '@' in email"
    user, domain = email.split("@")
    if not user:
        return "Invalid email - Missing User Name"
    if not domain:
        return "Invalid email - Missing domain name"
    if email.startswith("."):
        return 'Invalid email - Email begins with "."'
    if domain.startswith("."):
        return 'Invalid email - "." following "@" sign'
    if ".." in domain:
        return 'Invalid email - double "." in domain'
    if re.search(r"[\s,;:<>()\[\]\\\"]", email):
        return "Invalid character in email"
    if "." not in domain or not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        return "Invalid email - Bad domain name"
    return None


def _create_member_problem(state: SYWState, body: dict[str, Any]) -> tuple[str, str] | None:
    """The first documented structural problem of a CreateMember request, as (status, text)."""
    get = body.get
    s = {k: _s(body, k) for k in body}
    v = s.get
    if (problem := _requestor_problem(state, v("RequestorID", ""))) is not None:
        return "99", problem
    version = v("MessageVersion", "")
    if not version:
        return "99", "MESSAGE VERSION IS REQUIRED"
    if not _DIGITS.match(version) or len(version) > 3:
        return "99", "MESSAGE VERSION IS NOT VALID"
    for field, text in (
        ("FirstName", "FIRST NAME IS REQUIRED"),
        ("LastName", "LAST NAME IS REQUIRED"),
        ("CurrentDate", "CURRENT DATE IS REQUIRED"),
        ("CurrentTime", "CURRENT TIME IS REQUIRED"),
    ):
        if not v(field):
            return "99", text
    created_by = v("ClubMembershipCreatedBy", "")
    if not created_by or len(created_by) > 12:
        return "99", "CLUB MEMBERSHIP CREATED BY IS INVALID"
    for field, limit, label in (
        ("StoreNumber", 5, "STORE NUMBER"),
        ("Terminal", 3, "TERMINAL NUMBER"),
    ):
        value = v(field, "")
        if len(value) > limit:
            return "99", f"{label} IS INVALID -{_LENGTH}."
        if not _DIGITS.match(value):
            return "99", f"{label} IS INVALID"
    for field, allowed, text in (
        ("SHCAssociateInd", ("", "N", "A", "R"), "SHC ASSOCIATE ID IS INVALID"),
        ("PreferredLanguage", ("", "E", "S"), "LANGUAGE PREFERENCE IS INVALID"),
        ("ClubEmailOptStatus", ("", "Y", "N"), "CLUB EMAIL STATUS IS INVALID"),
        ("TnCStatus", ("", "Y", "N"), "TNCSTATUS IS INVALID"),
    ):
        if v(field, "") not in allowed:
            return "99", text
    if len(v("CardDesignType", "")) > 4:
        return "99", "CARD DESIGN TYPE IS INVALID"
    pin = v("PinNumber", "")
    if pin and (not _DIGITS.match(pin) or len(pin) > 8):
        return "99", "PIN NUMBER IS INVALID"
    # field entries (81)
    for field, label in (("FirstName", "FIRST NAME"), ("LastName", "LAST NAME")):
        value = v(field, "")
        if len(value) > 30 or not _NAME.match(value):
            return "81", f"INVALID FIELD({label}) ENTRY"
        if " " in value:
            return "81", "USE A DASH INSTEAD OF SPACE FOR NAME"
    middle = v("MiddleInitial", "")
    if middle and (len(middle) > 1 or not middle.isalpha()):
        return "81", "INVALID FIELD(MIDDLE INITIAL) ENTRY"
    for field, limit, text in (
        ("Prefix", 4, "INVALID PREFIX-The length cannot exceed 4 positions."),
        ("Suffix", 4, f"SUFFIX IS INVALID-{_LENGTH}."),
        ("Address1", 40, f"ADDRESSLINE1 INVALID-{_LENGTH}."),
        ("Address2", 40, f"ADDRESSLINE2 INVALID-{_LENGTH}."),
        ("State", 2, f"STATE INVALID-{_LENGTH}."),
        ("EnrollmentOfferCode", 10, f"ENROLLMENT OFFER CODE IS INVALID-{_LENGTH}."),
    ):
        if len(v(field, "")) > limit:
            return "81", text
    country = v("CountryCode", "").upper()
    if country not in ("", "US", "CA", "MX"):
        return "81", "INVALID COUNTRY/STATE"
    for field, text in (
        ("TestAccount", "TEST_ACCOUNT FLAG IS INVALID"),
        ("WirelessPermissionFlag", "WIRELESS PERMISSION FLAG IS INVALID"),
    ):
        if v(field, "") not in ("", "Y", "N"):
            return "81", text
    if v("ClubDNPStatus", "") not in ("", "M", "P", "B"):
        return "81", "CLUBDNPSTATUS IS INVALID"
    dob = v("DOB", "")
    if dob and not _valid_date(dob):
        return "81", "INVALID FIELD(DOB) ENTRY"
    zip_code = v("ZipCode", "")
    if not zip_code:
        return "63", "Zip Code is required"
    zip_ok = (
        bool(re.fullmatch(r"[A-Za-z0-9]{3,6}", zip_code))
        if country == "CA"
        else bool(re.fullmatch(r"\d{5}", zip_code))
    )
    if not zip_ok:
        return "81", "PLEASE ENTER A VALID ZIPCODE"
    extension = v("ZipCodeExtension", "")
    if len(extension) > 4:
        return "81", "Zip extension cannot exceed 4 positions"
    if extension and not extension.isalnum():
        return "81", "PLEASE ENTER A VALID ZIPCODE EXTENSION"
    phones_block = get("PhoneNumbers")
    phones = phones_block.get("Phone") if isinstance(phones_block, dict) else None
    if phones_block is not None and not isinstance(phones, list):
        return "81", "PHONE NUMBER REQUIRED"
    homes = 0
    for phone in phones or []:
        number = _s(phone, "PhoneNumber") if isinstance(phone, dict) else ""
        if not re.fullmatch(r"\d{10}", number):
            return "81", "PHONE NUMBER REQUIRED"
        homes += _s(phone, "PhoneType") == "H"
    if homes > 1:
        return "81", "Home Phone Reached Maximum Limit"
    email = v("EmailAddress", "")
    if not email and not phones:
        return "71", "A valid email address or mobile phone # or home phone # is required"
    if email and (problem := _email_problem(email)) is not None:
        return "80", problem
    return None


def create_member(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    version = _s(body, "MessageVersion")

    def reply(status: str, text: str, members: list[dict[str, Any]] | None = None) -> Reply:
        answer = _lookup_reply(
            state, "CreateMemberResult", started, status, text, version, members or []
        )
        return answer, bool(members)

    if (problem := _create_member_problem(state, body)) is not None:
        return reply(*problem)
    wanted = _s(body, "MemberNumber")
    if wanted:
        if not re.fullmatch(r"7081\d{12}", wanted):
            return reply("77", "CLUB ID INVALID IN MEMBERSHIP SERVICES")
        if wanted in state.members:
            return reply("72", "CLUB ID ALREADY USED, TRY ANOTHER CARD")
    email = _s(body, "EmailAddress")
    phones: list[dict[str, Any]] = (body.get("PhoneNumbers") or {}).get("Phone") or []
    mobiles = {_s(p, "PhoneNumber") for p in phones if _s(p, "PhoneType") in ("M", "")}
    active = [m for m in state.members.values() if m.club_status == "A"]
    email_taken = bool(email) and any(
        m.profile.get("EmailAddress", "").lower() == email.lower() for m in active
    )
    mobile_taken = any(
        str(p.get("PhoneNumber", "")) in mobiles and p.get("PhoneType", "M") == "M"
        for m in active
        for p in m.phones()
    )
    if email_taken and mobile_taken:
        return reply("88", "EMAIL ADDRESS AND MOBILE PHONE EXISTS ON AN ACTIVE MEMBER")
    if email_taken:
        return reply("86", "EMAIL ADDRESS EXISTS ON AN ACTIVE MEMBER")
    if mobile_taken:
        return reply("87", "MOBILE PHONE EXISTS ON AN ACTIVE MEMBER")

    dob = _s(body, "DOB")
    age_eligible = "Y"
    if dob:
        born = dt.date.fromisoformat(dob)
        today = _now(state).date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        age_eligible = "Y" if age > 13 else "N"
    store = _s(body, "StoreNumber")
    profile: dict[str, Any] = {k: _s(body, k) for k in list(PROFILE_DEFAULTS)[:12]}
    profile.update(
        {
            "CreatedBy": _s(body, "ClubMembershipCreatedBy"),
            "ClubDNPStatus": _s(body, "ClubDNPStatus"),
            "AgeEligible": age_eligible,
            "DOB": dob,
            "WirelessPermissionFlag": _s(body, "WirelessPermissionFlag"),
            "LanguagePreference": _s(body, "PreferredLanguage") or "E",
            "CardDesignType": _s(body, "CardDesignType") or "VRTL",
            "SHCAssociateInd": _s(body, "SHCAssociateInd") or "N",
            "ClubEmailOptStatus": _s(body, "ClubEmailOptStatus") or "N",
            "CountryCode": _s(body, "CountryCode").upper() or "US",
            "PhoneNumbers": {
                "Phone": [
                    {
                        "PhoneType": _s(p, "PhoneType") or "M",
                        "PreferredPhoneType": _s(p, "PreferredPhoneType")
                        or ("Y" if len(phones) == 1 else "N"),
                        "PhoneNumber": _s(p, "PhoneNumber"),
                        "CarrierCode": _s(p, "CarrierCode"),
                    }
                    for p in phones
                ]
            },
            "MemberEarnType": (
                "BONUS" if email and _s(body, "ClubEmailOptStatus") == "Y" else "BASE"
            ),
            "TestCardIndicator": _s(body, "TestAccount"),
            "TermsAndConditions": {
                "TermAndCondition": [
                    {
                        "TnCStatus": _s(body, "TnCStatus"),
                        "Version": _s(body, "TnCVersion"),
                        "StoreNumber": store,
                        "RegisterNumber": _s(body, "Terminal"),
                        "AssociateID": "",
                        "Prompt": "N",
                        "LatestVersion": _s(body, "TnCVersion"),
                    }
                ]
            },
            "EnrollmentSourceCode": _s(body, "RequestorID"),
            "EnrollmentStoreNumber": store,
            "Gender": _s(body, "Gender"),
        }
    )
    member = state.add_member(
        wanted or state.allocate_member_number(),
        profile=profile,
        pin_number=_s(body, "PinNumber") or _s(body, "ZipCode")[:5],
    )
    return reply("0", "Success", [_member_view(state, member, "5")])


def _lookup_matches(
    state: SYWState, search: str, body: dict[str, Any]
) -> tuple[list[Member] | None, str, str]:
    """(members found, status and text for none found), or (None, status, text) for a
    request problem."""
    v = {k: _s(body, k) for k in ("MemberNumber", "EmailAddress", "PhoneNumber")}
    first, last = _s(body, "FirstName").lower(), _s(body, "LastName").lower()
    members = list(state.members.values())

    def names_match(m: Member, *, required: bool) -> bool:
        if (required or first) and str(m.profile.get("FirstName", "")).lower() != first:
            return False
        return not (required or last) or str(m.profile.get("LastName", "")).lower() == last

    def by_email(m: Member) -> bool:
        return str(m.profile.get("EmailAddress", "")).lower() == v["EmailAddress"].lower()

    def by_phone(m: Member) -> bool:
        return any(str(p.get("PhoneNumber", "")) == v["PhoneNumber"] for p in m.phones())

    if search in ("01",):
        if not first:
            return None, "46", "FIRST NAME IS REQUIRED"
        if not last:
            return None, "47", "LAST NAME IS REQUIRED"
        return [m for m in members if names_match(m, required=True)], "64", "NO MATCHING NAME FOUND"
    if search in ("02", "10"):
        if not v["EmailAddress"]:
            return None, "48", "EMAIL ADDRESS IS REQUIRED"
        found = [m for m in members if by_email(m)]
        if found and search == "10":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "65", "NO MATCHING EMAIL ADDRESS FOUND"
    if search in ("04", "11"):
        if not v["PhoneNumber"]:
            return None, "50", "PHONE NUMBER IS REQUIRED"
        found = [m for m in members if by_phone(m)]
        if found and search == "11":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "66", "NO MATCHING PHONE NUMBER FOUND"
    if search in ("05", "09"):
        number = v["MemberNumber"]
        if not number:
            return None, "99", "MEMBER NUMBER IS REQUIRED"
        if not _DIGITS.match(number) or len(number) > 18:
            return None, "99", "INVALID MEMBER NUMBER"
        found = [m for m in members if m.member_number == number]
        if found and search == "09":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "68", "CLUB MEMBER NOT FOUND"
    if search == "06":
        if not v["PhoneNumber"]:
            return None, "50", "PHONE NUMBER IS REQUIRED"
        if not v["EmailAddress"]:
            return None, "48", "EMAIL ADDRESS IS REQUIRED"
        both = [m for m in members if by_email(m) and by_phone(m)]
        return both, "67", "NO MATCHING ROW FOUND"
    return None, "99", f"INVALID SEARCH TYPE FOR \u201c{_s(body, 'RequestorID')}\u201d"


def get_member_lookup(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    version = _s(body, "MessageVersion")

    def reply(status: str, text: str, members: list[dict[str, Any]] | None = None) -> Reply:
        answer = _lookup_reply(
            state, "GetMemberLookupResult", started, status, text, version, members or []
        )
        return answer, False

    requestor = _s(body, "RequestorID")
    search = _s(body, "SearchType")
    search = search.zfill(2) if _DIGITS.match(search) else search
    if not version:
        return reply("99", "MESSAGE VERSION IS REQUIRED")
    if not _DIGITS.match(version) or len(version) > 3:
        return reply("99", "MESSAGE VERSION IS NOT VALID")
    if requestor != state.requestor_id:
        return reply("99", f"INVALID SEARCH TYPE FOR \u201c{requestor}\u201d")
    store, terminal = _s(body, "StoreNumber"), _s(body, "Terminal")
    if store and (len(store) > 5 or not _DIGITS.match(store)):
        return reply("99", "STORE NUMBER IS INVALID")
    if terminal and (len(terminal) > 3 or not _DIGITS.match(terminal)):
        return reply("99", "TERMINAL NUMBER IS INVALID")
    members, status, text = _lookup_matches(state, search, body)
    if members is None:
        return reply(status, text)
    limit = _int(_s(body, "MaxRecords"))
    if limit is not None and limit > 0:
        members = members[:limit]
    if not members:
        return reply(status, text)
    return reply("0", "Success", [_member_view(state, m, _s(body, "SearchType")) for m in members])


def get_reward_balance(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number, identifier = _s(body, "memberNumber"), _s(body, "memberIdentifier")

    def refuse(status: str, text: str) -> Reply:
        return {
            "mtServerName": MT_SERVER_NAME,
            "memberNumber": number,
            "additional": {"status": status, "statusText": text, "sysPulse": _pulse(started)},
        }, False

    requestor, store = _s(body, "requestorID"), _s(body, "storeNumber")
    if requestor and len(requestor) > 4:
        return refuse("99", f"Requestor Id is invalid {_LENGTH}")
    if requestor and requestor != state.requestor_id:
        return refuse("99", "Requestor Id is invalid")
    if len(store) > 5:
        return refuse("99", f"StoreNumber is invalid; {_LENGTH}")
    current = _s(body, "currentDate")
    bad_number = bool(number) and (not _DIGITS.match(number) or len(number) > 18)
    if (current and not _valid_date(current)) or bad_number:
        return refuse(
            "99", "Invalid current date. Member number is not valid or length is not proper"
        )
    if not number and not identifier:
        return refuse(
            "99", "Indicates a problem with the input. Telluride could not perform the match"
        )
    member = _member_by(state, number, identifier)
    if member is None:
        return refuse("44", "Club ID Not Found")
    own = member.points
    dollars = _dollars(own, state.points_per_cent)
    buckets = [
        {
            "memberOwnPoints": str(lot.points),
            "memberOwnExpiryDate": lot.expiry,
            "memberOwnBasePoints": 0,
            "memberOwnBonusPoints": lot.points,
        }
        for lot in sorted(member.lots, key=lambda lot: lot.expiry)[:5]
    ]
    return {
        "mtServerName": MT_SERVER_NAME,
        "emailAddress": member.profile.get("EmailAddress", ""),
        "firstName": member.profile.get("FirstName", ""),
        "lastName": member.profile.get("LastName", ""),
        "memberNumber": int(member.member_number),
        "additional": {"status": "0", "statusText": "Good Balance", "sysPulse": _pulse(started)},
        "totalAvailablePointsSummary": {
            "totalAvailableBasePoints": "0",
            "totalAvailableBonusPoints": str(own),
            "totalAvailablePoints": str(own),
            "totalAvailableMemberOwnPoints": str(own),
            "totalAvailableSurprisePoints": "0",
            "channelWisePointsSummary": {
                "channel": [
                    {
                        "memberOwnPoints": own,
                        "pointsPerCent": state.points_per_cent,
                        "availablePoints": own,
                        "surprisePoints": 0,
                        "restrictedPoints": 0,
                        "availableDollars": dollars,
                        "availableBonusPoints": own,
                        "availableBasePoints": 0,
                        "availableMemberOwnPointsList": {"memberOwnPointsToExpire": buckets},
                        "availableSurprisePointsList": {"availableSurprisePoints": []},
                        "availablePartnerBenefitsPointsList": {"availableSurprisePoints": []},
                        "availableXROfferList": {"totalAvailableXROffers": []},
                        "availablePointsToRedeem": max(own, 0),
                        "redeemableDollars": _dollars(max(own, 0), state.points_per_cent),
                        "redemptionCapDetails": {"capDuration": "", "capValue": "0", "capType": ""},
                    }
                ]
            },
        },
    }, False


_REDEMPTION_MEMBER_STATUS = {
    "S": ("31", "Member's status is Suspended"),
    "I": ("32", "Member's status is Inactive"),
    "O": ("33", "Member's status is Merge and alternate member not found or not active"),
    "R": ("33", "Member's status is Merge and alternate member not found or not active"),
    "P": ("35", "Member's status is Pending Verified"),
}


def _line_items(
    body: dict[str, Any], points: int, points_per_cent: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Echo the request's LineItems with the redeemed points spread over them in order, and
    the cart's redeemable value in points (None without line items)."""
    raw = body.get("LineItems")
    items = raw.get("LineItem") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        return [], None
    remaining, cart, lines = points, 0, []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            value = Decimal(_s(item, "DollarValuePostDisc") or "0")
        except ArithmeticError:
            value = Decimal(0)
        excluded = _s(item, "RedemptionExclusionFlag") == "Y"
        line_points = 0 if excluded else int(value * points_per_cent * 100)
        cart += line_points
        used = min(line_points, remaining)
        remaining -= used
        lines.append(
            {
                "LineNumber": _s(item, "LineNumber"),
                "ItemType": _s(item, "ItemType"),
                "Division": _s(item, "Division"),
                "ItemNumber": _s(item, "ItemNumber"),
                "LineItemAmountTypeCode": _s(item, "LineItemAmountTypeCode"),
                "DollarValuePreDisc": _s(item, "DollarValuePreDisc"),
                "DollarValuePostDisc": _s(item, "DollarValuePostDisc"),
                "Quantity": _s(item, "Quantity"),
                "PointsRedeemed": str(used),
                "DollarValueOfPointsRedeemed": _dollars(used, points_per_cent),
                "RedemptionExclusionFlag": _s(item, "RedemptionExclusionFlag") or "N",
                "TaxAmount": "0.00",
                "PostSalesAdjustmentAmount": "0.00",
                "NonMemberPrice": "0.00",
            }
        )
    return lines, cart


def process_redemption(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    f = {
        k: _s(body, k)
        for k in (
            "MessageVersion",
            "Function",
            "RequestorID",
            "MemberNumber",
            "MemberIdentifier",
            "PickUpStoreNumber",
            "OrderStoreNumber",
            "RegisterNumber",
            "TransactionDate",
            "TransactionTime",
            "RedemptionPoints",
            "AuthorizationCode",
            "TransactionNumber",
            "OrderId",
        )
    }
    ppc = state.points_per_cent
    echo = {
        "MemberNumber": f["MemberNumber"],
        "PickUpStoreNumber": f["PickUpStoreNumber"],
        "OrderStoreNumber": f["OrderStoreNumber"],
        "RegisterNumber": f["RegisterNumber"],
        "TransactionNumber": f["TransactionNumber"],
        "OrderId": f["OrderId"],
        "TransactionDate": f["TransactionDate"],
        "TransactionTime": f["TransactionTime"],
    }

    def additional(status: str, text: str) -> dict[str, Any]:
        return {
            "msg1": {},
            "msg2": {},
            "Status": status,
            "StatusText": text,
            "MessageVersion": f["MessageVersion"],
            "SysPulse": _pulse(started),
        }

    def refuse(status: str, text: str, extra: dict[str, Any] | None = None) -> Reply:
        return {
            **echo,
            **(extra or {}),
            "ResponseText": text,
            "Additional": additional(status, text),
            "MTServerName": MT_SERVER_NAME,
        }, False

    structural = "Structural Validation Errors"
    version = f["MessageVersion"]
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", "Message Version is invalid")
    function = f["Function"].upper()
    if function not in ("R", "B", "V"):
        return refuse("99", structural)
    if _requestor_problem(state, f["RequestorID"]) is not None:
        return refuse("99", structural)
    if not f["MemberNumber"] and not f["MemberIdentifier"]:
        return refuse("99", structural)
    for field, limit in (("PickUpStoreNumber", 5), ("OrderStoreNumber", 5), ("RegisterNumber", 3)):
        if not f[field] or len(f[field]) > limit:
            return refuse("99", structural)
    if not _valid_date(f["TransactionDate"]) or not _TIME.match(f["TransactionTime"]):
        return refuse("99", structural)
    if len(f["TransactionNumber"]) > 16 or len(f["OrderId"]) > 40:
        return refuse("99", structural)
    points = _int(f["RedemptionPoints"]) if f["RedemptionPoints"] else None
    if function == "R" and (points is None or points <= 0 or len(f["RedemptionPoints"]) > 10):
        return refuse("99", structural)
    if function == "V" and not f["AuthorizationCode"]:
        return refuse("99", structural)
    number = f["MemberNumber"]
    if number and (not _DIGITS.match(number) or len(number) > 18):
        return refuse("03", "Invalid Member Number/Password")
    member = _member_by(state, number, f["MemberIdentifier"])
    if member is None:
        return refuse("30", "No member found")
    echo["MemberNumber"] = member.member_number
    if member.club_status in _REDEMPTION_MEMBER_STATUS:
        return refuse(*_REDEMPTION_MEMBER_STATUS[member.club_status])

    before = member.points
    requested = points or 0
    lines, cart = _line_items(body, requested if function == "R" else 0, ppc)
    max_redeemable = max(before, 0) if cart is None else min(max(before, 0), cart)
    code = ""
    applied = 0
    now = _now(state)
    if function == "R":
        assert points is not None
        if points > before:
            return refuse(
                "01",
                "Points Not Available",
                {"TotalAvailableRewardPoints": before, "RedemptionPoints": points},
            )
        code = _auth_code(state)
        taken = member.debit(points)
        member.authorizations[code] = Authorization(
            code=code,
            member_number=member.member_number,
            points=points,
            lots=taken,
            transaction_number=f["TransactionNumber"],
            order_id=f["OrderId"],
        )
        member.activity.append(
            activity_entry(
                when=now,
                transaction_type="R",
                description=f"{f['OrderStoreNumber']} - Points Redemption",
                redeemed=points,
                balance=member.points,
                points_per_cent=ppc,
                transaction_number=f["TransactionNumber"],
                order_id=f["OrderId"],
                store=f["OrderStoreNumber"],
                register=f["RegisterNumber"],
                attributes=_code_attribute(state, code),
            )
        )
        state.ledger.append(
            LedgerEntry("redeem", member.member_number, -points, f["TransactionNumber"], code)
        )
        applied = points
    elif function == "V":
        code = f["AuthorizationCode"]
        authorization = member.authorizations.get(code)
        if authorization is None:
            return refuse("99", structural)
        if authorization.voided:
            return refuse("93", "Redemption already voided")
        if points is not None and points not in (0, authorization.points):
            return refuse("94", "Points not valid")
        authorization.voided = True
        for lot in authorization.lots:
            member.credit(lot.points, lot.expiry)
        restored_elsewhere = authorization.points - sum(lot.points for lot in authorization.lots)
        if restored_elsewhere > 0:
            member.credit(restored_elsewhere, _expiry_in(state, days=365))
        member.activity.append(
            activity_entry(
                when=now,
                transaction_type="V",
                description=f"{f['OrderStoreNumber']} - Redemption Void",
                redeemed=-authorization.points,
                balance=member.points,
                points_per_cent=ppc,
                transaction_number=f["TransactionNumber"] or authorization.transaction_number,
                order_id=f["OrderId"] or authorization.order_id,
                store=f["OrderStoreNumber"],
                register=f["RegisterNumber"],
                reason_code="VOID",
                attributes=_code_attribute(state, code),
            )
        )
        state.ledger.append(
            LedgerEntry(
                "void",
                member.member_number,
                authorization.points,
                f["TransactionNumber"] or authorization.transaction_number,
                code,
            )
        )
        applied = authorization.points
        echo["TransactionNumber"] = f["TransactionNumber"] or authorization.transaction_number
        echo["OrderId"] = f["OrderId"] or authorization.order_id
    after = member.points
    nearest = min(member.lots, key=lambda lot: lot.expiry, default=None)
    answer = {
        **echo,
        "RedemptionPoints": applied,
        "RedemptionDollarValue": _dollars(applied, ppc),
        "MaxRedeemablePoints": max_redeemable,
        "MaxRedeemableDollarValue": _dollars(max_redeemable, ppc),
        "TotalAvailableRewardPoints": after,
        "AuthorizationCode": code,
        "MaxRedeemableMemberOwnPoints": max_redeemable,
        "MaxRedeemableMemberOwnPointsDollarValue": _dollars(max_redeemable, ppc),
        "MaxRedeemableSurprisePoints": 0,
        "MaxRedeemableSurprisePointsDollarValue": "0.00",
        "TotalAvailableMemberOwnPoints": before,
        "TotalAvailableMemberOwnPointsDollarValue": _dollars(before, ppc),
        "TotalAvailableSurprisePoints": 0,
        "TotalAvailableSurprisePointsDollarValue": "0.00",
        "MaxRedeemableSurprisePointsList": {"RedeemableSurprisePoints": []},
        "TotalAvailableSurprisePointsList": {"AvailableSurprisePoints": []},
        "TotalQualifiedXRPointsList": {"QualifiedXRPoints": []},
        "MaxRedeemableXRPointsList": {"RedeemableXRPoints": []},
        "TotalAvailableXRPointsList": {"AvailableXRPoints": []},
        "LineItems": {"LineItem": lines},
        "ResponseText": "SUCCESS",
        "PointsToExpire": nearest.points if nearest else 0,
        "PointExpirationDate": (
            f"{nearest.expiry[:4]}-{nearest.expiry[4:6]}-{nearest.expiry[6:]}" if nearest else ""
        ),
        "PointsRedeemedOnBaseOffer": "0",
        "DollarValueOfPointsRedeemedOnBaseOffer": "0.00",
        "PointsRedeemedOnBonusOffer": str(applied if function == "R" else 0),
        "DollarValueOfPointsRedeemedOnBonusOffer": _dollars(applied if function == "R" else 0, ppc),
        "Additional": additional("0", "SUCCESS"),
        "MTServerName": MT_SERVER_NAME,
    }
    return answer, function in ("R", "V")


def post_external_bonus(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number = _s(body, "MemberNumber")

    def refuse(status: str, text: str) -> Reply:
        return {
            "MemberNumber": number,
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    structural = "Structural validation errors"
    requestor = _s(body, "RequestorID")
    if not requestor:
        return refuse("99", "RequestorId is a required field")
    if requestor != state.requestor_id:
        return refuse("99", "Requestor Id invalid")
    version = _s(body, "MessageVersion")
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", structural)
    if not _s(body, "FileIdentifier"):
        return refuse("99", "FileIdentifier is a required field")
    if len(_s(body, "FileIdentifier")) > 50:
        return refuse("99", structural)
    offer = _s(body, "OfferId")
    if offer and _s(body, "Channel"):
        return refuse("99", "Provide either OfferId or Channel in the request, not both")
    raw_points = _s(body, "PointsToAdd")
    if not raw_points:
        return refuse("99", "Points to Add is a required field")
    points = _int(raw_points)
    if points is None or len(raw_points) > 11:
        return refuse("99", "Points should be numeric")
    if points == 0:
        return refuse("99", "PointsToAdd is invalid- Bank will not allow 0 points")
    if not number or not _DIGITS.match(number) or len(number) > 18:
        return refuse("99", structural)
    when_text = _s(body, "TransactionTs")
    when = _parse(when_text, "%Y-%m-%dT%H:%M:%S") if len(when_text) == 19 else None
    if when is None:
        return refuse("99", structural)
    ends: dt.datetime | None = None
    for field in ("PointsStartDate", "PointsEndDate"):
        text = _s(body, field)
        if text:
            parsed = _parse(text, "%Y-%m-%dT%H:%M:%S")
            if parsed is None:
                return refuse("99", structural)
            ends = parsed if field == "PointsEndDate" else ends
    transaction_number = _s(body, "TransactionNumber")
    if len(transaction_number) > 16 or len(_s(body, "StoreNumber")) > 5:
        return refuse("99", structural)
    if not offer:
        return refuse("2", "Bonus Offer Code Not Defined")
    if offer not in state.bonus_offer_ids:
        return refuse("2", "OfferId is not activated")
    member = state.members.get(number)
    if member is None:
        return refuse("44", "Club ID Not Found")
    if member.club_status != "A":
        return refuse("44", "Member is not Active")
    if points > 0:
        expiry = ends.strftime("%Y%m%d") if ends else _expiry_in(state, days=365)
        member.credit(points, expiry)
    else:
        member.debit(-points)
    store = _s(body, "StoreNumber") or "00001"
    member.activity.append(
        activity_entry(
            when=_now(state),
            transaction_type="P",
            description=f"{store} - {offer}",
            points=points,
            balance=member.points,
            points_per_cent=state.points_per_cent,
            transaction_number=transaction_number,
            store=store,
            register=_s(body, "RegisterNumber") or "001",
            offer=(offer, offer),
            attributes={"fileIdentifier": _s(body, "FileIdentifier")},
        )
    )
    state.ledger.append(LedgerEntry("earn", member.member_number, points, transaction_number, ""))
    return {
        "MemberNumber": member.member_number,
        "CurrentBalance": member.points,
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "Success",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, True


def get_applicable_offers(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number = _s(body, "MemberNumber")

    def refuse(status: str, text: str) -> Reply:
        return {
            "MemberNumber": number,
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    for field in ("MessageVersion", "MemberNumber", "RequestorID", "OrderStoreNumber"):
        if not _s(body, field):
            return refuse("2", "Validation Error")
    if _s(body, "RequestorID") != state.requestor_id or len(_s(body, "OrderStoreNumber")) > 5:
        return refuse("2", "Validation Error")
    if _s(body, "BenefitOnly") not in ("Y", "N"):
        return refuse("2", "Validation Error")
    current = _parse(_s(body, "CurrentDTTM"), "%Y-%m-%d %H:%M:%S") or _parse(
        _s(body, "CurrentDTTM"), "%Y-%m-%dT%H:%M:%S"
    )
    if current is None:
        return refuse("99", "Invalid currentDTTM")
    products_block = body.get("ProductList")
    products = products_block.get("Product") if isinstance(products_block, dict) else []
    if products_block is not None and not isinstance(products, list):
        return refuse("99", "HierarchyLevels are invalid")
    spend = Decimal(0)
    for product in products or []:
        if not isinstance(product, dict) or not isinstance(
            product.get("HierarchyLevels", []), list
        ):
            return refuse("99", "HierarchyLevels are invalid")
        try:
            spend += Decimal(_s(product, "ItemPrice") or "0") * Decimal(
                _s(product, "Quantity") or "1"
            )
        except ArithmeticError:
            return refuse("2", "Validation Error")
    member = state.members.get(number)
    if member is None:
        return refuse("30", "No member found")
    live = [
        o
        for o in state.offers
        if (start := _parse(str(o.get("StartDTTM", "")), "%Y-%m-%dT%H:%M:%S")) is not None
        and (end := _parse(str(o.get("EndDTTM", "")), "%Y-%m-%dT%H:%M:%S")) is not None
        and start <= current <= end
    ]
    limit = _int(_s(body, "MaxBenefits"))
    if limit is not None and limit > 0:
        live = live[:limit]
    base = int(spend * 10)
    bonus = sum(
        _int(str(o.get("OfferRewardPotential", ""))) or 0
        for o in live
        if o.get("OfferRewardType") == "EARN"
    )
    unconditional = [str(o["EndDTTM"]) for o in live if o.get("Conditional") == "N"]
    return {
        "MemberNumber": member.member_number,
        "RewardsSummary": {
            "RewardPotentialDetails": [
                {
                    "Conditional": "N",
                    "BasePoints": base,
                    "BonusPoints": bonus,
                    "EarliestExpiringOfferDate": min(unconditional, default=""),
                    "RewardType": "EARN",
                    "RewardPotential": [
                        {
                            "RewardPotentialUnit": "Points",
                            "RewardPotentialValue": str(base + bonus),
                        },
                        {
                            "RewardPotentialUnit": "Dollars",
                            "RewardPotentialValue": _dollars(base + bonus, state.points_per_cent),
                        },
                    ],
                }
            ]
        },
        "OffersSet": {"ApplicableOffer": _copy(live)},
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "SUCCESS",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, False


def get_member_activity_detail(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    def refuse(status: str, text: str) -> Reply:
        return {
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    number = _s(body, "MemberNumber")
    if not number:
        return refuse("99", "Member Number is a required field")
    version = _s(body, "MessageVersion")
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", "MessageVersion is invalid")
    if _s(body, "RequestorID") != state.requestor_id:
        return refuse("99", "Requestor Id invalid")
    start_text, end_text = _s(body, "StartDTTM"), _s(body, "EndDTTM")
    start = _parse(start_text, "%Y-%m-%dT%H:%M:%S") if len(start_text) == 19 else None
    if start is None:
        return refuse("99", "Invalid StartDTTM")
    end = _parse(end_text, "%Y-%m-%dT%H:%M:%S") if len(end_text) == 19 else None
    if end is None or end < start:
        return refuse("99", "Invalid EndDTTM")
    member = state.members.get(number) if _DIGITS.match(number) else None
    if member is None:
        return refuse("30", "Invalid Member Number")
    entries = [
        _copy(e)
        for e in member.activity
        if start_text <= str(e.get("TransactionDTTM", "")) <= end_text
    ]
    entries.reverse()  # newest first, also among entries of the same second
    entries.sort(key=lambda e: str(e["TransactionDTTM"]), reverse=True)
    return {
        "TransactionDetails": {"TransactionDetail": entries},
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "Success",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, False


#: path under /tellurideAS -> the call
REWARDS_CALLS: dict[str, Callable[[SYWState, dict[str, Any], float], Reply]] = {
    "profile/CreateMember": create_member,
    "profile/GetMemberLookup": get_member_lookup,
    "profile/GetRewardBalance": get_reward_balance,
    "transaction/ProcessRedemption": process_redemption,
    "transaction/PostExternalBonus": post_external_bonus,
    "transaction/GetApplicableOffers": get_applicable_offers,
    "transaction/GetMemberActivityDetail": get_member_activity_detail,
    "transaction/GetMemberActivityDetails": get_member_activity_detail,
}


# --------------------------------------------------------------------------------------------
# the app


def _auth_refusal(state: SYWState, request: Request[Any, Any, Any]) -> Response[Any] | None:
    def refuse(code: str, status: int = 401) -> Response[Any]:
        return Response({"code": code, "message": AUTH_MESSAGES[code]}, status_code=status)

    client = request.headers.get("client_id", "").strip()
    if not client:
        return refuse("CLIENT_ID_REQUIRED")
    if client != state.client_id:
        return refuse("CLIENT_ID_INVALID")
    token = request.headers.get("access_token", "").strip()
    if not token:
        return refuse("ACCESSTOKEN_REQUIRED")
    with state.lock:
        issued = state.tokens.get(token)
        if issued is None or issued.client_id != client:
            return refuse("ACCESSTOKEN_INVALID")
        if issued.expired or state.clock() >= issued.expires_at:
            return refuse("ACCESSTOKEN_EXPIRED", 500 if state.expired_token_as_http_500 else 401)
    if not state.application_permitted:
        return refuse("APPLICATION_NOT_PERMITTED")
    return None


def create_app(state: SYWState) -> Litestar:
    def answer(body: dict[str, Any]) -> Response[Any]:
        if state.faults.malformed():
            raw = json.dumps(body).encode()
            return Response(
                content=raw[: max(1, len(raw) // 2)], status_code=200, media_type="application/json"
            )
        return Response(body)

    @post(TOKEN_PATH, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        state.requests.append(await record_request(request))
        # faults reach the token endpoint only when named in only_paths
        if (
            state.faults.faults.only_paths
            and (failure := await state.faults.before(request.url.path)) is not None
        ):
            return failure
        with state.lock:
            state.token_requests += 1
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            return Response(_token_answer(state, content_type, await request.body()))
        except TokenRefused as refused:
            return Response(
                {"error": refused.error, "error_description": refused.description},
                status_code=401,
            )

    def rewards_handler(paths: list[str], call: Callable[..., Reply]) -> Any:
        @post(paths, status_code=200, name=call.__name__)
        async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
            state.requests.append(await record_request(request))
            if (refused := _auth_refusal(state, request)) is not None:
                return refused
            if (failure := await state.faults.before(request.url.path)) is not None:
                return failure
            started = time.perf_counter()
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = {}
            with state.lock:
                reply, applied = call(state, body if isinstance(body, dict) else {}, started)
            if applied:
                state.faults.after_apply()
            return answer(reply)

        return handler

    by_call: dict[Callable[..., Reply], list[str]] = {}
    for path, call in REWARDS_CALLS.items():
        by_call.setdefault(call, []).append(f"/tellurideAS/{path}")
    handlers = [rewards_handler(paths, call) for call, paths in by_call.items()]

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, DroppedConnection):
            raise exc  # the server closes the connection without an answer
        if isinstance(exc, HTTPException) and exc.status_code != 500:
            return Response({"Message": str(exc.detail)}, status_code=exc.status_code)
        return Response({"Message": "An error has occurred."}, status_code=500)

    return Litestar(
        [token, *handlers], exception_handlers={Exception: on_error}, openapi_config=None
    )


# --------------------------------------------------------------------------------------------
# demo data

DEMO_MEMBER_NUMBER = "7081207612717221"
INACTIVE_MEMBER_NUMBER = "7081460000000018"


def seed_shopyourway(state: SYWState) -> None:
    """The document's sample member BOB ROB (11000 points in two buckets, some activity) and
    an inactive member. Dates are relative to now so the demo's windows find them."""
    now = _now(state)
    ppc = state.points_per_cent
    bob = state.add_member(
        DEMO_MEMBER_NUMBER,
        profile={
            "EmailAddress": "CRTestID01@automation.com",
            "FirstName": "BOB",
            "LastName": "ROB",
            "MiddleInitial": "M",
            "Address1": "3333 Beverly Rd",
            "City": "Hoffman estates",
            "State": "IL",
            "ZipCode": "60179",
            "CreatedBy": "Tester",
            "ClubDNPStatus": "M",
            "DOB": "1988-03-21",
            "WirelessPermissionFlag": "Y",
            "CardDesignType": "VRTL",
            "CountryCode": "US",
            "PhoneNumbers": {
                "Phone": [
                    {"PhoneType": "M", "PreferredPhoneType": "Y", "PhoneNumber": "8472002626"}
                ]
            },
            "Affinities": {
                "Affinity": [
                    {"AffinityID": "", "AffinityStatus": "A", "AffiliationCode": "CRAFTMAN"},
                    {"AffinityID": "", "AffinityStatus": "A", "AffiliationCode": "UBERNDRV"},
                ]
            },
            "Attributes": {
                "Attr": [
                    {"attrname": "receipt", "attrvalue": ""},
                    {"attrname": "searscc", "attrvalue": ""},
                ]
            },
            "EnrollmentSourceCode": "ABCD",
            "EnrollmentStoreNumber": "03682",
        },
        pin_number="60179",
        points=11000,
        expiring=[(5000, _expiry_in(state, days=45)), (6000, _expiry_in(state, days=200))],
        member_identifier="F2EUW0aolRKC3FHTFfRf9rgb%2FmnkuyVLWlKaq3rSOpU%3D",
        date_issued_ms=1638459446000,
    )
    bob.activity.extend(
        [
            activity_entry(
                when=now - dt.timedelta(days=60),
                transaction_type="P",
                description="00001 - GATEWAY_BONUS",
                points=6000,
                balance=6000,
                points_per_cent=ppc,
                transaction_number="0001",
                offer=("GATEWAY_BONUS", "GATEWAY_BONUS"),
            ),
            activity_entry(
                when=now - dt.timedelta(days=20),
                transaction_type="P",
                description="09305 - SYW.com",
                points=6000,
                balance=12000,
                points_per_cent=ppc,
                transaction_number="0002",
                order_id="110017374",
                store="09305",
                offer=("SYW_Base_Earn", "10 base points for every dollar"),
            ),
            activity_entry(
                when=now - dt.timedelta(days=5),
                transaction_type="R",
                description="09305 - Points Redemption",
                redeemed=1000,
                balance=11000,
                points_per_cent=ppc,
                transaction_number="9957",
                order_id="8207",
                store="09305",
                attributes={"authorizationCode": "TSKFCQ8K"},
            ),
        ]
    )
    bob.authorizations["TSKFCQ8K"] = Authorization(
        code="TSKFCQ8K",
        member_number=DEMO_MEMBER_NUMBER,
        points=1000,
        lots=[PointLot(1000, _expiry_in(state, days=45))],
        transaction_number="9957",
        order_id="8207",
    )
    state.add_member(
        INACTIVE_MEMBER_NUMBER,
        profile={
            "EmailAddress": "inactive.member@example.com",
            "FirstName": "IDA",
            "LastName": "IDLE",
            "ZipCode": "60179",
            "CreatedBy": "Tester",
            "PhoneNumbers": {
                "Phone": [
                    {"PhoneType": "M", "PreferredPhoneType": "Y", "PhoneNumber": "8475550100"}
                ]
            },
        },
        club_status="I",
        points=500,
    )
