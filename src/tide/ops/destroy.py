"""``tide destroy``: stop using tide/DVC in this repository, as ``dvc destroy`` does. Every tracked output
is first made a plain, writable file in the workspace (no link into the cache survives), then the
``.dvc`` files, ``dvc.yaml``/``dvc.lock`` files, the root ``.dvcignore`` and ``.dvc/`` (with the cache in
it) are deleted. ``.gitignore`` entries stay, as with dvc."""

from __future__ import annotations

import os
import shutil

from tide.workspace import pointers
from tide.workspace.ignore import NAME as DVCIGNORE
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo
from tide.workspace.unprotect import unprotect_tree


def destroy(repo: Repo) -> list[str]:
    """Returns the files and directories deleted (relative to the root)."""
    from tide.pipeline import definition

    ptrs, ymls = find_dvc_files(repo.root, repo.ignore)
    # everything is read before anything changes: a file that does not load stops here
    outs = [o.abspath for p in ptrs for o in pointers.load(p, repo.root).outs]
    outs += [o.abspath for y in ymls for s in definition.load(y, repo.root).stages for o in s.outs]
    locks = [os.path.join(os.path.dirname(y), "dvc.lock") for y in ymls]
    with repo.lock():
        for path in outs:
            unprotect_tree(path, repo.temps.name)
        gone = []
        for f in [*ptrs, *ymls, *locks, os.path.join(repo.root, DVCIGNORE)]:
            if os.path.exists(f):
                os.unlink(f)
                gone.append(repo.rel(f))
    dot_dvc = os.path.join(repo.root, ".dvc")
    shutil.rmtree(dot_dvc)  # after the lock is released: its file lives in .dvc/tmp
    return [*gone, ".dvc"]
