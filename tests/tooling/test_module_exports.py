"""One home per name: a module's `__all__` lists only what that module defines, so that every importer imports a
name from the module that defines it (no re-export shims). The package's own `__init__.py` is the exception: its
lazy `__getattr__` table is the public API and names each symbol's home module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hf_visobert_absa

PACKAGE = Path(hf_visobert_absa.__file__).parent
#: The public API table, which loads each name from the module that defines it.
EXEMPT = {PACKAGE / "__init__.py"}
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path not in EXEMPT)


def defined_names(tree: ast.Module) -> set[str]:
    """Names a module defines at top level: `def`, `class` and assignment targets (imports do not count)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(leaf.id for target in targets for leaf in ast.walk(target) if isinstance(leaf, ast.Name))
    return names


def exported_names(tree: ast.Module) -> list[str] | None:
    """The literal `__all__` of a module, or None where it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


def not_defined(source: str) -> list[str]:
    tree = ast.parse(source)
    exported = exported_names(tree)
    return [] if exported is None else sorted(set(exported) - defined_names(tree))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_all_lists_only_names_the_module_defines(path):
    foreign = not_defined(path.read_text(encoding="utf-8"))
    assert not foreign, (
        f"{path.relative_to(PACKAGE.parent)} lists {foreign} in `__all__` but does not define them: import each "
        "name from the module that defines it and drop it from this `__all__`."
    )


def test_the_check_sees_a_re_export():
    source = (
        'from .sibling import helper\n\nLIMIT = 3\n\n\ndef run():\n    pass\n\n__all__ = ["LIMIT", "helper", "run"]\n'
    )
    assert not_defined(source) == ["helper"]
    assert not_defined("X: int = 1\n__all__ = ['X']\n") == []
    assert not_defined("import os\n") == []
