"""``make lint``: operations (``src/tide/ops``) never touch the terminal.

An operation is called by the CLI, by other operations, by tests and by a Python API: it takes typed
arguments and returns a result (warnings as lines in the result or through a callback the caller
passes). Parsing arguments, printing and prompting belong to ``tide.cli``. This check fails on, in
any module under ``src/tide/ops``:

- an import of ``argparse``, ``getpass`` or ``rich`` (parsing, prompting, rendering);
- ``print`` or ``input``, called or passed as a value (``say=print`` writes to stdout too);
- ``sys.stdout``, ``sys.stderr`` or ``sys.stdin`` (and ``from sys import stdout``...).

``ALLOWED`` lists files that are being converted, each with the reason; an entry whose file no longer
breaks the rule fails the check too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import os
import sys

FORBIDDEN_MODULES = ("argparse", "getpass", "rich")
FORBIDDEN_NAMES = ("print", "input")
FORBIDDEN_STREAMS = ("stdout", "stderr", "stdin")

# path relative to the repository root -> why it may still break the rule
ALLOWED = {
    # `tide ci init` (issue 21's "ci_init"): helper check18 is converting it (issue 18); the lead
    # removes this entry when merging that branch
}


def violations_in(source: str, filename: str = "<ops module>") -> list[str]:
    """Each use of the terminal in one module's source, as ``file:line: what``."""
    tree = ast.parse(source, filename)
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    hit(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top in FORBIDDEN_MODULES:
                hit(node, f"imports from {node.module}")
            elif node.module == "sys":
                for alias in node.names:
                    if alias.name in FORBIDDEN_STREAMS:
                        hit(node, f"imports sys.{alias.name}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES and isinstance(node.ctx, ast.Load):
            hit(node, f"uses {node.id}()")
        elif (isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_STREAMS
              and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            hit(node, f"uses sys.{node.attr}")
    return sorted(found, key=lambda s: int(s.split(":")[-2]))


def check(root: str) -> list[str]:
    """Every violation under ``root``/src/tide/ops outside ``ALLOWED``, and every stale allowance."""
    problems: list[str] = []
    ops_dir = os.path.join(root, "src", "tide", "ops")
    clean: set[str] = set()
    for dirpath, _, files in os.walk(ops_dir):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8") as f:
                found = violations_in(f.read(), rel)
            if not found:
                clean.add(rel)
            elif rel not in ALLOWED:
                problems.extend(found)
    for rel in sorted(ALLOWED):
        if rel in clean or not os.path.exists(os.path.join(root, rel)):
            problems.append(f"{rel}: listed in ALLOWED (scripts/check_ops.py) but no longer uses the terminal: "
                            "remove the entry")
    return problems


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): operations must not parse arguments, print or prompt "
              "(move it to src/tide/cli; see scripts/check_ops.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
