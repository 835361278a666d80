"""/docs is served by the gateway alone, and its text answers carry one well-formed
Content-Type (a strict parser, like Go's mime.ParseMediaType that Prometheus uses)."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.api.docs_ui import ASSETS

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf';[ \t]*({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*")[ \t]*')


def strict_media_type(value: str) -> tuple[str, dict[str, str]]:
    """RFC 9110 media-type; a parameter named twice is an error (Go: "duplicate parameter")."""
    head = re.match(rf"({_TOKEN})/({_TOKEN})[ \t]*", value)
    if head is None:
        raise ValueError(f"no type/subtype: {value!r}")
    params: dict[str, str] = {}
    rest = value[head.end() :]
    while rest:
        match = _PARAM.match(rest)
        if match is None:
            raise ValueError(f"malformed parameters: {rest!r}")
        name = match.group(1).lower()
        if name in params:
            raise ValueError(f"duplicate parameter: {name}")
        params[name] = match.group(2).strip('"')
        rest = rest[match.end() :]
    return f"{head.group(1)}/{head.group(2)}".lower(), params


def test_the_strict_parser_refuses_what_prometheus_refuses() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        strict_media_type("text/plain; version=1.0.0; charset=utf-8; charset=utf-8")
    assert strict_media_type("text/plain; version=1.0.0; charset=utf-8") == (
        "text/plain",
        {"version": "1.0.0", "charset": "utf-8"},
    )


def test_metrics_has_one_charset(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/metrics")
    assert answer.status_code == 200
    media, params = strict_media_type(answer.headers["content-type"])
    assert (media, params) == ("text/plain", {"version": "1.0.0", "charset": "utf-8"})


def test_docs_page_and_its_files_come_from_the_gateway(anonymous: httpx.Client) -> None:
    page = anonymous.get("/docs")  # no API key: the reference is public like the document
    assert page.status_code == 200
    assert strict_media_type(page.headers["content-type"])[0] == "text/html"
    assert not re.search(r"https?:|//", page.text)
    wanted = {
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui.css": "text/css",
        "favicon-32x32.png": "image/png",
    }
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {url.split("/")[-1].split("?")[0] for url in referenced} == set(wanted)
    for url in referenced:
        asset = anonymous.get(url)
        name = url.split("/")[-1].split("?")[0]
        assert asset.status_code == 200, url
        assert asset.content == (ASSETS / name).read_bytes()
        media, _ = strict_media_type(asset.headers["content-type"])
        assert media in {wanted[name], "application/javascript"}, (url, media)
        assert set(asset.headers["cache-control"].split(", ")) == {"public", "max-age=86400"}
    assert anonymous.get("/docs/swagger").text == page.text
    document = anonymous.get("/openapi.json")  # what the page loads
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/../../pyproject.toml",
        "/docs/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/docs/assets/..%2f..%2fpyproject.toml",
        "/docs/assets/%2fetc%2fpasswd",
        "/docs/assets/nothing-here.js",
        "/docs/assets/",
        "/docs/nope",  # litestar's docs router would answer an HTML page
        "/docs/redoc",
        "/docs/x/y",
    ],
)
def test_docs_assets_serve_nothing_else(anonymous: httpx.Client, path: str) -> None:
    answer = anonymous.get(path)
    assert answer.status_code in {400, 404}, (path, answer.status_code)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert b"[tool" not in answer.content
    assert b"root:" not in answer.content
