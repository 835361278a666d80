"""Ids a caller puts in a path: each is one opaque segment (API.md "Input rules").

A member id reaches the provider inside an upstream path (CP Extender, Alpha) or a body field
(IRT, ShopYourWay). Joined into a path, ``.`` or ``..`` is a dot segment that an HTTP client
normalizes away (``/recipients/.`` becomes ``/recipients/``: Alpha's *create*), and ``/``,
``\\`` or a control character change the call or the log line. So an id is checked before any
upstream call: at most 128 characters of URL-unreserved characters (plus ``@`` and ``+``), not
starting with a dot, then against its provider's own alphabet and length
(``Connector.member_id_pattern``). The message never repeats the value.
"""

from __future__ import annotations

import re

from gateway.domain.errors import FieldError, InvalidRequest

#: what any id may be made of, whatever its provider; it never starts with a dot, so neither
#: ``.`` nor ``..`` (nor any dots-only id) is one, and the documented pattern is this one
SEGMENT = re.compile(r"[A-Za-z0-9_~@+-][A-Za-z0-9._~@+-]{0,127}")


def is_valid_id(value: str, pattern: re.Pattern[str] = SEGMENT) -> bool:
    return bool(SEGMENT.fullmatch(value) and pattern.fullmatch(value))


def check_id(field: str, value: str, pattern: re.Pattern[str] = SEGMENT) -> str:
    """``value`` when it is a valid id for ``pattern``; else ``400 invalid_request``."""
    if is_valid_id(value, pattern):
        return value
    raise InvalidRequest(
        f"{field} is not a valid id for this program.",
        errors=[
            FieldError(
                field=field,
                message="one path segment of this provider's id characters and length; "
                "never '.', '..', a slash or a control character",
            )
        ],
    )
