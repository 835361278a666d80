"""The committed OpenAPI document is what the app serves (export: `uv run gateway openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.cli import export_openapi

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_openapi_file_is_current() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == export_openapi(), (
        "openapi/openapi.json is stale: run `uv run gateway openapi` and commit the result"
    )


def test_served_schema_matches_the_file(anonymous: httpx.Client) -> None:
    served = anonymous.get("/docs/openapi.json").json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served["paths"].keys() == committed["paths"].keys()
    assert served["components"] == committed["components"]


def test_every_contract_route_is_documented() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    member = "/v1/programs/{program}/members/{member_id}"
    expected = {
        "/v1/programs": {"get"},
        "/v1/programs/{program}": {"get"},
        "/v1/programs/{program}/members": {"get", "post"},
        member: {"get", "patch"},
        f"{member}/balance": {"get"},
        f"{member}/earn": {"post"},
        f"{member}/redemptions": {"post"},
        f"{member}/redemptions/{{redemption_id}}/void": {"post"},
        f"{member}/activity": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_options_allows_exactly_the_documented_methods(anonymous: httpx.Client) -> None:
    """litestar answered `Allow: OPTIONS, POST` on the members collection (it also has GET);
    gateway/app.py gives every OPTIONS handler its route's own methods."""
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    values = {"program": "cafe-rewards", "member_id": "2059378440", "redemption_id": "R1"}
    for template, item in paths.items():
        path = template.format(**values)
        answer = anonymous.options(path)
        assert answer.status_code == 204, (path, answer.text)
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert allowed == {m.upper() for m in item} | {"OPTIONS"}, path


def test_the_served_document_links_and_closes_like_the_file(anonymous: httpx.Client) -> None:
    served = anonymous.get("/openapi.json").json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed
