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

The package, by concern: ``state`` (members, lots, authorizations, ledger, tokens), ``helpers``
(clock, formats, activity entries), ``oauth`` (the token server), ``members`` (CreateMember),
``lookup`` (GetMemberLookup, GetRewardBalance), ``redemptions`` (ProcessRedemption),
``activity`` (PostExternalBonus, GetApplicableOffers, GetMemberActivityDetail), ``app`` (the
routes), ``seed`` (the demo world's members), ``keys`` (the demo key pair) and ``demo``
(what the sandbox world starts).
"""

from __future__ import annotations

from gateway.connectors.shopyourway.simulator.app import create_app
from gateway.connectors.shopyourway.simulator.demo import SYWSimulator, simulator
from gateway.connectors.shopyourway.simulator.seed import (
    DEMO_MEMBER_NUMBER,
    INACTIVE_MEMBER_NUMBER,
    seed_shopyourway,
)
from gateway.connectors.shopyourway.simulator.state import GRANT_TYPE, TOKEN_PATH, SYWState

__all__ = [
    "DEMO_MEMBER_NUMBER",
    "GRANT_TYPE",
    "INACTIVE_MEMBER_NUMBER",
    "TOKEN_PATH",
    "SYWSimulator",
    "SYWState",
    "create_app",
    "seed_shopyourway",
    "simulator",
]
