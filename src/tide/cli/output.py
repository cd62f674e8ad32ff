"""Rendering helpers shared by commands (plain text to stdout; errors go through main)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def emit_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=None, ensure_ascii=False))


def warn(lines: list[str] | tuple[str, ...]) -> None:
    """Warnings an operation returned, one line each on stderr."""
    for line in lines:
        print(line, file=sys.stderr)


def git_hint(files: list[str], staged: bool, quiet: bool = False) -> None:
    if quiet or not files:
        return
    if staged:
        print("Changes staged in git (core.autostage).")
        return
    import shlex

    print("\nTo track the changes with git, run:\n")
    print("\tgit add " + " ".join(shlex.quote(f) for f in files))
    print("\nTo enable auto staging, run:\n\n\ttide config core.autostage true")


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        ans = input(f"{question} [y/n] ")
    except EOFError:
        return False
    return ans.strip().lower() in ("y", "yes")


def repo():
    from tide.workspace.repo import Repo

    return Repo.find()
