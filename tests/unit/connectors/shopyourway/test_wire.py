"""The request structs spell the document's names, irregular ones included, and leave an
unset optional field out (the document's samples omit them)."""

from __future__ import annotations

import msgspec

from gateway.connectors.shopyourway import wire


def _keys(struct: msgspec.Struct) -> list[str]:
    return list(msgspec.json.decode(msgspec.json.encode(struct)))


def test_lookup_sends_only_its_one_search_key() -> None:
    body = wire.MemberLookup(
        requestor_id="R", message_version="22", search_type="02", email_address="a@b.c"
    )
    assert _keys(body) == ["RequestorID", "MessageVersion", "SearchType", "EmailAddress"]


def test_reward_balance_is_camel_case_with_the_documents_requestor_id() -> None:
    body = wire.RewardBalance(
        current_date="d",
        current_time="t",
        requestor_id="R",
        store_number="1",
        member_number="m",
        message_version="16",
    )
    assert _keys(body) == [
        "channels",
        "pointType",
        "currentDate",
        "currentTime",
        "requestorID",
        "storeNumber",
        "memberNumber",
        "memberIdentifier",
        "messageVersion",
    ]


def test_a_redemption_carries_the_authorization_code_only_for_a_void() -> None:
    fields = {
        "message_version": "12",
        "function": "R",
        "requestor_id": "R",
        "member_number": "m",
        "pick_up_store_number": "1",
        "order_store_number": "1",
        "register_number": "001",
        "transaction_date": "d",
        "transaction_time": "t",
        "associate_id": "A",
        "redemption_points": "10",
        "transaction_number": "n",
        "order_id": "o",
        "apply_function": "A",
    }
    authorize = _keys(wire.ProcessRedemption(**fields))
    assert "AuthorizationCode" not in authorize
    assert {"AssociateID", "OrderId", "PickUpStoreNumber"} <= set(authorize)
    void = _keys(wire.ProcessRedemption(**{**fields, "function": "V"}, authorization_code="C"))
    assert void[-1] == "AuthorizationCode"


def test_activity_and_offers_spell_dttm_in_capitals() -> None:
    activity = wire.ActivityDetail(
        member_number="m", start_dttm="s", end_dttm="e", message_version="13", requestor_id="R"
    )
    assert _keys(activity)[:3] == ["MemberNumber", "StartDTTM", "EndDTTM"]
    offers = wire.ApplicableOffers(
        message_version="08",
        member_number="m",
        requestor_id="R",
        order_store_number="1",
        current_dttm="c",
    )
    assert "CurrentDTTM" in _keys(offers)
    assert _keys(offers)[-1] == "TimeZone"
