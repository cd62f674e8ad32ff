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
                removed.extend(_remove_stages(repo, t, outs, cwd))
                continue
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


def _remove_stages(repo: Repo, target: str, outs: bool, cwd: str) -> list[str]:
    """``remove dvc.yaml:name`` (or a stage name): as dvc, the stage leaves dvc.yaml (deleted when no
    stage is left) and dvc.lock, its outputs leave .gitignore; ``outs`` deletes them, else they stay
    as writable copies."""
    from tide.pipeline import lockfile
    from tide.pipeline.project import load_project

    try:
        project = load_project(repo, check=False)
        idx = project.select([target], cwd)
    except MissingError:
        raise MissingError(f"'{target}' is not a .dvc file or a pipeline stage") from None
    done = []
    for i in idx:
        st = project.stages[i]
        for o in st.outs:
            if o.cache:
                gitignore.remove(repo.root, o.abspath)
            if outs:
                rm(o.abspath)
            elif os.path.isfile(o.abspath):
                unprotect(o.abspath, repo.temps.name)
        if os.path.exists(st.lockfile):
            lockfile.remove_entry(st.lockfile, repo.root, st.name)
        _drop_stage(st.dvcfile, st.name, repo.rel(st.dvcfile))
        repo.state.forget_links(repo.rel(o.abspath) for o in st.outs)
        done.append(f"{repo.rel(st.dvcfile)}:{st.name}")
    return done


def _drop_stage(path: str, name: str, where: str) -> None:
    """Delete stage ``name`` from the dvc.yaml at ``path``; the file goes when no stage is left. A file with
    comments keeps every other byte (the stage's block of lines is cut out, the result checked by parsing
    it); dvc keeps the comments too."""
    from tide.core.fsutil import atomic_write_text
    from tide.core.yamlio import load_file, loads
    from tide.core.yamlstyle import dumps

    data = load_file(path, where)
    stages = dict(data.get("stages") or {})
    if name not in stages:
        return
    del stages[name]
    if not stages:
        os.unlink(path)
        return
    want = dict(data, stages=stages)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "#" not in text:  # dvc re-dumps the file (ruamel, no quotes kept): so does tide
        atomic_write_text(path, dumps(want))
        return
    cut = _cut_block(text, name)  # comments: kept where they are, as ruamel keeps them
    try:
        ok = cut is not None and loads(cut, where) == want
    except Exception:  # noqa: BLE001 - any parse failure means the cut went wrong: dump instead
        ok = False
    atomic_write_text(path, cut if ok and cut is not None else dumps(want))


def _cut_block(text: str, name: str) -> str | None:
    import re

    lines = text.splitlines(keepends=True)
    top = next((i for i, ln in enumerate(lines) if re.match(r"stages:\s*(#.*)?$", ln)), None)
    if top is None:
        return None
    key = re.compile(r"( +)(?:'([^']*)'|\"([^\"]*)\"|([^\s:'\"#][^:#]*?))\s*:(\s|$)")
    start = indent = None
    for i in range(top + 1, len(lines)):
        m = key.match(lines[i])
        if m and (m.group(2) or m.group(3) or m.group(4)) == name:
            start, indent = i, len(m.group(1))
            break
    if start is None:
        return None
    end = start + 1
    while end < len(lines):
        ln = lines[end]
        if ln.strip() and not ln.lstrip().startswith("#") and len(ln) - len(ln.lstrip(" ")) <= indent:
            break
        end += 1
    return "".join(lines[:start] + lines[end:])
