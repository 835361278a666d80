"""Cursor pagination over a ledger the provider returns whole.

The cursor names the last entry a page showed (keyset, not offset), so entries that arrive
at the top between two page reads do not shift or repeat the rest.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any

from gateway.domain.commands import ActivityQuery
from gateway.domain.errors import FieldError, InvalidRequest
from gateway.domain.models import ActivityEntry, ActivityPage


def encode_cursor(entry_id: str) -> str:
    return base64.urlsafe_b64encode(entry_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise _bad_cursor() from None


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest(
        "The cursor is not valid for this activity list.",
        errors=[FieldError(field="cursor", message="unknown or malformed cursor")],
    )


def newest_first_page(
    entries: Sequence[ActivityEntry],
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ActivityEntry], str | None]:
    """Filter to ``since <= occurred_at < until``, sort newest first, cut one page."""
    selected = [
        e
        for e in entries
        if (since is None or e.occurred_at >= since) and (until is None or e.occurred_at < until)
    ]
    # sorted() is stable: entries with equal timestamps keep the provider's order reversed
    # (later in the provider's list = newer).
    ordered = sorted(reversed(selected), key=lambda e: e.occurred_at, reverse=True)
    start = 0
    if cursor is not None:
        last_id = decode_cursor(cursor)
        index = next((i for i, e in enumerate(ordered) if e.id == last_id), None)
        if index is None:
            raise _bad_cursor()
        start = index + 1
    page = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return page, (encode_cursor(page[-1].id) if more and page else None)


def activity_page(
    program_id: str,
    member_id: str,
    entries: Sequence[ActivityEntry],
    query: ActivityQuery,
    provider_data: dict[str, Any] | None,
) -> ActivityPage:
    """One page of a ledger the provider returned whole, as the contract shapes it."""
    page, cursor = newest_first_page(
        entries, since=query.since, until=query.until, limit=query.limit, cursor=query.cursor
    )
    return ActivityPage(
        program=program_id,
        member_id=member_id,
        data=page,
        next_cursor=cursor,
        provider_data=provider_data,
    )
