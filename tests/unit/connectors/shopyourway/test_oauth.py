"""Telluride's JWT-bearer grant: the assertion the gateway signs and the token answer it reads.

The document ("OAuth - Token Request via API"): RS256 (SHA256withRSA), ``iss`` = client id,
``aud`` = the token URL, ``iat``/``exp`` in *milliseconds* without decimals, exp at most 4 h
after iat; the answer's ``exp`` and ``iss`` (issued) are milliseconds too.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import RSAKey

from gateway.connectors.shopyourway import oauth
from gateway.connectors.shopyourway.config import ShopYourWayAuth
from gateway.connectors.shopyourway.simulator.keys import (
    DEMO_PRIVATE_KEY_PEM,
    DEMO_PUBLIC_KEY_PEM,
    generate_key_pair,
)
from gateway.infra.tokens import Token

CLIENT_ID = "EXT_PARTNER1"
TOKEN_URL = "https://oauth.uat.telluride.shopyourway.com/oauthAS/service/oAuth/token.json"
NOW_MS = 1_641_660_545_138  # the document's sample assertion's iat
FOUR_HOURS_MS = 4 * 3600 * 1000


def decoded(assertion: str) -> jwt.Token:
    return jwt.decode(assertion, RSAKey.import_key(DEMO_PUBLIC_KEY_PEM), algorithms=["RS256"])


def b64_json(segment: str) -> dict:
    return json.loads(base64.b64decode(segment + "=" * (-len(segment) % 4)))


# --- make_assertion ----------------------------------------------------------------------


def test_assertion_is_an_rs256_jwt_signed_with_the_key():
    assertion = oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM, NOW_MS)

    token = decoded(assertion)

    assert token.header["alg"] == "RS256"
    assert token.header["typ"] == "JWT"
    assert token.claims["iss"] == CLIENT_ID
    assert token.claims["aud"] == TOKEN_URL


def test_assertion_times_are_integer_milliseconds():
    claims = decoded(
        oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM, NOW_MS)
    ).claims

    assert claims["iat"] == NOW_MS
    for name in ("iat", "exp"):
        assert type(claims[name]) is int
        assert claims[name] > 10**12  # milliseconds, not seconds
    assert 0 < claims["exp"] - claims["iat"] <= FOUR_HOURS_MS


def test_assertion_is_issued_now_by_default():
    before = int(time.time() * 1000)
    claims = decoded(oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM)).claims
    after = int(time.time() * 1000)

    assert before <= claims["iat"] <= after
    assert type(claims["exp"]) is int
    assert 0 < claims["exp"] - claims["iat"] <= FOUR_HOURS_MS


def test_assertion_carries_the_claims_of_the_documents_sample(load_fixture):
    sample = load_fixture("shopyourway", "token_request")
    header_segment, claims_segment, _ = sample["assertion"].split(".")

    claims = decoded(
        oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM, NOW_MS)
    ).claims

    # the sample's header says "SHA256withRSA", which is RS256 in JOSE's names
    assert b64_json(header_segment) == {"typ": "JWT", "alg": "SHA256withRSA"}
    assert set(b64_json(claims_segment)) <= set(claims)
    # the claim table lists "scope" as "not used"; it is sent empty like the sample header
    assert claims["scope"] == ""


def test_assertion_does_not_verify_with_another_key():
    other_public = generate_key_pair()[1]
    assertion = oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM, NOW_MS)

    with pytest.raises(BadSignatureError):
        jwt.decode(assertion, RSAKey.import_key(other_public), algorithms=["RS256"])


def test_assertion_segments_are_unpadded_base64url():
    assertion = oauth.make_assertion(CLIENT_ID, TOKEN_URL, DEMO_PRIVATE_KEY_PEM, NOW_MS)

    assert assertion.count(".") == 2
    assert not set(assertion) & set("+/= ")


# --- load_private_key --------------------------------------------------------------------


def test_load_private_key_inline():
    auth = ShopYourWayAuth(type="jwt_bearer", private_key=DEMO_PRIVATE_KEY_PEM)

    assert oauth.load_private_key(auth) == DEMO_PRIVATE_KEY_PEM


def test_load_private_key_from_a_file(tmp_path):
    path = tmp_path / "syw.pem"
    path.write_text(DEMO_PRIVATE_KEY_PEM, encoding="utf-8")

    auth = ShopYourWayAuth(type="jwt_bearer", private_key_file=str(path))

    assert oauth.load_private_key(auth) == DEMO_PRIVATE_KEY_PEM


def test_load_private_key_without_a_key():
    with pytest.raises(ValueError, match="no private key"):
        oauth.load_private_key(ShopYourWayAuth(type="jwt_bearer"))


# --- token_from_answer -------------------------------------------------------------------


def test_the_documents_token_answer_is_read_in_seconds(load_fixture):
    answer = load_fixture("shopyourway", "token_answer")
    now = 1_641_660_546.0  # just after the answer's "iss" (1641660545949 ms)

    token = oauth.token_from_answer(answer, now)

    assert token == Token(
        value="7b166dd2c4ac71f0d894b6ae095ce726147aa36065af325efe7a60bba470410c",
        expires_at=1_641_696_545.949,
        issued_at=1_641_660_545.949,
    )
    assert token is not None
    assert token.expires_at - token.issued_at == pytest.approx(10 * 3600)  # a 10 h token
    assert token.margin == 60.0


def test_token_answer_in_seconds_is_accepted():
    answer = {
        "access_token": "abc",
        "token_type": "Bearer",
        "exp": 1_641_696_545,
        "iss": 1_641_660_545,
    }

    token = oauth.token_from_answer(answer, 1_641_660_546.0)

    assert token == Token(value="abc", expires_at=1_641_696_545.0, issued_at=1_641_660_545.0)


def test_token_answer_with_expires_in():
    token = oauth.token_from_answer({"access_token": "abc", "expires_in": 3600}, 1_000_000.0)

    assert token == Token(value="abc", expires_at=1_003_600.0, issued_at=1_000_000.0)


def test_token_answer_with_expires_in_as_a_string():
    token = oauth.token_from_answer({"access_token": "abc", "expires_in": "300"}, 1_000_000.0)

    assert token == Token(value="abc", expires_at=1_000_300.0, issued_at=1_000_000.0)


def test_token_answer_without_any_expiry_gets_five_minutes():
    token = oauth.token_from_answer({"access_token": "abc"}, 1_000_000.0)

    assert token == Token(value="abc", expires_at=1_000_300.0, issued_at=1_000_000.0)


def test_issued_in_the_future_is_clamped_to_now():
    now = 1_641_660_000.0
    answer = {"access_token": "abc", "exp": 1_641_696_545_949, "iss": 1_641_660_545_949}

    token = oauth.token_from_answer(answer, now)

    assert token is not None
    assert token.issued_at == now


@pytest.mark.parametrize(
    "body",
    [None, [], "token", {}, {"access_token": None}, {"access_token": 5}, {"token": "abc"}],
    ids=["none", "list", "string", "empty", "null-token", "number-token", "other-key"],
)
def test_unreadable_token_answers(body):
    assert oauth.token_from_answer(body, 1_000_000.0) is None
