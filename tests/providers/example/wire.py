"""Example Stamps' JSON bodies, as its (imaginary) document gives them."""

from __future__ import annotations

import msgspec


class Account(msgspec.Struct, rename="camel"):
    account_id: str
    stamps: int
    email: str | None = None


class EarnRequest(msgspec.Struct, rename="camel"):
    stamps: int
    reference: str


class EarnReply(msgspec.Struct, rename="camel"):
    entry_id: str
    stamps_after: int


class Failure(msgspec.Struct):
    error: str
