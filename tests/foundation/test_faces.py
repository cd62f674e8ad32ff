"""Issue 21 item 9: the modules that form a package's face declare it in ``__all__``, completely.

A face is what other layers and plugins program against: the error hierarchy, the git module, each
plugin family's base (forge, runners) and the reading of forge answers. ``__all__`` must name only
what the module defines or re-exports, and every public class, function and constant the module
itself defines (a new one is either listed or named with a leading underscore)."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

FACES = ["tide.core.errors", "tide.core.git", "tide.forge.base", "tide.forge.answer", "tide.runners.base"]


def _defined_publicly(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    # TYPE_CHECKING = False: typing's flag without importing typing (start-up time), not an interface
    return {n for n in names if not n.startswith("_") and n != "TYPE_CHECKING"}


@pytest.mark.parametrize("name", FACES)
def test_issue21_face_modules_declare_all_completely(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    assert [n for n in exported if not hasattr(module, n)] == [], f"{name}.__all__ names what it does not define"
    missing = sorted(_defined_publicly(module) - set(exported))
    assert missing == [], f"{name} defines public names not in __all__: {missing}"
