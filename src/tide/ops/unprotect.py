"""``tide unprotect``: make workspace data that is linked to the cache (hardlink, symlink cache types)
independent, writable copies, so it can be edited without touching the cache."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, PathError
from tide.workspace.repo import Repo
from tide.workspace.unprotect import unprotect_tree


def unprotect(repo: Repo, targets: list[str], cwd: str | None = None) -> list[str]:
    """Unprotect each target (a file, or every file under a directory); returns them relative to the root.
    Every target is checked before any is changed."""
    cwd = cwd or os.getcwd()
    paths = []
    for t in targets:
        p = os.path.normpath(os.path.join(cwd, t))
        if p != repo.root and not p.startswith(repo.root + os.sep):
            raise PathError(f"'{t}' is outside the repository")
        if not os.path.lexists(p):
            raise MissingError(f"can't unprotect non-existing data '{t}'")
        paths.append(p)
    with repo.lock():
        for p in paths:
            unprotect_tree(p, repo.temps.name, skip=(".git", ".dvc"))
    return [repo.rel(p) for p in paths]
