"""structlog set-up: JSON lines (or console for development) with a redaction step.

Redaction runs last before rendering, on every event: values under sensitive key names
(compared case- and punctuation-insensitively, so ``EmailAddress``, ``email`` and
``email_address`` all match) are replaced, and strings that look like emails, card or phone
numbers, bearer credentials, JWTs or PEM keys are masked wherever they appear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

#: credentials: removed from logs and from ``provider_data``
_SECRETS = {
    "authorization",
    "apikey",
    "token",
    "accesstoken",
    "refreshtoken",
    "password",
    "pass",
    "passwd",
    "secret",
    "clientsecret",
    "privatekey",
    "pin",
    "pinnumber",
    "memberpin",
    "xmemberpin",
    "assertion",
    "idempotencykey",
}
#: personal data: removed from logs (a caller may see its own member's data)
_SENSITIVE = _SECRETS | {
    "cardnumber",
    "email",
    "emailaddress",
    "phone",
    "phonenumber",
    "phonenumbers",
    "telephone",
    "deltelephone",
    "mobile",
    "firstname",
    "lastname",
    "surname",
    "middleinitial",
    "name",
    "fullname",
    "delfirstname",
    "delsurname",
    "address",
    "address1",
    "address2",
    "address3",
    "deladdress1",
    "deladdress2",
    "deladdress3",
    "line1",
    "line2",
    "line3",
    "city",
    "town",
    "zip",
    "zipcode",
    "postcode",
    "postalcode",
    "birthdate",
    "dob",
    "birthday",
    "memberid",
    "membernumber",
    "memberidentifier",
    "customernumber",
    "ref",
    "publickey",
    "user",
    "username",
    "clientid",
    # Alpha recipients: the id is the member id; company and free text are the member's own
    "id",
    "recipientid",
    "company",
    "delcompany",
    "companyname",
    "organisation",
    "organization",
    "note",
    "notes",
    "comment",
    "comments",
    "freetext",
}
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)"),  # PEM
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email
    # card / phone / account numbers (not ISO dates or clock times)
    re.compile(r"(?<![\w.:-])(?!\d{4}-\d\d-\d\d)\+?\d(?:[ -]?\d){6,18}(?![\w.:])"),
    # a card-like run of 12 or more digits anywhere, also inside a word
    # ("RED-4111111111111111"); a longer run is masked whole, never in part
    re.compile(r"\d{12,}"),
    re.compile(r"(?i)bearer\s+[\w\-.~+/=]+"),  # bearer credentials
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),  # JWTs
)
MASK = "[redacted]"
_level = logging.INFO


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def scrub(value: Any, key: str | None = None) -> Any:
    """``value`` with secrets and PII removed (recursively through dicts and lists)."""
    if key is not None and _normal(key) in _SENSITIVE:
        return MASK
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(MASK, value)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def strip_secrets(value: Any) -> Any:
    """``value`` without credentials (the member's own data stays): for ``provider_data``."""
    if isinstance(value, dict):
        return {
            k: MASK if _normal(str(k)) in _SECRETS else strip_secrets(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove PII and secrets by key name and by value pattern."""
    return {
        k: scrub(v, k) if k not in ("event", "level", "timestamp") else v for k, v in event.items()
    }


def debug_enabled() -> bool:
    """Cheap check before building expensive debug events."""
    return _level <= logging.DEBUG


def info_enabled() -> bool:
    """Cheap check before building the per-request access line."""
    return _level <= logging.INFO


def _stream(output: str) -> TextIO:
    if output == "stdout":
        return sys.stdout
    if output == "stderr":
        return sys.stderr
    return open(output, "a", buffering=1, encoding="utf-8")


def configure(level: str = "info", fmt: str = "json", output: str = "stdout") -> None:
    global _level
    _level = logging.getLevelNamesMapping()[level.upper()]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level),
        logger_factory=structlog.PrintLoggerFactory(file=_stream(output)),
        cache_logger_on_first_use=False,
    )
    # Client libraries log full URLs (with member ids) at INFO: keep them quiet.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
