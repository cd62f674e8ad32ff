"""``tide init``: create the ``.dvc`` directory exactly as ``dvc init`` does."""

from __future__ import annotations

import os

from tide.core.errors import TideError
from tide.core.fsutil import atomic_write_text
from tide.core.git import Git, find_root

DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"


def init(root: str, no_scm: bool = False, force: bool = False, subdir: bool = False) -> list[str]:
    """Initialise a repository at ``root``; returns the files staged in git."""
    root = os.path.realpath(root)
    dvc_dir = os.path.join(root, ".dvc")
    git_root = None if no_scm else find_root(root)
    if not no_scm:
        if git_root is None:
            raise TideError(
                f"'{root}' is not inside a git repository; run 'git init' first, or use --no-scm"
            )
        if git_root != root and not subdir:
            raise TideError(
                f"'{root}' is not the top of its git repository ('{git_root}'); use --subdir to initialise here"
            )
    if os.path.exists(dvc_dir):
        if not force:
            raise TideError("'.dvc' exists already; use -f to re-initialise it (the cache is kept)")
        for name in ("config", ".gitignore"):
            try:
                os.unlink(os.path.join(dvc_dir, name))
            except FileNotFoundError:
                pass
    os.makedirs(os.path.join(dvc_dir, "tmp"), exist_ok=True)
    atomic_write_text(os.path.join(dvc_dir, "config"), "[core]\n    no_scm = True\n" if no_scm else "")
    ignore = os.path.join(root, ".dvcignore")
    if not os.path.exists(ignore):
        atomic_write_text(ignore, DVCIGNORE)
    if no_scm:
        return []
    atomic_write_text(os.path.join(dvc_dir, ".gitignore"), DVC_GITIGNORE)
    staged = [".dvc/.gitignore", ".dvc/config", ".dvcignore"]
    Git(root).add(staged)
    return staged
