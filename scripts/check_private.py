"""``make lint``: no module imports another module's private name (``from tide.x import _name``).

A leading underscore says "used only in this module": a module that needs the name from elsewhere gets
it under a public name, so the owner knows it is shared and keeps its contract. Importing a public name
under a private alias (``from tide.storage.errors import translate as _translate``) is fine. Applies to
``src/tide`` (tests may reach into internals).
"""

from __future__ import annotations

import ast
import os
import sys


def violations_in(source: str, filename: str = "<module>", is_module=lambda dotted: False) -> list[str]:
    """Each use of a private name of another tide module, as ``file:line: what``: imported
    (``from tide.x import _name``) or reached through the module (``import tide.x as m; m._name``).
    ``is_module(dotted)`` says whether a dotted name is a tide module (for ``from tide.a import b``)."""
    found = []
    modules: dict[str, str] = {}  # local name -> tide module it is bound to
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tide" and not node.level:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{filename}:{node.lineno}: from {node.module} import {alias.name}")
                elif is_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tide" and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{filename}:{node.lineno}: {modules[node.value.id]}.{node.attr}")
    return found


def main() -> int:
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "tide")
    src = os.path.dirname(root)

    def is_module(dotted: str) -> bool:
        base = os.path.join(src, *dotted.split("."))
        return os.path.isfile(base + ".py") or os.path.isdir(base)

    found = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(d, f)
                with open(path, encoding="utf-8") as fh:
                    found += violations_in(fh.read(), os.path.relpath(path, os.path.dirname(src)), is_module)
    for line in found:
        print(f"{line}: a private name of another module (make it public there)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
