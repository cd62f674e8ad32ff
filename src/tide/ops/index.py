"""Every tracked output of a repository, from ``.dvc`` files and ``dvc.lock`` files, in the
workspace or at git revisions."""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Iterable

from tide.core import manifest, utf8, yamlio
from tide.core.errors import MissingError, TideError
from tide.pipeline.lockfile import LOCK_NAME, counted_outs
from tide.workspace import pointers
from tide.workspace.index import find_dvc_files
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo

# source: absolute path of the .dvc file or dvc.lock that records the output; stage: its name or None;
# part: a target inside the (directory) output, absolute, as dvc's ``filter_info``; None: the whole output
Tracked = namedtuple("Tracked", "source stage out part", defaults=(None,))


def collect(repo: Repo, found: tuple[list[str], list[str]] | None = None) -> list[Tracked]:
    """``found``: what ``find_dvc_files`` returned, when the caller has walked the workspace already."""
    ptrs, pipes = found or find_dvc_files(repo.root, repo.ignore)
    result = []
    for p in ptrs:
        pf = pointers.load(p, repo.root)
        result.extend(Tracked(p, None, o) for o in pf.outs)
    for y in pipes:
        lk = os.path.join(os.path.dirname(y), LOCK_NAME)
        if os.path.exists(lk):
            data = yamlio.load_file(lk, os.path.relpath(lk, repo.root))
            result.extend(Tracked(lk, st, o) for st, o in counted_outs(data, repo.root, lk))
    return result


def declared_outs(repo: Repo, pipes: list[str] | None = None, strict: bool = False) -> list[Tracked]:
    """Outputs declared in dvc.yaml files (``pipes``, default: all), with no hash (even before the
    stage first ran); a dvc.yaml that cannot be loaded is skipped unless ``strict``."""
    if pipes is None:
        pipes = find_dvc_files(repo.root, repo.ignore)[1]
    if not pipes:
        return []
    from tide.pipeline.definition import load

    found = []
    for y in pipes:
        try:
            pipe = load(y, repo.root)
        except TideError:
            if strict:
                raise
            continue
        found.extend(
            Tracked(y, s.name, Out(o.path, o.abspath, extra=None if o.cache else {"cache": False}))
            for s in pipe.stages for o in s.outs
        )
    return found


def used_oids(repo: Repo, tracked: Iterable[Out], strict: bool = False,
              unreadable: list[str] | None = None, where: str = "") -> set[tuple[str, bool]]:
    """Object ids (with their legacy flag) needed by ``tracked``, expanding directory manifests
    found in the cache. With ``strict`` a missing manifest is an error; with ``unreadable`` (a list)
    each manifest that could not be read is described there (``where``: the revision, for that)."""
    oids: set[tuple[str, bool]] = set()
    for out in tracked:
        if out.md5 is None or not out.use_cache:
            continue
        oids.add((out.md5, out.legacy))
        if out.is_dir:
            try:
                raw = repo.cache.read_bytes(out.md5, out.legacy)
            except OSError as exc:
                found = _entries_from_workspace(repo, out) if isinstance(exc, FileNotFoundError) else None
                if found is not None:
                    oids.update((m, out.legacy) for m in found)
                    continue
                if strict:
                    raise MissingError(f"manifest {out.md5} of '{out.path}' is missing from the cache")
                if unreadable is not None:
                    why = "missing from the cache" if isinstance(exc, FileNotFoundError) else exc.strerror
                    unreadable.append(f"manifest {out.md5} of '{repo.rel(out.abspath)}'{where}: {why}")
                continue
            for e in manifest.parse(raw, where=f"manifest {out.md5}"):
                oids.add((e.md5, out.legacy))
    return oids


def _entries_from_workspace(repo: Repo, out: Out) -> list[str] | None:
    """The object ids a directory output's manifest names, when the manifest is missing from the cache
    but the workspace directory hashes to it (``add --no-commit D``: its tree is known, only not
    stored; N43). None otherwise."""
    if out.legacy or not os.path.isdir(out.abspath) or os.path.islink(out.abspath):
        return None
    try:
        res = repo.hasher.hash_path(out.abspath)
    except (OSError, TideError):
        return None
    return [f.md5 for f in res.files] if res.md5 == out.md5 else None


def outs_at_rev(repo: Repo, rev: str) -> list[Out]:
    """Outputs recorded by the .dvc and dvc.lock files committed at ``rev``."""
    git = repo.git
    if git is None:
        raise TideError("this command needs git (the repository was initialised with --no-scm)")
    prefix = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix + "/"
    files = [
        f for f in git.ls_files(rev)
        if f.startswith(prefix) and (f.endswith(pointers.SUFFIX) or f.rsplit("/", 1)[-1] == LOCK_NAME)
        and not f[len(prefix):].startswith(".dvc/")
    ]
    blobs = git.read_files(rev, files)
    outs: list[Out] = []
    reader = None
    for f, raw in blobs.items():
        path = os.path.join(repo.root, f[len(prefix):])
        where = f"{rev[:8]}:{f}"
        data = yamlio.loads(utf8.decode(raw, where), where)
        if f.endswith(pointers.SUFFIX):
            outs.extend(pointers.parse(data, path, repo.root, where).outs)
        else:
            if reader is None:
                from tide.pipeline.revfs import RevReader

                reader = RevReader(repo, rev)
            outs.extend(o for _, o in counted_outs(data, repo.root, path, where, reader))
    return outs
