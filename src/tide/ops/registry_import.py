"""``tide import URL PATH`` and ``tide update``: data of another repository tracked here, with the
``.dvc`` file dvc writes (``frozen: true``, ``deps: [{path, repo: {url, rev, rev_lock}}]``, the stage
``md5``), so that ``dvc update`` works on tide's imports and ``tide update`` on dvc's.

The data is fetched into this repository's cache (from the source's cache when it is local, else
its default remote, with the transfer engine) and checked out like any output. PATH named exactly
as one output of the source keeps its hashes (nothing is re-hashed); anything else (a git-tracked
file, a file inside a tracked directory, a git directory) is written and hashed like ``tide add``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tide.core.errors import FileFormatError, MissingError, TideError, UsageError
from tide.ops.registry_source import Source, open_source
from tide.workspace import pointers
from tide.workspace.pointers import Out, PointerFile
from tide.workspace.repo import Repo


class NeedsForceImport(TideError):
    pass


@dataclass
class ImportResult:
    out: str                     # relative to the repository root
    pointer: str
    changed: bool = True
    git_files: list[str] = field(default_factory=list)


def repo_dep(url: str, path: str, rev: str | None, rev_lock: str | None, options: dict | None = None) -> dict:
    """dvc's ``RepoDependency.dumpd``: url, rev, rev_lock, config, remote (in this order, when set)."""
    repo = {"url": url}
    if rev:
        repo["rev"] = rev
    if rev_lock:
        repo["rev_lock"] = rev_lock
    for key in ("config", "remote"):
        if (options or {}).get(key):
            repo[key] = options[key]
    return {"path": path, "repo": repo}


def _pointer(ptr: str, out: Out, dep: dict, no_exec: bool) -> PointerFile:
    from tide.ops.import_db import stage_md5

    top: dict = {"frozen": True, "deps": [dep]}
    pf = PointerFile(ptr, (out,), top)
    if no_exec:
        return pf
    return PointerFile(ptr, (out,), {"md5": stage_md5(pf.dump()), **top})


def refuse_to_import(repo: Repo, dst: str, ptr: str, force: bool, announce=None) -> None:
    """What every import checks before it writes anything: the output and its ``.dvc`` file do not exist
    (unless ``force``; the output named first, as dvc does), git does not track the output; then
    ``announce`` (dvc prints "Importing ..." once nothing refuses)."""
    from tide.workspace import gitignore

    if not force:
        for p in (dst, ptr):
            if os.path.lexists(p):
                raise NeedsForceImport(f"'{os.path.relpath(p)}' already exists; use --force to replace it")
    gitignore.refuse_tracked(repo.root, [dst], repo.git)
    if announce is not None:
        announce()


def import_(repo: Repo, url: str, path: str, out: str | None = None, rev: str | None = None,
            no_download: bool = False, no_exec: bool = False, force: bool = False, jobs: int | None = None,
            cwd: str | None = None, progress=None, options: dict | None = None, announce=None) -> ImportResult:
    """``options``: ``config``/``remote`` as ``registry_config.repo_options`` gives them (kept in the
    ``.dvc`` file, as dvc does, so that ``update`` and ``fetch`` read the source the same way).
    ``announce``: called once nothing refuses the import (dvc prints "Importing ..." then)."""
    from tide.ops.add import resolve_target
    from tide.workspace import gitignore

    cwd = cwd or os.getcwd()
    dst = resolve_target(repo, out or os.path.basename(path.rstrip("/")) or path, cwd)
    ptr = dst + pointers.SUFFIX
    with repo.lock():
        with repo.ignore_journal.command():  # a failure takes back the .gitignore entries written (dvc's scm_context)
            refuse_to_import(repo, dst, ptr, force, announce)
            base = Out(os.path.basename(dst), dst)
            if no_exec:
                pf = _pointer(ptr, base, repo_dep(url, path, rev, None, options), True)
            else:
                with open_source(url, rev, repo.env, **(options or {})) as src:
                    pf = _fetch_into(repo, src, path, base, ptr, rev, no_download, force, jobs, progress, options)
            pf.write()
            ignores = gitignore.add(repo.ignore_journal, [dst], repo.git, checked=True)
            files = sorted({repo.rel(ptr), *ignores})
        if repo.autostage and repo.git is not None:
            repo.git.add(files)
    return ImportResult(repo.rel(dst), repo.rel(ptr), True, files)


def _fetch_into(repo: Repo, src: Source, path: str, base: Out, ptr: str, rev: str | None, no_download: bool,
                force: bool, jobs: int | None, progress, options: dict | None = None) -> PointerFile:
    from tide.ops.registry_get import fetch_plan, materialize, plan

    dep = repo_dep(src.url, path.strip("/"), rev, src.rev_lock(), options)
    if no_download:
        return _pointer(ptr, base, dep, False)
    pl = plan(src, path)
    dst = base.abspath
    if pl.whole is not None:  # one output of the source: its hashes as they are
        w = pl.whole
        out = Out(base.path, dst, w.md5, w.size, w.nfiles, w.isexec, w.hash_name)
        fetch_plan(src, pl, repo.cache, jobs, progress)
        checkout_import(repo, out, force)
        return _pointer(ptr, out, dep, False)
    cache = src.scratch_cache()
    fetch_plan(src, pl, cache, jobs, progress)
    if os.path.lexists(dst):
        from tide.ops.registry_get import remove_path

        remove_path(dst)
    materialize(src, pl, cache, dst)
    res = repo.hasher.hash_path(dst)
    from tide.ops.add import store

    store(repo, res, link=True)
    out = base.with_hash(res.md5, res.size, res.nfiles, res.isexec)
    checkout_import(repo, out, True)
    return _pointer(ptr, out, dep, False)


def checkout_import(repo: Repo, out: Out, force: bool) -> None:
    from tide.workspace.checkout import checkout_out

    r = checkout_out(out, repo.rel(out.abspath), repo.hasher, repo.cache, force=force)
    if r.failed:
        raise MissingError(f"'{repo.rel(out.abspath)}' could not be checked out: its data is missing")
    repo.state.save_links([(repo.rel(out.abspath), out.md5)])


# --- update -----------------------------------------------------------------------------------------
@dataclass
class UpdateResult:
    pointer: str
    changed: bool
    out: str
    source: str = ""  # what was imported again, as dvc names it: "PATH (URL)" or the URL


def import_dep(pf: PointerFile) -> dict | None:
    deps = pf.top.get("deps")
    if not isinstance(deps, list) or len(deps) != 1 or not isinstance(deps[0], dict):
        return None
    return deps[0]


def _pointer_of(repo: Repo, target: str, cwd: str) -> str:
    p = os.path.abspath(os.path.join(cwd, target))
    if not p.endswith(pointers.SUFFIX):
        p += pointers.SUFFIX
    if not os.path.exists(p):
        raise MissingError(f"'{target}' is not an import: no '{os.path.relpath(p, cwd)}'")
    return p


def _imports_under(repo: Repo, target: str, cwd: str) -> list[str]:
    """``-R``: the ``.dvc`` files of imports (frozen, with a repository or URL dependency) under a
    directory, sorted; other ``.dvc`` files are left alone. A target that is not a directory is one
    import, as without ``-R``."""
    from tide.workspace.index import find_dvc_files

    d = os.path.realpath(os.path.join(cwd, target))
    if not os.path.isdir(d):
        return [_pointer_of(repo, target, cwd)]
    found = []
    for p in sorted(find_dvc_files(repo.root, repo.ignore)[0]):
        if os.path.commonpath([os.path.realpath(p), d]) != d:
            continue
        try:
            pf = pointers.load(p, repo.root)
        except TideError:
            continue
        dep = import_dep(pf)
        if dep is not None and ("repo" in dep or "path" in dep) and pf.top.get("frozen"):
            found.append(p)
    return found


def update(repo: Repo, targets: list[str], rev: str | None = None, no_download: bool = False,
           jobs: int | None = None, cwd: str | None = None, progress=None,
           recursive: bool = False, to_remote: bool = False, remote: str | None = None) -> list[UpdateResult]:
    cwd = cwd or os.getcwd()
    if not targets:
        raise UsageError("name the import(s) to update")
    if to_remote and no_download:
        raise UsageError("--to-remote can't be used with --no-download")
    if remote and not to_remote:
        raise UsageError("--remote can't be used without --to-remote")
    results = []
    revs: dict[tuple[str, str | None], str | None] = {}  # (url, rev) -> commit, asked once per run
    with repo.lock():
        if recursive:
            ptrs = list(dict.fromkeys(p for t in targets for p in _imports_under(repo, t, cwd)))
        else:
            ptrs = [_pointer_of(repo, t, cwd) for t in targets]
        for ptr in ptrs:
            pf = pointers.load(ptr, repo.root)
            dep = import_dep(pf)
            if dep is None or ("repo" not in dep and "path" not in dep):
                raise FileFormatError(f"'{repo.rel(ptr)}' is not an import (no dependency to update from)")
            if "repo" in dep and to_remote:
                raise UsageError("Data imported from other DVC or Git repositories can't be updated with --to-remote")
            if "repo" in dep:
                results.append(_update_repo_import(repo, pf, dep, rev, no_download, jobs, progress, revs))
            else:
                from tide.ops.registry_import_url import update_url

                results.append(update_url(repo, pf, dep, no_download, jobs, to_remote, remote))
    return results


def _update_repo_import(repo: Repo, pf: PointerFile, dep: dict, rev: str | None, no_download: bool,
                        jobs: int | None, progress, revs: dict | None = None) -> UpdateResult:
    info = dep["repo"]
    if not isinstance(info, dict) or not isinstance(info.get("url"), str) or not isinstance(dep.get("path"), str):
        raise FileFormatError(f"'{repo.rel(pf.path)}': the import's 'repo' needs a url and a path")
    url = info["url"]
    want_rev = rev or info.get("rev")
    out = pf.outs[0]
    if (info.get("rev_lock") and out.md5 is not None and not no_download
            and (rev is None or rev == info.get("rev"))):
        # nothing to do when the revision still names the locked commit and the data is in place:
        # told without opening (cloning) the source
        from tide.ops.registry_gitside import resolve_rev

        revs = {} if revs is None else revs
        key = (url, want_rev)
        if key not in revs:
            revs[key] = resolve_rev(url, want_rev, repo.env)
        if revs[key] == info["rev_lock"] and workspace_matches(repo, out):
            return UpdateResult(repo.rel(pf.path), False, repo.rel(out.abspath))
    options = {k: info[k] for k in ("config", "remote") if info.get(k)}
    with open_source(url, want_rev, repo.env, **options) as src:
        lock = src.rev_lock()
        same = (lock == info.get("rev_lock") and (rev is None or rev == info.get("rev"))
                and out.md5 is not None and not no_download and workspace_matches(repo, out))
        if same:
            return UpdateResult(repo.rel(pf.path), False, repo.rel(out.abspath))
        base = Out(out.path, out.abspath, extra=dict(out.extra))
        new = _fetch_into(repo, src, dep["path"], base, pf.path, want_rev, no_download, True, jobs, progress,
                          options)
    keep = {k: v for k, v in pf.top.items() if k not in ("md5", "frozen", "deps")}
    top = dict(new.top)
    top.update(keep)
    final = PointerFile(pf.path, new.outs, top)
    changed = final.dump() != pf.dump()
    if changed:
        final.write()
    return UpdateResult(repo.rel(pf.path), changed, repo.rel(out.abspath), f"{dep['path']} ({url})")


def workspace_matches(repo: Repo, out: Out) -> bool:
    if not os.path.lexists(out.abspath):
        return False
    try:
        return repo.hasher.hash_path(out.abspath, want_files=False).md5 == out.md5
    except TideError:
        return False
