"""The layering: cli -> sync -> (portal, odoo) -> reconcile, and only cli knows Click."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "orderamt"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, by full dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_files() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p
        for p in PACKAGE.rglob("*.py")
    }


def test_only_cli_imports_click() -> None:
    """Click stays in cli.py."""
    users = {
        m
        for m, p in module_files().items()
        if any(i.split(".")[0] == "click" for i in imports_of(p))
    }
    assert users == {"orderamt.cli"}


def test_reconcile_is_pure() -> None:
    """reconcile imports nothing that does I/O: only the models and pure stdlib modules."""
    allowed = {"__future__", "decimal", "math", "orderamt.models"}
    assert imports_of(PACKAGE / "reconcile.py") <= allowed


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("orderamt.odoo", "orderamt.portal"),
        ("orderamt.portal", "orderamt.odoo"),
        ("orderamt.portal", "orderamt.sync"),
        ("orderamt.odoo", "orderamt.sync"),
        ("orderamt.sync", "orderamt.cli"),
        ("orderamt.sync", "orderamt.report"),
        ("orderamt.report", "orderamt.sync"),
        ("orderamt.models", "orderamt."),
        ("orderamt.reconcile", "orderamt.sync"),
    ],
)
def test_no_import_upwards_or_sideways(lower: str, higher: str) -> None:
    """A lower module never imports a higher one, and the adapters know nothing of each other."""
    for module, path in module_files().items():
        if module == lower or module.startswith(lower + "."):
            bad = {i for i in imports_of(path) if i.startswith(higher) and not i.startswith(lower)}
            assert not bad, f"{module} imports {bad}"
