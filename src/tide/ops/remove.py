"""``tide remove``: stop tracking outputs (the data stays unless --outs)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from tide.core.errors import MissingError, PathError
from tide.core.fsutil import remove as rm
from tide.workspace import gitignore, pointers
from tide.workspace.repo import Repo


def unprotect(path: str, tmp_for: Callable[[str], str]) -> None:
    """Turn a workspace file linked to the cache into an independent, writable copy (made under
    the temporary name ``tmp_for(path)`` gives: the repository's ``temps``)."""
    if os.path.islink(path) or (os.path.isfile(path) and os.stat(path).st_nlink > 1):
        tmp = tmp_for(path)
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    elif os.path.isfile(path) and not os.access(path, os.W_OK):
        os.chmod(path, 0o644)


def remove(repo: Repo, targets: list[str], outs: bool = False, cwd: str | None = None) -> list[str]:
    cwd = cwd or os.getcwd()
    removed = []
    with repo.lock():
        for t in targets:
            p = os.path.normpath(os.path.join(cwd, t))
            if not p.endswith(pointers.SUFFIX):
                p += pointers.SUFFIX
            if not os.path.isfile(p):
                raise MissingError(f"'{t}' is not a .dvc file (pipeline stages are removed with 'tide stage remove')")
            if not p.startswith(repo.root + os.sep):
                raise PathError(f"'{t}' is outside the repository")
            pf = pointers.load(p, repo.root)
            for out in pf.outs:
                gitignore.remove(repo.root, out.abspath)
                if outs:
                    rm(out.abspath)
                elif os.path.isdir(out.abspath) and not os.path.islink(out.abspath):
                    for d, _, files in os.walk(out.abspath):
                        for f in files:
                            unprotect(os.path.join(d, f), repo.temps.name)
                elif os.path.lexists(out.abspath):
                    unprotect(out.abspath, repo.temps.name)
            os.unlink(p)
            # the data left behind is the user's now: a later checkout must not delete it as a stale
            # output (dvc does; see docs/versioning.md, deliberate differences)
            repo.state.forget_links(repo.rel(o.abspath) for o in pf.outs)
            removed.append(repo.rel(p))
    return removed
