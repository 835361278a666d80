"""gateway/api/examples.py: the stored examples are attached whole, each under its status."""

from __future__ import annotations

from litestar.openapi.spec import (
    Components,
    Info,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    PathItem,
)

from gateway.api import examples


def _document(operation_id: str) -> OpenAPI:
    response = OpenAPIResponse(description="ok", content={"application/json": OpenAPIMediaType()})
    item = PathItem(get=Operation(operation_id=operation_id, responses={"200": response}))
    return OpenAPI(
        info=Info(title="t", version="1"), paths={"/x": item}, components=Components(), servers=[]
    )


def test_every_stored_example_names_a_status_summary_and_object() -> None:
    stored = examples.load()
    assert len(stored) == 17
    for operation, example in stored.items():
        assert example["status"] in {"200", "201"}, operation
        assert example["summary"], operation
        assert isinstance(example["value"], dict), operation


def test_an_example_is_attached_verbatim_nulls_included() -> None:
    document = _document("V1ProgramsGetProgram")
    examples.attach(document)
    schema = document.to_schema()
    media = schema["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]
    value = media["examples"]["demo"]["value"]
    assert value == examples.load()["V1ProgramsGetProgram"]["value"]
    assert value["points_value"] is None


def test_an_operation_without_an_example_is_left_alone() -> None:
    document = _document("NoSuchOperation")
    examples.attach(document)
    media = document.to_schema()["paths"]["/x"]["get"]["responses"]["200"]["content"]
    assert "examples" not in media["application/json"]
