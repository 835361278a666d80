"""gateway/cli_writes.py: which Redis the ops commands reach, their arguments and table."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gateway import cli_writes
from gateway.config import parse_settings
from gateway.services.unknowns import UnknownWrite

PROGRAM = """
programs:
  - id: cafe
    name: Cafe
    provider: cpextender
    base_url: http://cp.test
    auth: {type: bearer, token: t}
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway")
    cli_writes.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_the_redis_url_given_wins_then_the_configured_one() -> None:
    settings = parse_settings("redis:\n  url: redis://r.test:6379/2\n" + PROGRAM)
    assert cli_writes.redis_url(settings, "redis://other:1/0") == "redis://other:1/0"
    assert cli_writes.redis_url(settings, None) == "redis://r.test:6379/2"


def test_the_embedded_redis_is_reached_by_its_socket(tmp_path: Path) -> None:
    settings = parse_settings(f"redis:\n  data_dir: {tmp_path}\n" + PROGRAM)
    with pytest.raises(SystemExit, match="is the gateway running"):
        cli_writes.redis_url(settings, None)
    (tmp_path / "redis.sock").touch()
    assert cli_writes.redis_url(settings, None) == f"unix://{tmp_path}/redis.sock?db=0"


def test_settle_needs_exactly_one_decision() -> None:
    parser = _parser()
    args = parser.parse_args(["writes", "settle", "kiosk", "k-1", "--not-applied"])
    assert (args.client, args.key, args.applied) == ("kiosk", "k-1", False)
    args = parser.parse_args(["writes", "settle", "kiosk", "k-1", "--applied", "--id", "A1"])
    assert (args.applied, args.id) == (True, "A1")
    for wrong in (["kiosk", "k-1"], ["kiosk", "k-1", "--applied", "--not-applied"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["writes", "settle", *wrong])


def test_a_row_shows_ages_and_a_parked_unknown() -> None:
    item = UnknownWrite(
        client="kiosk",
        key="k-1",
        program="cafe",
        operation="redeem",
        member_id=None,
        reference="SALE-1",
        age_seconds=7312.4,
        last_check_seconds_ago=None,
        checks=9,
        next_check_in_seconds=None,
    )
    assert cli_writes._row(item) == [
        "kiosk",
        "k-1",
        "cafe",
        "redeem",
        "-",
        "SALE-1",
        "7312s",
        "-",
        "9",
        "gave up",
    ]
    assert len(cli_writes._row(item)) == len(cli_writes.HEADER)
