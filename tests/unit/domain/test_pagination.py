"""Keyset pagination over a whole ledger: filtering, newest-first order, cursors."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from gateway.domain.errors import FieldError, InvalidRequest
from gateway.domain.models import ActivityEntry
from gateway.domain.pagination import decode_cursor, encode_cursor, newest_first_page


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2020, 7, day, hour, tzinfo=dt.UTC)


def entry(entry_id: str, when: dt.datetime, points: int = 10) -> ActivityEntry:
    return ActivityEntry(id=entry_id, occurred_at=when, type="earn", points=points)


#: provider order (oldest first, as CP Extender lists its History)
LEDGER = [
    entry("a", at(1)),
    entry("b", at(2)),
    entry("c", at(3)),
    entry("d", at(4)),
    entry("e", at(5)),
]


def page(entries=LEDGER, *, since=None, until=None, limit=50, cursor=None):
    items, next_cursor = newest_first_page(
        entries, since=since, until=until, limit=limit, cursor=cursor
    )
    return [e.id for e in items], next_cursor


def test_whole_ledger_newest_first_without_cursor():
    assert page() == (["e", "d", "c", "b", "a"], None)


def test_empty_ledger():
    assert page([]) == ([], None)


def test_since_is_inclusive_and_until_exclusive():
    assert page(since=at(2), until=at(4)) == (["c", "b"], None)


def test_filters_with_only_one_bound():
    assert page(since=at(4)) == (["e", "d"], None)
    assert page(until=at(2)) == (["a"], None)


def test_equal_timestamps_put_the_later_provider_line_first():
    ledger = [entry("summary", at(1)), entry("earn", at(2)), entry("hold", at(2))]
    assert page(ledger) == (["hold", "earn", "summary"], None)


def test_pages_walk_the_ledger_without_gaps_or_repeats():
    first, cursor1 = page(limit=2)
    assert first == ["e", "d"]
    assert cursor1 == encode_cursor("d")

    second, cursor2 = page(limit=2, cursor=cursor1)
    assert second == ["c", "b"]
    assert cursor2 == encode_cursor("b")

    third, cursor3 = page(limit=2, cursor=cursor2)
    assert (third, cursor3) == (["a"], None)


def test_no_cursor_when_the_page_ends_exactly_at_the_last_entry():
    ledger = LEDGER[:4]
    first, cursor = page(ledger, limit=2)
    assert page(ledger, limit=2, cursor=cursor) == (["b", "a"], None)
    assert first == ["d", "c"]


def test_new_entries_at_the_top_do_not_shift_the_next_page():
    _, cursor = page(limit=2)
    grown = [*LEDGER, entry("f", at(6)), entry("g", at(7))]

    assert page(grown, limit=2, cursor=cursor) == (["c", "b"], encode_cursor("b"))


def test_cursor_applies_within_the_same_filter():
    first, cursor = page(since=at(2), limit=1)
    assert first == ["e"]
    assert page(since=at(2), limit=5, cursor=cursor) == (["d", "c", "b"], None)


def _assert_bad_cursor(excinfo: pytest.ExceptionInfo[InvalidRequest]) -> None:
    error = excinfo.value
    assert error.code == "invalid_request"
    assert error.status == 400
    assert error.errors == [FieldError(field="cursor", message="unknown or malformed cursor")]


def test_cursor_naming_an_unknown_entry_is_invalid():
    with pytest.raises(InvalidRequest) as excinfo:
        page(cursor=encode_cursor("zzz"))
    _assert_bad_cursor(excinfo)


def test_cursor_of_an_entry_outside_the_filter_is_invalid():
    with pytest.raises(InvalidRequest) as excinfo:
        page(since=at(3), cursor=encode_cursor("a"))
    _assert_bad_cursor(excinfo)


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not UTF-8
        "a",  # impossible base64 length
        "é",  # not ASCII
    ],
)
def test_malformed_cursor_is_invalid(cursor):
    with pytest.raises(InvalidRequest) as excinfo:
        decode_cursor(cursor)
    _assert_bad_cursor(excinfo)


@pytest.mark.parametrize(
    "entry_id", ["a", "cpx_0123456789abcdef01234567", "id/with+odd?chars", "ü"]
)
def test_cursor_round_trip_is_url_safe_and_unpadded(entry_id):
    cursor = encode_cursor(entry_id)
    assert "=" not in cursor
    assert not set(cursor) & set("+/")
    assert decode_cursor(cursor) == entry_id
