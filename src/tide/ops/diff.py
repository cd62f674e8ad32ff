"""``tide diff``: tracked files that differ between two revisions (or a revision and the workspace).

As dvc 3.x compares its data indexes: the outputs are those of ``.dvc`` files and the *cached* outputs
declared in ``dvc.yaml`` (uncached ones are not data); at a git revision a declared output whose stage
has no ``dvc.lock`` entry is there without a hash (so it shows as deleted when it is not in the
workspace, and as modified when it is); in the workspace an output is there only when it exists. An
added and a deleted entry with the same hash are a rename. Comparing against the workspace also lists
the old side's entries whose objects are not in the cache."""

from __future__ import annotations

import os
from collections import defaultdict, deque
from typing import Any

from tide.core import manifest, yamlio
from tide.core.errors import MissingError, TideError
from tide.pipeline import definition
from tide.pipeline.lockfile import LOCK_NAME, parse_lock
from tide.workspace import pointers
from tide.workspace.repo import Repo

KINDS = ("added", "deleted", "modified", "renamed", "not in cache")


PARENT = (None, True, False)  # a directory above an output: no hash (dvc's ``Meta(isdir=True)`` entry)


class Side:
    """One side of the comparison: ``entries`` maps a path (no trailing slash) to ``(md5 or None,
    is_dir, legacy)``; ``unknown``: directories whose manifest is not in the cache (their files
    cannot be compared, as in dvc). ``outs``: the outputs' paths, whose directories ``add_parents``
    enters as ``PARENT``."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str | None, bool, bool]] = {}
        self.unknown: list[str] = []
        self.outs: list[str] = []

    def add_parents(self, root: str | None = None) -> None:
        """As dvc's data index, every directory above an output is an entry with no hash, written after
        the outputs (so over an output there, as dvc's index does); in the workspace (``root``) only those
        that exist. ``diff`` compares what is inside such a directory, never the directory itself: an
        output directory that is now only the parent of another output (``remove D.dvc``, ``add D/f``) is
        neither deleted nor added (N69)."""
        parents = {p[:i] for p in self.outs for i, c in enumerate(p) if c == "/"}
        for p in parents:
            if root is None or os.path.exists(os.path.join(root, p)):
                self.entries[p] = PARENT

    def add(self, repo: Repo, path: str, md5: str | None, legacy: bool) -> None:
        is_dir = bool(md5 and md5.endswith(".dir"))
        self.entries[path] = (md5, is_dir, legacy)
        self.outs.append(path)
        if not is_dir:
            return
        try:
            raw = repo.cache.read_bytes(md5, legacy)
        except FileNotFoundError:
            self.unknown.append(path + "/")
            return
        for e in manifest.parse(raw, where=f"manifest {md5}"):
            self.entries[f"{path}/{e.relpath}"] = (e.md5, False, legacy)


def workspace_side(repo: Repo) -> Side:
    from tide.workspace.index import find_dvc_files

    side = Side()
    ptrs, pipes = find_dvc_files(repo.root, repo.ignore)
    paths = [o.abspath for p in ptrs for o in pointers.load(p, repo.root).outs if o.use_cache]
    for y in pipes:
        paths.extend(o.abspath for s in definition.load(y, repo.root).stages for o in s.outs if o.cache)
    for abspath in paths:
        path = repo.rel(abspath)
        side.outs.append(path)
        try:
            res = repo.hasher.hash_path(abspath)
        except MissingError:
            continue
        side.entries[path] = (res.md5, res.is_dir, False)
        if res.is_dir:
            for f in res.files:
                side.entries[f"{path}/{f.relpath}"] = (f.md5, False, False)
    return side


def side_at_rev(repo: Repo, rev: str | None) -> Side:
    """What the .dvc files and dvc.lock files record at ``rev`` (None: as they are in the workspace)."""
    from tide.pipeline.revfs import RevReader, WorkspaceFiles
    from tide.workspace.index import find_dvc_files

    side = Side()
    reader: RevReader | WorkspaceFiles
    if rev is None:
        reader = WorkspaceFiles(repo)
        files = sorted(repo.rel(p).replace(os.sep, "/") for p in find_dvc_files(repo.root, repo.ignore)[0])
    else:
        reader = RevReader(repo, rev)
        files = sorted(reader.files)
    for rel in files:
        if rel.endswith(pointers.SUFFIX) and not rel.startswith(".dvc/"):
            path = os.path.join(repo.root, rel)
            where = f"{rev}:{rel}" if rev else rel
            text = reader.read_text(path) or ""
            for o in pointers.parse(yamlio.loads(text, where), path, repo.root, where).outs:
                if o.use_cache:
                    side.add(repo, repo.rel(o.abspath), o.md5, o.legacy)
    for y in reader.dvc_yamls():
        pipe = definition.load(y, repo.root, reader)
        lock = os.path.join(os.path.dirname(y), LOCK_NAME)
        text = reader.read_text(lock)
        recorded: dict[tuple[str, str], pointers.Out] = {}
        if text is not None:
            where = f"{rev}:{repo.rel(lock)}" if rev else repo.rel(lock)
            wdirs = {s.name: s.wdir for s in pipe.stages}
            for name, o in parse_lock(yamlio.loads(text, where), repo.root, lock, where, wdirs):
                recorded[(name, o.abspath)] = o
        for s in pipe.stages:
            for od in s.outs:
                if od.cache:
                    o = recorded.get((s.name, od.abspath))
                    side.add(repo, repo.rel(od.abspath), o.md5 if o else None, o.legacy if o else False)
    return side


def _shown(path: str, entry: tuple[str | None, bool, bool]) -> str:
    return path + "/" if entry[1] else path


def _renames(added: list[dict[str, Any]], deleted: list[dict[str, Any]], keys: dict[int, Any]) -> list[dict[str, Any]]:
    """Pair each added entry with a deleted one of the same hash (both in path order, as dvc_data)."""
    queues: dict[Any, deque[dict[str, Any]]] = defaultdict(deque)
    for d in deleted:
        if keys[id(d)] is not None:
            queues[keys[id(d)]].append(d)
    renamed = []
    for a in list(added):
        q = queues.get(keys[id(a)]) if keys[id(a)] is not None else None
        if q:
            d = q.popleft()
            added.remove(a)
            deleted.remove(d)
            renamed.append({"path": {"old": d["path"], "new": a["path"]}, "hash": d["hash"]})
    return renamed


def target_roots(repo: Repo, targets: list[str], cwd: str) -> list[str]:
    """Root-relative paths the ``--targets`` name: an output, a path inside one, or a ``.dvc`` file
    (its outputs)."""
    roots = []
    for t in targets:
        abspath = os.path.normpath(os.path.join(cwd, t))
        if abspath.endswith(pointers.SUFFIX) and os.path.isfile(abspath):
            roots.extend(repo.rel(o.abspath) for o in pointers.load(abspath, repo.root).outs)
        else:
            roots.append(repo.rel(abspath))
    return roots


def _inside(root: str, *sides) -> bool:
    """Whether ``root`` lies inside a directory tracked on one of the sides (a granular target naming
    nothing there: no change, no error, as dvc; N64)."""
    parts = root.split("/")
    return any(side.entries.get("/".join(parts[:i]), PARENT) != PARENT for side in sides for i in range(1, len(parts)))


def keep_under(entries: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    under = tuple(r + "/" for r in roots)
    return {p: e for p, e in entries.items() if p in roots or p.startswith(under)}


def diff(repo: Repo, a_rev: str | None = None, b_rev: str | None = None, targets: list[str] | None = None,
         cwd: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Entries have ``path`` and ``hash`` (``{"old", "new"}`` for modified ones; the old path and
    new path for renamed ones). Without ``b_rev`` (the workspace) ``not in cache`` is computed.
    ``targets`` (relative to ``cwd``) limit the comparison to those outputs; one tracked on neither
    side is an error, as in dvc."""
    if repo.git is None:
        raise TideError("tide diff needs git (the repository was initialised with --no-scm)")
    res: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    a_rev = a_rev or "HEAD"
    if a_rev == "HEAD" and not repo.git.has_commits():
        workspace_side(repo)  # nothing to compare with, but the workspace's files are still checked (paths...)
        return res
    if b_rev is not None and repo.git.resolve(a_rev) == repo.git.resolve(b_rev):
        return res  # as dvc: one revision, nothing to compare
    old = side_at_rev(repo, a_rev)
    new = workspace_side(repo) if b_rev is None else side_at_rev(repo, b_rev)
    old.add_parents()
    new.add_parents(repo.root if b_rev is None else None)
    outs = set(old.outs) | set(new.outs)
    if targets:
        roots = target_roots(repo, targets, cwd or os.getcwd())
        for t, r in zip(targets, roots, strict=False):
            if not (keep_under(old.entries, [r]) or keep_under(new.entries, [r]) or _inside(r, old, new)):
                raise MissingError(f"'{t}' is not tracked (no .dvc file or pipeline output matches it)")
        old.entries, new.entries = keep_under(old.entries, roots), keep_under(new.entries, roots)
        outs = set(keep_under(dict.fromkeys(outs), roots)) | {r for r in roots if _inside(r, old, new)}
    unknown = tuple(old.unknown + new.unknown)
    absent: set[tuple[str, bool]] = set()  # old objects not in the cache: listed in bulk (cache.missing)
    if b_rev is None:
        for legacy in (False, True):
            oids = {o[0] for o in old.entries.values() if o[0] and bool(o[2]) == legacy}
            absent.update((oid, legacy) for oid in repo.cache.missing(oids, legacy))
    keys: dict[int, Any] = {}
    for p in sorted(set(old.entries) | set(new.entries)):
        if unknown and p.startswith(unknown):
            continue
        o, n = old.entries.get(p), new.entries.get(p)
        if PARENT in (o, n):  # as dvc's diff: a directory with no hash on either side is not compared
            continue
        for _ in range(_walks(p, outs)):
            _compare(repo, p, o, n, res, keys, absent, b_rev is None)
    res["renamed"] = _renames(res["added"], res["deleted"], keys)
    for items in res.values():
        items.sort(key=lambda it: it["path"]["old"] if isinstance(it["path"], dict) else it["path"])
    return res


def _walks(path: str, outs: set[str]) -> int:
    """How many times dvc's diff meets ``path``: it walks down from every output (of either side) in turn,
    so a path inside an output nested in another one (``x`` a file output before, ``x/y`` one now) is
    reported once per output above it, as dvc does (N69)."""
    parts = path.split("/")
    return max(1, sum("/".join(parts[:i]) in outs for i in range(1, len(parts) + 1)))


def _compare(repo: Repo, p: str, o, n, res: dict[str, list[dict[str, Any]]], keys: dict[int, Any],
             absent: set[tuple[str, bool]], workspace: bool) -> None:
    if o is None:
        item = {"path": _shown(p, n), "hash": n[0]}
        keys[id(item)] = (n[0], n[2]) if n[0] else None
        res["added"].append(item)
    elif n is None:
        item = {"path": _shown(p, o), "hash": o[0]}
        keys[id(item)] = (o[0], o[2]) if o[0] else None
        res["deleted"].append(item)
    elif o[:2] != n[:2]:
        res["modified"].append({"path": _shown(p, o), "hash": {"old": o[0], "new": n[0]}})
    # dvc's diff asks its cache whether the object exists, nothing more: no mode is checked or set here (an
    # object made executable through a hardlink keeps 555, and so does the user's file; seed 68001, 231)
    if workspace and o is not None and o[0] and ((o[0], bool(o[2])) in absent or not repo.cache.exists(o[0], o[2])):
        res["not in cache"].append({"path": _shown(p, o), "hash": o[0]})

