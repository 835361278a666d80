"""Alpha's recipient JSON (snake_case; ``active`` may be 1/0 or a boolean)."""

from __future__ import annotations

import msgspec


class Recipient(msgspec.Struct):
    id: str
    email: str | None = None
    public_key: str | None = None
    active: int | bool | None = None
    firstname: str | None = None
    surname: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    town: str | None = None
    postcode: str | None = None
    country_code: str | None = None
    telephone: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    balance: int | None = None


class ValidationFailure(msgspec.Struct):
    """Alpha's 422 body: a message plus field -> list of messages."""

    message: str | None = None
    errors: dict[str, list[str]] = msgspec.field(default_factory=dict)
