"""``tide install``: git hooks that keep data in step with git, as ``dvc install`` writes them:
post-checkout runs ``tide checkout``, pre-commit ``tide status``, pre-push ``tide push``.

With ``use_pre_commit_tool`` the same three hooks go into ``.pre-commit-config.yaml`` (a ``local`` repo of
``language: system`` hooks: tide is already installed where the hooks run, so the pre-commit tool needs no
network to build an environment for them).
"""

from __future__ import annotations

import os

from tide.core import yamlio
from tide.core.errors import UsageError
from tide.core.fsutil import atomic_write_text
from tide.workspace.repo import Repo

HOOKS = ("post-checkout", "pre-commit", "pre-push")
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def script(hook: str) -> str:
    return f'#!/bin/sh\nexec tide git-hook {hook} "$@"\n'


def install(repo: Repo, use_pre_commit_tool: bool = False) -> list[str]:
    """Write the hooks; returns the files written. Nothing is overwritten: an existing hook (dvc's,
    or the user's) stops the install before any file is written."""
    git = repo.git
    if git is None:
        raise UsageError("tide install needs a git repository (this one is initialised with --no-scm)")
    if use_pre_commit_tool:
        return [_pre_commit_config(repo)]
    hooks_dir = git.out("rev-parse", "--git-path", "hooks").strip()
    hooks_dir = os.path.normpath(os.path.join(repo.root, hooks_dir))
    paths = [os.path.join(hooks_dir, h) for h in HOOKS]
    taken = [p for p in paths if os.path.lexists(p)]
    if taken:
        raise UsageError(f"git hook '{os.path.basename(taken[0])}' already exists in {hooks_dir}: merge it by hand "
                         f"(it should run: tide git-hook {os.path.basename(taken[0])} \"$@\")")
    os.makedirs(hooks_dir, exist_ok=True)
    for p in paths:
        atomic_write_text(p, script(os.path.basename(p)))
        os.chmod(p, 0o755)  # dvc makes hooks 0777 (world-writable); executable is enough
    return paths


def _pre_commit_config(repo: Repo) -> str:
    path = os.path.join(repo.root, PRE_COMMIT_CONFIG)
    data = yamlio.load_file(path, PRE_COMMIT_CONFIG) if os.path.exists(path) else None
    data = data or {}
    if not isinstance(data, dict) or not isinstance(data.get("repos", []), list):
        raise UsageError(f"{PRE_COMMIT_CONFIG}: expected a mapping with a 'repos' list")
    hooks = [{"id": f"tide-{h}", "name": f"tide {h}", "entry": f"tide git-hook {h}", "language": "system",
              "pass_filenames": False, "always_run": True, "stages": [h]} for h in HOOKS]
    repos = [r for r in data.get("repos", []) if not (isinstance(r, dict) and r.get("repo") == "local"
                                                       and any(str(h.get("id", "")).startswith("tide-")
                                                               for h in r.get("hooks") or []))]
    data["repos"] = [*repos, {"repo": "local", "hooks": hooks}]
    atomic_write_text(path, yamlio.dumps(data))
    return path


def run_hook(repo: Repo, hook: str, args: list[str]) -> list[str]:
    """The tide command line a hook runs ([] when it has nothing to do), as dvc's git-hook decides."""
    if hook == "post-checkout":
        # args: previous HEAD, new HEAD, 1 for a branch checkout (0 for a file checkout: nothing to do)
        if len(args) < 3 or args[2] != "1":
            return []
        git_dir = repo.git.out("rev-parse", "--git-dir").strip() if repo.git else ""
        git_dir = os.path.join(repo.root, git_dir)
        if any(os.path.exists(os.path.join(git_dir, d)) for d in ("rebase-merge", "rebase-apply")):
            return []
        return ["checkout"]
    if hook == "pre-commit":
        return ["status"]
    if hook == "pre-push":
        return ["push"]
    raise UsageError(f"unknown git hook '{hook}' (known: {', '.join(HOOKS)})")
