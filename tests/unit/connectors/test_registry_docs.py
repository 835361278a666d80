"""The provider tables of the docs are read against the registry: the provider list, the
operation table (which providers name each operation, and its circuit group), a section and
a page per provider, and the README's provider list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.connectors import registry
from gateway.connectors.circuits import GROUP_OF

ROOT = Path(__file__).resolve().parents[3]
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
BUILT_IN = {name: provider for name, provider in registry.PROVIDERS.items()}


def _row(key: str) -> list[str]:
    for line in CONFIGURATION.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == f"`{key}`":
            return cells
    raise AssertionError(f"no row for {key}")


def _operation_table() -> dict[str, tuple[set[str], str]]:
    """operation -> (the providers its "used by" cell names, its circuit group)."""
    start = CONFIGURATION.index("| operation | calls | used by | circuit group |")
    table: dict[str, tuple[set[str], str]] = {}
    for line in CONFIGURATION[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        name, _calls, used_by, group = [c.strip() for c in line.strip().strip("|").split("|")]
        # the providers named before any parenthesis (which explains, and may name others)
        named = set(re.findall(r"`([a-z]+)`", used_by.split("(")[0])) & set(BUILT_IN)
        table[name.strip("`")] = (named, group.strip("`"))
    return table


def test_the_provider_key_lists_the_registered_providers() -> None:
    cell = _row("provider")[3]
    listed = re.findall(r"`([a-z]+)`", cell.split("(")[0])
    assert sorted(listed) == sorted(BUILT_IN)
    assert f"({', '.join(sorted(BUILT_IN))})" in cell  # the error message's list


def test_the_operation_table_is_the_connectors_operations() -> None:
    table = _operation_table()
    declared = {op for p in BUILT_IN.values() for op in p.connector.operations}
    assert declared <= set(table), f"undocumented operations: {declared - set(table)}"
    for operation, (named, group) in table.items():
        users = {name for name, p in BUILT_IN.items() if operation in p.connector.operations}
        assert named == users, (operation, named, users)
        assert group == GROUP_OF[operation], operation


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_each_provider_has_its_section_and_page(name: str) -> None:
    provider = BUILT_IN[name]
    assert f"### `provider: {name}`" in CONFIGURATION
    assert provider.docs_page is not None
    page = (ROOT / provider.docs_page).read_text(encoding="utf-8")
    assert provider.document in page  # the page names the document it follows


def test_the_readme_names_every_provider() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, _provider in BUILT_IN.items():
        assert f"(`{name}`" in readme, name
