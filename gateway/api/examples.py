"""Response examples in the document: real answers of the demo world (``gateway demo``).

``examples.json`` beside this file maps an operationId to the status and body one request of
``tests/integration/test_openapi_examples.py`` got from a fresh demo world. That test
compares every example with a live answer on each run (times and generated ids aside), so an
example cannot drift from what the gateway says. To capture them again after a deliberate
change: ``LG_CAPTURE_EXAMPLES=1 uv run pytest tests/integration/test_openapi_examples.py``,
then ``uv run gateway openapi``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from litestar.openapi.spec import Example, OpenAPI, OpenAPIResponse
from litestar.openapi.spec.base import BaseSchemaObject

FILE = Path(__file__).resolve().parent / "examples.json"


@cache
def load() -> dict[str, dict[str, Any]]:
    """operationId -> {"status": "200", "summary": ..., "value": ...}."""
    if not FILE.is_file():
        return {}
    examples: dict[str, dict[str, Any]] = json.loads(FILE.read_text(encoding="utf-8"))
    return examples


@dataclass
class _Verbatim(BaseSchemaObject):
    """A JSON object the document writer must leave as it is: litestar's ``to_schema``
    drops every ``None`` inside dicts, and an answer's ``null`` fields are part of it."""

    value: dict[str, Any]

    def to_schema(self) -> dict[str, Any]:
        return self.value


def attach(document: OpenAPI) -> None:
    """Each operation's example under its documented status and media type (in place)."""
    examples = load()
    for item in (document.paths or {}).values():
        for operation in (item.get, item.post, item.patch):
            example = examples.get(operation.operation_id or "") if operation else None
            if operation is None or example is None:
                continue
            response = (operation.responses or {}).get(example["status"])
            if not isinstance(response, OpenAPIResponse):
                continue
            for media in (response.content or {}).values():
                media.examples = {
                    "demo": Example(summary=example["summary"], value=_Verbatim(example["value"]))
                }
