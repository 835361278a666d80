"""The bodies the connector sends to Telluride, as msgspec structs in the document's field
order (``shopyourway-rewards-api.txt``: each operation's request table and sample).

Names are the document's: PascalCase (``rename="pascal"``) with its irregular spellings
(``RequestorID`` beside ``OfferId``) named per field, and GetRewardBalance's camelCase. An
optional field left ``UNSET`` is not sent at all, as the document's samples leave it out.

The replies are read by ``transform.py``'s tolerant accessors instead: the document's own
reply samples spell one field several ways (``CurrentBalance`` / ``currentBalance``, numbers
as strings or integers), and a reply struct would turn a reasonable reading into a 503.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType


class MemberLookup(msgspec.Struct, rename="pascal", kw_only=True):
    """GetMemberLookup: one search key, named by ``SearchType`` (02 email, 04 phone, 05
    member number)."""

    requestor_id: str = msgspec.field(name="RequestorID")
    message_version: str
    search_type: str
    email_address: str | UnsetType = UNSET
    phone_number: str | UnsetType = UNSET
    member_number: str | UnsetType = UNSET


class Phone(msgspec.Struct, rename="pascal", kw_only=True):
    phone_number: str
    phone_type: str = "M"
    preferred_phone_type: str = "Y"
    carrier_code: str = ""
    phone_validated: str = ""


class PhoneNumbers(msgspec.Struct, rename="pascal"):
    phone: list[Phone]


class CreateMember(msgspec.Struct, rename="pascal", kw_only=True):
    """CreateMember: the caller's fields, then the program's configured values."""

    member_number: str = ""
    email_address: str
    first_name: str
    last_name: str
    address1: str
    address2: str
    city: str
    state: str
    zip_code: str
    country_code: str
    dob: str = msgspec.field(name="DOB")
    current_date: str
    current_time: str
    club_membership_created_by: str
    club_dnp_status: str = msgspec.field(name="ClubDNPStatus")
    card_design_type: str
    store_number: str
    terminal: str
    requestor_id: str = msgspec.field(name="RequestorID")
    message_version: str
    pin_number: str | UnsetType = UNSET
    phone_numbers: PhoneNumbers | UnsetType = UNSET


class RewardBalance(msgspec.Struct, rename="camel", kw_only=True):
    """GetRewardBalance, the one camelCase request of the document."""

    channels: str = ""
    point_type: str = ""
    current_date: str
    current_time: str
    requestor_id: str = msgspec.field(name="requestorID")
    store_number: str
    member_number: str
    member_identifier: str = ""
    message_version: str


class ExternalBonus(msgspec.Struct, rename="pascal", kw_only=True):
    """PostExternalBonus: points posted against the program's offer."""

    offer_id: str
    points_to_add: str
    requestor_id: str = msgspec.field(name="RequestorID")
    store_number: str
    member_number: str
    transaction_ts: str
    message_version: str
    register_number: str
    file_identifier: str
    transaction_number: str


class ProcessRedemption(msgspec.Struct, rename="pascal", kw_only=True):
    """ProcessRedemption: ``Function`` R authorizes, V voids (with the AuthorizationCode)."""

    message_version: str
    function: str
    requestor_id: str = msgspec.field(name="RequestorID")
    member_number: str
    pick_up_store_number: str
    order_store_number: str
    register_number: str
    transaction_date: str
    transaction_time: str
    associate_id: str = msgspec.field(name="AssociateID")
    redemption_points: str
    transaction_number: str
    order_id: str
    apply_function: str
    authorization_code: str | UnsetType = UNSET


class ActivityDetail(msgspec.Struct, rename="pascal", kw_only=True):
    """GetMemberActivityDetail: the member's activity between two times."""

    member_number: str
    start_dttm: str = msgspec.field(name="StartDTTM")
    end_dttm: str = msgspec.field(name="EndDTTM")
    message_version: str
    benefit_only: str = "N"
    requestor_id: str = msgspec.field(name="RequestorID")


class ApplicableOffers(msgspec.Struct, rename="pascal", kw_only=True):
    """GetApplicableOffers; ``TimeZone`` is sent because the gateway's times are UTC
    (Telluride assumes CST/CDT otherwise)."""

    message_version: str
    member_number: str
    requestor_id: str = msgspec.field(name="RequestorID")
    order_store_number: str
    tender_store_number: str = "0"
    pick_up_store_number: str = "0"
    current_dttm: str = msgspec.field(name="CurrentDTTM")
    request_offer_type: str = ""
    benefit_only: str = "N"
    max_benefits: str = "50"
    time_zone: str = "GMT+0:00"


Request = (
    MemberLookup
    | CreateMember
    | RewardBalance
    | ExternalBonus
    | ProcessRedemption
    | ActivityDetail
    | ApplicableOffers
)
