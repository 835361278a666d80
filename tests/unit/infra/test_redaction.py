"""Log redaction (PII and secrets) and provider_data secret stripping."""

from __future__ import annotations

from gateway.infra.logging import MASK, scrub, strip_secrets


def test_scrub_masks_by_normalized_key_name() -> None:
    event = {
        "EmailAddress": "a@b.co",
        "first_name": "Ann",
        "PinNumber": "11111",
        "nested": [{"Phone": "555"}],
        "program": "cafe-rewards",
        "points": 12,
    }
    assert scrub(event) == {
        "EmailAddress": MASK,
        "first_name": MASK,
        "PinNumber": MASK,
        "nested": [{"Phone": MASK}],
        "program": "cafe-rewards",
        "points": 12,
    }


def test_scrub_masks_values_that_look_like_pii_anywhere() -> None:
    text = (
        "mail wallace@example.com card 6001000000000001 tel 01942 992143 "
        "auth Bearer abc.def jwt eyJhbGciOi.eyJpc3Mi.sig"
    )
    cleaned = scrub(text)
    for secret in (
        "wallace@example.com",
        "6001000000000001",
        "01942 992143",
        "abc.def",
        "eyJhbGciOi",
    ):
        assert secret not in cleaned
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    assert scrub(f"key {pem} end") == f"key {MASK} end"


def test_scrub_keeps_timestamps_and_durations() -> None:
    for text in ("2026-11-22 03:26:40", "2026-11-22T03:25:41.309827Z", "took 12345678.5 ms"):
        assert scrub(text) == text


def test_strip_secrets_keeps_member_data_but_not_credentials() -> None:
    payload = {
        "FirstName": "Bob",
        "PinNumber": "1234",
        "Nested": {"access_token": "t"},
        "Email": "b@example.com",
    }
    assert strip_secrets(payload) == {
        "FirstName": "Bob",
        "PinNumber": MASK,
        "Nested": {"access_token": MASK},
        "Email": "b@example.com",
    }
