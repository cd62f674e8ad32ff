"""Workspace data linked to the cache (hardlink, symlink cache types) turned into independent, writable
copies, as dvc-data's ``unprotect``: before it is edited (``tide unprotect``), handed back to the user
(``remove``, ``destroy``) or written again by a stage's command (a ``persist`` output at ``repro``)."""

from __future__ import annotations

import os
from collections.abc import Callable


def unprotect_file(path: str, tmp_for: Callable[[str], str]) -> None:
    """Turn a workspace file linked to the cache into an independent, writable copy (made under
    the temporary name ``tmp_for(path)`` gives: the repository's ``temps``)."""
    if os.path.islink(path) or (os.path.isfile(path) and os.stat(path).st_nlink > 1):
        tmp = tmp_for(path)
        import shutil  # (deferred: start-up time of commands that never unprotect)

        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    elif os.path.isfile(path) and not os.access(path, os.W_OK):
        os.chmod(path, 0o644)


def unprotect_tree(path: str, tmp_for: Callable[[str], str], skip: tuple[str, ...] = ()) -> None:
    """``unprotect_file`` of a file, or of every file under a directory (directories named in ``skip``
    left out); nothing when ``path`` does not exist."""
    if os.path.isdir(path) and not os.path.islink(path):
        for d, dirs, files in os.walk(path):
            dirs[:] = [x for x in dirs if x not in skip]
            for f in files:
                unprotect_file(os.path.join(d, f), tmp_for)
    elif os.path.lexists(path):
        unprotect_file(path, tmp_for)
