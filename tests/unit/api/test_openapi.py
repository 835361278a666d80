"""gateway/api/openapi.py: the finished document says what the gateway enforces."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.cli import export_openapi
from gateway.domain.ids import is_valid_id

METHODS = ("get", "post", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return export_openapi()


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        op["operationId"]: (path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_request_objects_are_closed(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("EnrollRequest", "EarnRequest", "RedemptionRequest", "WalletRequest"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["WalletRequest"]["properties"]["memberships"]["maxItems"] == 20


def test_path_parameters_carry_the_id_rule(document: dict[str, Any]) -> None:
    seen = set()
    for _, op in _operations(document).values():
        for parameter in op.get("parameters", []):
            if parameter["in"] != "path":
                continue
            pattern = re.compile(parameter["schema"]["pattern"])
            seen.add(parameter["name"])
            if parameter["name"] == "program":
                assert pattern.match("cafe-rewards")
                assert not pattern.match("Cafe")
                continue
            # the documented pattern and the check agree, on hostile ids too
            for value in ("2059378440", "OLMKne7Y3N", "a.b", "x" * 128, ".", "..", ".x", "a/b",
                          "a\\b", "a b", "x" * 129, "é", ""):  # fmt: skip
                assert bool(pattern.match(value)) == is_valid_id(value), value
    assert seen == {"program", "member_id", "redemption_id"}


def test_every_link_names_a_real_operation_and_its_path_parameters(
    document: dict[str, Any],
) -> None:
    operations = _operations(document)
    count = 0
    for _, op in operations.values():
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                path, _ = operations[link["operationId"]]
                assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", path)), link
                count += 1
    assert count >= 15


def test_connection_answers_are_documented_everywhere(document: dict[str, Any]) -> None:
    for path, op in _operations(document).values():
        assert {"408", "431", "503"} <= set(op["responses"]), path


def test_only_the_v1_operations_need_the_api_key(document: dict[str, Any]) -> None:
    assert "security" not in document
    for path, op in _operations(document).values():
        assert (op.get("security") == [{"apiKey": []}]) == path.startswith("/v1"), path


def test_every_response_header_has_a_type(document: dict[str, Any]) -> None:
    for _, op in _operations(document).values():
        for status, response in op["responses"].items():
            for name, header in response.get("headers", {}).items():
                expected = "integer" if name == "Age" else "string"
                assert header["schema"] == {"type": expected}, (op["operationId"], status, name)


def test_litestar_default_errors_are_gone(document: dict[str, Any]) -> None:
    """litestar documents a 400 "Validation Exception" (application/json, with
    ``status_code`` and ``extra``) on routes with parameters; the gateway never answers it."""
    for _, op in _operations(document).values():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert set(response["content"]) == {"application/problem+json"}
    assert "status_code" not in str(document["paths"])
    assert "400" not in _operations(document)["V1ProgramsGetProgram"][1]["responses"]


def test_success_examples_keep_their_nulls(document: dict[str, Any]) -> None:
    """litestar's writer drops every None inside dicts; examples.py keeps an answer whole."""
    (_, op) = _operations(document)["V1ProgramsGetProgram"]
    value = op["responses"]["200"]["content"]["application/json"]["examples"]["demo"]["value"]
    assert value["points_value"] is None
