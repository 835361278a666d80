"""What a ShopYourWay program configures: ``options`` and ``auth`` (docs/configuration.md)."""

from __future__ import annotations

import msgspec


class MessageVersions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-operation ``MessageVersion``; defaults are the document's sample values."""

    create_member: str = "14"
    member_lookup: str = "22"
    reward_balance: str = "16"
    process_redemption: str = "12"
    external_bonus: str = "07"
    applicable_offers: str = "08"
    activity_detail: str = "13"


class ShopYourWayOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    requestor_id: str
    #: the OfferId PostExternalBonus posts earned points against
    offer_id: str
    store_number: str = "00001"
    terminal: str = "001"
    associate_id: str = "GATEWAY"
    created_by: str = "GATEWAY"
    club_dnp_status: str = "M"
    card_design_type: str = "VRTL"
    file_identifier: str | None = None
    apply_function: str = "A"
    activity_days: int = 90
    message_versions: MessageVersions = msgspec.field(default_factory=MessageVersions)


class ShopYourWayAuth(msgspec.Struct, kw_only=True):
    """``type: jwt_bearer``: the Telluride client id, its token URL and the RSA key that
    signs the assertion (inline, usually ``${ENV}``, or a mounted file)."""

    type: str = "none"
    client_id: str | None = None
    token_url: str | None = None
    private_key: str | None = None
    private_key_file: str | None = None
