"""IRT's answers: always a JSON object with ``status`` and ``message``, sometimes ``data``."""

from __future__ import annotations

from typing import Any

import msgspec


class Reply(msgspec.Struct):
    status: int
    message: str | None = ""
    data: Any = None


#: status codes of the document's "Status Codes" section
OK = 0
INVALID_CARD = 1
ALREADY_ENROLLED = 2
FATAL = 4
NOT_ENROLLED = 5
PHONE_USED = 6
PHONE_VERIFICATION = 7
INVALID_ACCOUNT = 8
UNAUTHORIZED = 401
IDEMPOTENCY_MISMATCH = 409
INVALID_IDEMPOTENCY_KEY = 422
