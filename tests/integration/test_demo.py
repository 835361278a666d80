"""``gateway demo`` as a newcomer runs it: the banner's calls work (enroll, PATCH, a member
token from the sandbox identity provider), and SIGTERM stops it like Ctrl+C — no process of
it left (its embedded Redis included) and no temporary directory behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.world import DEMO_API_KEY

AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            child = int(entry.name)
            found |= {child} | _descendants(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, str, Path]]:
    port = free_tcp_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = ""
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while "Press Ctrl+C to stop." not in banner and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner += line
        assert "Press Ctrl+C to stop." in banner, banner
        idp = re.search(r"Member tokens: POST (\S+)/token", banner)
        assert idp is not None, banner
        yield process, f"http://127.0.0.1:{port}", idp.group(1), tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_banners_calls_work(demo: tuple[subprocess.Popen[str], str, str, Path]) -> None:
    _, base, idp, _ = demo
    programs = base + "/v1/programs"
    enrolled = httpx.post(
        programs + "/irt-rewards/members",
        json={"card_number": "6001000000000002", "email": "sam@example.com", "first_name": "Sam"},
        headers={**AUTH, "Idempotency-Key": "demo-enroll-1", "X-Member-PIN": "4321"},
        timeout=10,
    )
    assert enrolled.status_code == 201, enrolled.text
    patched = httpx.patch(
        programs + "/alpha-store/members/OLMKne7Y3N",
        content=b'{"phone": "01942 000000"}',
        headers={**AUTH, "Content-Type": "application/merge-patch+json"},
        timeout=10,
    )
    assert patched.json()["phone"] == "01942 000000"
    token = httpx.post(
        idp + "/token", data={"program": "cafe-rewards", "member_id": "2059378440"}, timeout=10
    ).json()["access_token"]
    member = {"Authorization": f"Bearer {token}"}
    own = httpx.get(programs + "/cafe-rewards/members/2059378440/balance", headers=member)
    assert own.status_code == 200
    other = httpx.get(programs + "/cafe-rewards/members/1000000001/balance", headers=member)
    assert other.status_code == 404  # not its membership: as if it did not exist
    refused = httpx.post(idp + "/token", json={"program": "Not A Slug", "member_id": "x"})
    assert refused.status_code == 400


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_leaves_no_process_and_no_temporary_directory(
    demo: tuple[subprocess.Popen[str], str, str, Path], signum: int
) -> None:
    process, base, _, tmp = demo
    assert httpx.get(base + "/healthz").status_code == 200
    children = _descendants(process.pid)
    assert any(b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children), (
        "the demo's embedded Redis runs as its child"
    )
    assert any(p.name.startswith("lg-") for p in tmp.iterdir())
    process.send_signal(signum)
    assert process.wait(timeout=30) == 0
    left = [pid for pid in children if _alive(pid)]
    assert not left, f"still running after the demo stopped: {left}"
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("lg-")]
