"""The layers, read from the import statements: the HTTP edge (gateway/api) parses and
renders and talks to services only; the outermost wrapper knows no controller."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "gateway" / "api"


def _module(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


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
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_edge_imports_neither_connectors_nor_redis() -> None:
    modules = sorted(API.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        for name in _runtime_imports(module):
            assert not name.startswith(("gateway.connectors", "redis")), (module.name, name)


def test_the_outer_wrapper_is_handed_its_fast_path() -> None:
    """api/edge.py imports no controller: create_app gives it the fast balance path."""
    imports = _runtime_imports(API / "edge.py")
    edge_reaches = {n for n in imports if n.startswith("gateway.api.")}
    assert edge_reaches
    assert all(n.startswith("gateway.api.problems") for n in edge_reaches), edge_reaches


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nimport redis\nfrom gateway.connectors import base\n"
        "if TYPE_CHECKING:\n    from gateway.connectors.http import HttpClient\n",
        encoding="utf-8",
    )
    assert _runtime_imports(sample) == {
        "typing",
        "typing.TYPE_CHECKING",
        "redis",
        "gateway.connectors",
        "gateway.connectors.base",
    }


def test_no_module_of_the_gateway_imports_itself_back() -> None:
    """No import cycle: settings.py imported the provider registry, which imports every
    connector, which imports settings (17 modules in one cycle); gateway/config.py now joins
    the two."""
    modules = {_module(p): p for p in (ROOT / "gateway").rglob("*.py")}
    graph = {name: _runtime_imports(path) & set(modules) - {name} for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError(" -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
