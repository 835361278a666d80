"""/docs in a real browser: Debian's chromium, headless, with every host but the gateway's
unresolvable, renders every path of the document; the page itself asks no other host.

Marked ``browser`` (needs /usr/bin/chromium; `.ci/run` installs it and runs `pytest -m
browser`). The screenshot is kept in build/artifacts/docs-ui.png.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    return found


def _run(url: str, profile: Path, *extra: str) -> str:
    host = urlsplit(url).hostname
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        # any CDN the page needed would now fail to resolve, and the page stay blank
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}",
        "--virtual-time-budget=20000",
        "--window-size=1280,2600",
        *extra,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_docs_render_every_path_with_no_other_host(gateway_url: str) -> None:
    document = httpx.get(gateway_url + "/openapi.json").json()
    origin = gateway_url.rstrip("/")
    with tempfile.TemporaryDirectory() as scratch:
        net_log = Path(scratch) / "net.json"
        dom = _run(
            origin + "/docs", Path(scratch) / "profile", "--dump-dom", f"--log-net-log={net_log}"
        )
        page_requests = _requests_of_the_page(net_log, origin)
    rendered = {path for path in document["paths"] if f'data-path="{path}"' in dom}
    assert rendered == set(document["paths"]), set(document["paths"]) - rendered
    assert document["info"]["title"] in dom
    # the page's own requests (initiator = the page): its files and the document, all local
    asked = {urlsplit(url).path for url in page_requests}
    assert {"/docs/assets/swagger-ui-bundle.js", "/openapi.json"} <= asked, asked
    assert all(url.startswith(origin + "/") for url in page_requests), page_requests


def test_docs_screenshot_is_kept(gateway_url: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "docs-ui.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        _run(
            gateway_url.rstrip("/") + "/docs",
            Path(scratch) / "profile",
            "--hide-scrollbars",
            f"--screenshot={shot}",
        )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a blank page is a few KB


def _requests_of_the_page(net_log: Path, origin: str) -> list[str]:
    """URLs whose request the page started (the browser's own update and sign-in checks
    carry no initiator origin and are not the page's)."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    return [
        event["params"]["url"]
        for event in log["events"]
        if event.get("params", {}).get("initiator") == origin and "url" in event["params"]
    ]
