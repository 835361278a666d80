"""infra/records.py: key layout and scripts (their behaviour on a real Redis is in
tests/integration/test_records.py)."""

from __future__ import annotations

import hashlib

from gateway.infra import record_scripts
from gateway.infra.records import Records
from gateway.infra.redis_topology import connect


def test_keys_are_one_slot_per_record_and_hide_the_client_key() -> None:
    store = Records(connect("redis://localhost:6379/0"), "lg")
    key = store.key("client-a", "order-42")
    assert key.startswith("lg:idem:{")
    assert key.endswith("}")
    assert "order-42" not in key
    assert "client-a" not in key
    assert store.key("client-b", "order-42") != key
    # the separator keeps ("ab", "c") and ("a", "bc") apart
    assert store.key("ab", "c") != store.key("a", "bc")


def test_script_digests_match_their_source() -> None:
    for name in ("CLAIM", "TAKE", "RENEW", "FINISH", "UNRESOLVED", "RELEASE", "SIDE", "DUE"):
        script = getattr(record_scripts, name)
        assert script.sha == hashlib.sha1(script.source.encode(), usedforsecurity=False).hexdigest()


def test_the_schedule_keys_share_one_slot_and_keep_the_prefix() -> None:
    store = Records(connect("redis://localhost:6379/0"), "tenant-a")
    assert store.due_key == "tenant-a:{reconcile}:due"
    assert store.unknown_key == "tenant-a:{reconcile}:unknown"


def test_never_is_beyond_any_server_time_in_ms() -> None:
    assert record_scripts.NEVER > 10**15  # year 33658
    assert str(record_scripts.NEVER) in record_scripts.FINISH.source
