"""Data of imports (``tide import``/``dvc import``) that this repository's remote lacks comes from the
import's source repository at its ``rev_lock``, as dvc does: ``tide fetch``/``pull`` (ops.fetch) call
``fetch_imports`` after the remote transfer, for what is still missing from the cache."""

from __future__ import annotations

import os

from tide.objects.ref import ObjRef
from tide.ops.data_scope import Scope
from tide.workspace.checkout import NeedsForce
from tide.workspace.repo import Repo


def _imports(repo: Repo, scope: Scope, cwd: str | None = None) -> list[tuple[dict, object]]:
    """(the ``repo`` dependency, the Out) of every import in scope with a hash and a locked revision."""
    return _scan(repo, scope, cwd)[0]


def _scan(repo: Repo, scope: Scope, cwd: str | None = None) -> tuple[list, list]:
    """One pass over the ``.dvc`` files in scope: (``(repo dependency, Out)`` of each import with a hash
    and a locked revision, ``(dependency, Out)`` of each import-url with a hash)."""
    from tide.ops.index import collect
    from tide.ops.status import select
    from tide.workspace import pointers

    found, urls = [], []
    tracked = select(repo, collect(repo), list(scope.targets) or None, cwd or os.getcwd(), granular=True)
    loaded: dict[str, object] = {}
    for t in tracked:
        ptr = t.source
        if t.stage is not None or not ptr.endswith(pointers.SUFFIX) or t.out.md5 is None:
            continue
        pf = loaded.get(ptr) or pointers.load(ptr, repo.root)
        loaded[ptr] = pf
        deps = pf.top.get("deps")
        dep = deps[0] if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict) else None
        info = dep.get("repo") if dep else None
        if dep and info is None and isinstance(dep.get("path"), str) and pf.top.get("frozen") is True:
            urls.append((dep, t.out))
        elif isinstance(info, dict) and isinstance(info.get("url"), str) and isinstance(info.get("rev_lock"), str):
            found.append((dep, t.out))
    return found, urls


def all_imports(repo: Repo, scope: Scope) -> bool:
    """Whether every output with data in scope is an import (a fetch then needs no remote of ours)."""
    from tide.ops.index import collect
    from tide.ops.status import select

    outs = [t.out for t in select(repo, collect(repo), list(scope.targets) or None, os.getcwd(), granular=True)
            if t.out.md5 is not None and t.out.use_cache]
    if not outs:
        return False
    from tide.ops.registry_versions import is_versioned

    found, urls = _scan(repo, scope)
    return len(found) + sum(1 for dep, _ in urls if is_versioned(dep)) == len(outs)


def lacking(repo: Repo, out) -> bool:
    from tide.objects.transfer import missing_from
    from tide.ops.registry_source import objects_missing

    ref = ObjRef(out.md5, out.legacy)
    return objects_missing(repo.cache, [] if ref.is_dir else [ref], [ref] if ref.is_dir else [], missing_from)


def fetch_imports(repo: Repo, scope: Scope, jobs: int | None = None, progress=None) -> int:
    """Fetch what the cache lacks of imports in scope from their sources; returns how many outputs."""
    found, urls = _scan(repo, scope)
    if not found and not urls:
        return 0  # no import in scope (every pull and fetch asks): nothing more to import either
    from tide.ops.registry_source import open_source
    from tide.ops.registry_versions import fetch_versioned

    n = fetch_versioned(repo, urls)  # version-aware import-url: the recorded versions, from the bucket
    groups: dict[tuple[str, str, str], list] = {}
    for dep, out in found:
        if lacking(repo, out):
            info = dep["repo"]
            opts = {k: info[k] for k in ("config", "remote") if info.get(k)}  # as the import was made
            groups.setdefault((info["url"], info["rev_lock"], repr(sorted(opts.items()))), []).append((dep, out))
    for (url, lock, _), items in groups.items():
        info = items[0][0]["repo"]
        with open_source(url, lock, repo.env, info.get("remote") or None, config=info.get("config") or None) as src:
            for dep, out in items:
                _fetch_one(repo, src, dep["path"], out, jobs, progress)
                n += 1
    return n


def _fetch_one(repo: Repo, src, path: str, out, jobs: int | None, progress) -> None:
    """One import's objects into the cache: as they are when the import is a whole output of the
    source, else rebuilt from the source's files (a git-tracked file, part of a directory) and stored
    only if they hash to what the ``.dvc`` file records."""
    import shutil
    import tempfile

    from tide.core import manifest
    from tide.core.errors import MissingError
    from tide.ops.registry_get import fetch_plan, materialize, plan

    pl = plan(src, path)
    if pl.whole is not None and pl.whole.md5 == out.md5:
        fetch_plan(src, pl, repo.cache, jobs, progress)
        return
    scratch = src.scratch_cache()
    fetch_plan(src, pl, scratch, jobs, progress)
    work = tempfile.mkdtemp(prefix="tide-import-", dir=repo.tmp_dir)
    try:
        dst = os.path.join(work, "out")
        materialize(src, pl, scratch, dst)
        if pl.isdir:
            entries = []
            for it in pl.items:
                oid = repo.cache.put_file(os.path.join(dst, it.relpath))
                entries.append(manifest.Entry(it.relpath, oid))
            raw = manifest.serialize(entries)
            oid = manifest.tree_oid(raw)
            if oid == out.md5:
                repo.cache.put_bytes(raw, oid)
        else:
            oid = repo.cache.put_file(dst)
        if oid != out.md5:
            raise MissingError(f"'{repo.rel(out.abspath)}': the source's '{path}' at {src.sha} no longer "
                               f"hashes to the recorded {out.md5}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def unlocked_of(repo: Repo, selected: list) -> dict[str, tuple[dict, object]]:
    """``--no-download`` imports among ``selected`` (a locked revision, no hash recorded):
    ``{abspath: (dep, Out)}``."""
    from tide.workspace import pointers

    found = {}
    for t in selected:
        if t.stage is not None or t.out.md5 is not None or not t.source.endswith(pointers.SUFFIX):
            continue
        deps = pointers.load(t.source, repo.root).top.get("deps")
        dep = deps[0] if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict) else {}
        info = dep.get("repo")
        if (isinstance(info, dict) and isinstance(info.get("url"), str) and isinstance(info.get("rev_lock"), str)
                and isinstance(dep.get("path"), str)):  # a --no-exec import locks nothing: nothing to get (dvc too)
            found[t.out.abspath] = (dep, t.out)
    return found


def materialize_unlocked(repo: Repo, items: dict[str, tuple[dict, object]], res, jobs: int | None = None,
                         force: bool = False) -> None:
    """``checkout``/``pull`` of ``--no-download`` imports: their data is got from the source at
    ``rev_lock`` into the workspace, as dvc's do: ``M`` when something was there (it cannot be compared
    with a hash that is not recorded, dvc says ``M`` too), else ``A``; the ``.dvc`` file is left as it is
    (so both tools then show the output as modified). What is there is replaced only when nothing of it
    would be lost: each file is what the source has or is in the cache, else ``NeedsForce`` (before
    anything of that source is written) unless ``force``. A source that cannot be read fails the
    output (``res.failed``), the workspace left as it is. Fills ``res`` (a CheckoutResult)."""
    from tide.core.errors import TideError
    from tide.ops.registry_get import complete_local_cache, fetch_plan, materialize, plan
    from tide.ops.registry_source import open_source

    groups: dict[tuple[str, str, str], list] = {}
    for abspath, (dep, _) in sorted(items.items()):
        info = dep["repo"]
        opts = {k: info[k] for k in ("config", "remote") if info.get(k)}  # as the import was made
        groups.setdefault((info["url"], info["rev_lock"], repr(sorted(opts.items()))), []).append((abspath, dep, opts))
    for (url, lock, _), group in groups.items():
        try:
            with open_source(url, lock, repo.env, **group[0][2]) as src:
                plans = [(abspath, plan(src, dep["path"])) for abspath, dep, _ in group]
                if not force:
                    for abspath, pl in plans:
                        _refuse_losing(repo, src, abspath, pl)
                for abspath, pl in plans:
                    cache = complete_local_cache(src, pl)
                    if cache is None:
                        cache = src.scratch_cache()
                        fetch_plan(src, pl, cache, jobs)
                    existed = os.path.lexists(abspath)
                    if existed and (os.path.isdir(abspath) and not os.path.islink(abspath)) != pl.isdir:
                        _remove_path(abspath)  # a file where a directory comes (or the other way)
                    materialize(src, pl, cache, abspath)
                    rel = repo.rel(abspath) + ("/" if pl.isdir else "")  # dvc names a directory "data/"
                    (res.modified if existed else res.added).append(rel)
                    res.files["modified" if existed else "added"] += len(pl.items)
        except NeedsForce:
            raise
        except TideError as exc:
            for abspath, _, _ in group:
                rel = repo.rel(abspath)
                res.failed.append(rel)
                res.unhashed.append(rel)
            fix = f"its source cannot be read: {exc}"
            if fix not in res.fixes:
                res.fixes.append(fix)


def _remove_path(path: str) -> None:
    from tide.core.fsutil import remove

    remove(path)


def _refuse_losing(repo: Repo, src, abspath: str, pl) -> None:
    """``NeedsForce`` when a file at ``abspath`` is neither what the source has for it nor in the cache."""
    from tide.workspace.checkout import current_md5

    if not os.path.lexists(abspath):
        return
    if os.path.isdir(abspath) and not os.path.islink(abspath):
        files = {os.path.relpath(os.path.join(d, f), abspath).replace(os.sep, "/"): os.path.join(d, f)
                 for d, _, fs in os.walk(abspath) for f in fs}
    else:
        files = {"": abspath}
    planned = {it.relpath: it for it in pl.items}
    blobs = src.read_many([it.blob for rel, it in planned.items() if rel in files and it.blob is not None])
    for rel in sorted(files):
        path, it = files[rel], planned.get(rel)
        if it is not None and it.blob is not None and blobs.get(it.blob) is not None:
            with open(path, "rb") as f:
                if f.read() == blobs[it.blob]:
                    continue
        md5 = current_md5(repo.hasher, path)
        if md5 is None or (it is not None and it.ref is not None and it.ref.oid == md5) or repo.cache.exists(md5):
            continue
        shown = repo.rel(path)
        raise NeedsForce(f"'{shown}' has changes that are not in the cache and would be lost; "
                         "use --force to discard them")
