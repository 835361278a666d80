"""structlog set-up: JSON lines (or console for development) with a redaction step.

Redaction runs last before rendering, on every event: values under sensitive key names are
replaced, and strings that look like emails, card numbers or bearer tokens are masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "refresh_token",
        "password",
        "pass",
        "secret",
        "private_key",
        "pin",
        "card_number",
        "cardnumber",
        "email",
        "phone",
        "telephone",
        "first_name",
        "last_name",
        "firstname",
        "surname",
        "name",
        "address",
        "birth_date",
        "member_id",
        "customer_number",
        "assertion",
    }
)
_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # email
    re.compile(r"\b(?:\d[ -]?){8,19}\b"),  # card / phone / account numbers
    re.compile(r"(?i)bearer\s+[\w\-.~+/=]+"),  # bearer credentials
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),  # JWTs
)
MASK = "[redacted]"


def _scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return MASK
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(MASK, value)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove PII and secrets by key name and by value pattern."""
    return {k: _scrub(v, k) for k, v in event.items()}


def configure(level: str = "info", fmt: str = "json") -> None:
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
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
