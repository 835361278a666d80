"""gateway/api/route_errors.py: one table of each route's errors, and the document lists
exactly those (problem+json, the Problem schema, every code in the description)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.api.route_errors import CONNECTION, MEANING, ROUTES, WRITES, codes_by_status
from gateway.app import create_litestar
from gateway.cli import export_openapi
from gateway.config import parse_settings
from gateway.domain import errors as vocabulary
from gateway.domain.errors import (
    IdempotencyKeyMissing,
    InvalidRequest,
    RateLimited,
    UpstreamTimeout,
)
from gateway.sandbox.world import World


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return export_openapi()


def _handlers() -> dict[str, tuple[str, str]]:
    """The app's documented route handlers: name (the table's key) -> (path, method), the
    path spelled as the document does (``{member_id}``, not litestar's ``{member_id:str}``)."""
    settings = parse_settings(World().config_yaml(redis_url="redis://127.0.0.1:1"))
    found = {}
    for route in create_litestar(settings).routes:
        for handler in getattr(route, "route_handlers", []):
            if not handler.include_in_schema or "OPTIONS" in handler.http_methods:
                continue
            if route.path.startswith("/docs"):  # the UI's files (a router left out of it)
                continue
            (method,) = handler.http_methods
            found[handler.handler_name] = (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method)
    return found


def test_codes_by_status_groups_each_code_once_with_the_connection_ones() -> None:
    by_status = codes_by_status(
        (InvalidRequest, IdempotencyKeyMissing, InvalidRequest, RateLimited)
    )
    assert by_status == {
        400: ["invalid_request", "idempotency_key_missing"],
        408: ["request_timeout"],
        429: ["rate_limited"],
        431: ["request_header_fields_too_large"],
        503: ["service_unavailable"],
    }
    assert list(by_status) == sorted(by_status)


def test_every_documented_route_has_its_row_and_no_row_is_stale() -> None:
    assert set(_handlers()) == set(ROUTES)


def test_every_code_of_the_vocabulary_has_a_meaning() -> None:
    codes = {
        cls.code
        for cls in vars(vocabulary).values()
        if isinstance(cls, type) and issubclass(cls, vocabulary.GatewayError)
    }
    used = {error.code for errors in ROUTES.values() for error in (*errors, *CONNECTION)}
    assert used <= set(MEANING)
    # not documented per route: 500 is a defect, 404/405 are for paths and methods not in it
    assert codes - used == {"internal_error", "not_found", "method_not_allowed"}


def test_a_write_never_documents_504() -> None:
    assert UpstreamTimeout not in WRITES
    for route in ("enroll", "earn", "redeem", "void"):
        assert 504 not in codes_by_status(ROUTES[route])
        assert 502 in codes_by_status(ROUTES[route])


def test_the_document_lists_exactly_the_table(document: dict[str, Any]) -> None:
    for name, (path, method) in _handlers().items():
        op = document["paths"][path][method.lower()]
        errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}
        expected = codes_by_status(ROUTES[name])
        assert set(errors) == set(expected), name
        for status, response in errors.items():
            # the Problem schema under problem+json, never litestar's default error shape
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (name, status)
            for code in expected[status]:
                assert f"`{code}`" in response["description"], (name, status, code)
