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


# --- the documents' own sample payloads, as a debug upstream_exchange line carries them ----

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
#: keys whose values are personal data in the providers' documents
PERSONAL = {
    "email",
    "emailaddress",
    "firstname",
    "lastname",
    "surname",
    "telephone",
    "phone",
    "postcode",
    "zipcode",
    "town",
    "city",
    "company",
    "delcompany",
    "delfirstname",
    "delsurname",
    "deltelephone",
    "deltown",
    "delpostcode",
    "id",
    "membernumber",
    "customernumber",
    "cardnumber",
    "ref",
    "publickey",
    "address1",
    "birthdate",
}


def _personal_values(value: object, key: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _personal_values(v, str(k))
    elif isinstance(value, list):
        for v in value:
            found += _personal_values(v, key)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        normal = "".join(c for c in key.lower() if c.isalnum())
        if normal in PERSONAL and len(str(value)) >= 3:
            found.append(str(value))
    return found


SAMPLES = [
    "alpha/recipient.json",
    "alpha/create_request.json",
    "cpextender/balance_check_response.json",
    "cpextender/authorize_request.json",
    "shopyourway/member_lookup_response.json",
    "shopyourway/create_member_request.json",
    "shopyourway/process_redemption_request.json",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_no_personal_data_of_the_documents_samples_survives(name: str) -> None:
    sample = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    personal = _personal_values(sample)
    assert personal, f"{name}: the sample has personal data to look for"
    logged = json.dumps(scrub({"event": "upstream_exchange", "body": sample}))
    leaked = [v for v in personal if f'"{v}"' in logged or v in logged]
    assert not leaked, f"{name}: {leaked}"


def test_a_card_number_inside_free_text_is_masked() -> None:
    for text in ("RED-4111111111111111", "order4111111111111111x", "ref:4111111111111111"):
        assert "4111111111111111" not in scrub(text)
    kept = "points 4516 on 2024-01-14T23:29:13"  # short numbers and timestamps stay
    assert scrub(kept) == kept


def test_a_long_digit_run_is_masked_whole() -> None:
    """A run beyond 19 digits was masked in part, leaving a member-number-like tail."""
    for run in ("1" * 12, "4" * 19, "7" * 28, "9" * 64):
        assert scrub(f"ea8f{run}cafe") == f"ea8f{MASK}cafe"


def test_generated_request_ids_are_never_masked() -> None:
    from gateway.infra.context import new_request_id

    ids = {new_request_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    for rid in ids:
        assert len(rid) == 26
        assert set(rid) <= set("abcdefghijklmnopqrstuvwxyz234567")
        assert scrub(rid) == rid
