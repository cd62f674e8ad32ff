"""``tide remove``: stop tracking outputs (the data stays unless --outs)."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, PathError
from tide.core.fsutil import remove as rm
from tide.workspace import gitignore, pointers
from tide.workspace.repo import Repo
from tide.workspace.unprotect import unprotect_tree


def remove(repo: Repo, targets: list[str], outs: bool = False, cwd: str | None = None) -> list[str]:
    """Stop tracking ``.dvc`` files (``f.dvc`` or ``f``) and pipeline stages (``NAME``, ``dir/dvc.yaml:NAME``):
    their .gitignore lines go, their data stays as independent writable copies unless ``outs``. Every
    target is resolved before anything changes. Returns the files removed or modified."""
    from tide.ops.freeze import resolve

    cwd = cwd or os.getcwd()
    changed: list[str] = []
    with repo.lock():
        pointer_files, stages = [], []
        for t in targets:
            p = os.path.normpath(os.path.join(cwd, t))
            if not p.endswith(pointers.SUFFIX) and ":" not in t and os.path.isfile(p + pointers.SUFFIX):
                p += pointers.SUFFIX
            if p.endswith(pointers.SUFFIX) and ":" not in t:
                if not os.path.isfile(p):
                    raise MissingError(f"'{t}' does not exist")
                if not p.startswith(repo.root + os.sep):
                    raise PathError(f"'{t}' is outside the repository")
                pointer_files.append(pointers.load(p, repo.root))
            else:
                stages.append(resolve(repo, t, cwd, "remove"))
        for pf in pointer_files:
            _release(repo, [(o.abspath, o.use_cache) for o in pf.outs], outs)
            os.unlink(pf.path)
            changed.append(repo.rel(pf.path))
        for st in stages:
            changed += _remove_stage(repo, st.path, st.stage, outs)
    return changed


def _release(repo: Repo, out_list: list[tuple[str, bool]], delete: bool) -> None:
    """Outputs (absolute path, cached?) no longer tracked: out of .gitignore; deleted, or left as the
    user's writable copies."""
    for path, cached in out_list:
        if cached:
            gitignore.remove(repo.root, path)
        if delete:
            rm(path)
        else:
            unprotect_tree(path, repo.temps.name)
    # the data left behind is the user's now: a later checkout must not delete it as a stale
    # output (dvc does; see docs/versioning.md, deliberate differences)
    repo.state.forget_links(repo.rel(p) for p, _ in out_list)


def _remove_stage(repo: Repo, path: str, name: str, delete: bool) -> list[str]:
    """One stage out of its dvc.yaml (edited in place) and dvc.lock; a file left with nothing is deleted."""
    from tide.core import yamlio
    from tide.core.fsutil import atomic_write_text
    from tide.pipeline import definition, lockfile, yamledit

    with open(path, encoding="utf-8") as f:
        text = f.read()
    rel = repo.rel(path)
    stage = next(s for s in definition.parse(yamlio.loads(text, rel), path, repo.root).stages if s.name == name)
    _release(repo, [(o.abspath, o.cache) for o in stage.outs], delete)
    new, data = yamledit.remove_stage(text, rel, name)
    if not data["stages"] and set(data) <= {"stages"}:
        os.unlink(path)
    else:
        atomic_write_text(path, new)
    lock = stage.lockfile
    had_lock = os.path.exists(lock)
    lockfile.remove_entry(lock, repo.root, name)
    return [rel] + ([repo.rel(lock)] if had_lock else [])
