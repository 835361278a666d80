"""The layers, read from the import statements: the HTTP edge (gateway/api) parses and
renders and talks to services only; the outermost wrapper knows no controller."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "gateway" / "api"


def _runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_edge_imports_neither_connectors_nor_redis() -> None:
    modules = sorted(API.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        for name in _runtime_imports(module):
            assert not name.startswith(("gateway.connectors", "redis")), (module.name, name)


def test_the_outer_wrapper_is_handed_its_fast_path() -> None:
    imports = _runtime_imports(API / "edge.py")
    assert not {name for name in imports if name.startswith("gateway.api.")} - {
        "gateway.api.problems"
    }


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nimport redis\nfrom gateway.connectors import base\n"
        "if TYPE_CHECKING:\n    from gateway.connectors.http import HttpClient\n",
        encoding="utf-8",
    )
    assert _runtime_imports(sample) == {"typing", "redis", "gateway.connectors"}
