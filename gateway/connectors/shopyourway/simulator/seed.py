"""The demo world's ShopYourWay members and offers (from the document's samples)."""

from __future__ import annotations

import datetime as dt

from gateway.connectors.shopyourway.simulator.helpers import activity_entry
from gateway.connectors.shopyourway.simulator.state import (
    Authorization,
    PointLot,
    SYWState,
    _expiry_in,
    _now,
)

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
