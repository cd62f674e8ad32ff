"""What push/pull/fetch/status -c/gc -c move: objects of tracked outputs, grouped by remote.

An output with ``push: false`` is skipped by push (pull and fetch still get it); an output with
``remote: NAME`` goes to that remote unless ``-r`` names one explicitly.
"""

from __future__ import annotations

import os
from collections import namedtuple

from tide.core import manifest
from tide.core.errors import FileFormatError, UsageError
from tide.objects.ref import DirPlan, ObjRef
from tide.ops.index import collect, outs_at_rev
from tide.ops.status import select
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo


class Scope(namedtuple("Scope", "targets all_branches all_tags all_commits revisions max_size types",
                       defaults=((), False, False, False, (), None, ()))):
    """Which outputs a transfer covers: targets (empty: all) and the revisions (-a/-T/-A). ``revisions``
    (commits, as ``tide exp push/pull`` name them): the outputs of those commits alone, not the workspace's.
    ``max_size`` / ``types`` (fetch's ``--max-size`` / ``--type``): only outputs with a recorded size
    below it / declared as those kinds (see ``_keep``)."""

    __slots__ = ()

    @property
    def revs(self) -> bool:
        return self.all_branches or self.all_tags or self.all_commits or bool(self.revisions)


class Group:
    """Objects for one remote (``remote`` None: the default / ``-r`` remote). ``parts``: directories
    selected only in part (targets inside them, dvc's granular targets): ref -> the relpaths (posix)
    inside the directory named; only the manifest and the files under those go (``part_refs``)."""

    __slots__ = ("files", "dirs", "parts")

    def __init__(self) -> None:
        self.files: dict[ObjRef, str] = {}  # ref -> a path that uses it
        self.dirs: dict[ObjRef, str] = {}
        self.parts: dict[ObjRef, set[str]] = {}

    def add(self, out: Out, name: str, part: str | None = None) -> None:
        ref = ObjRef(out.md5, out.legacy)
        if not out.is_dir:
            self.files.setdefault(ref, name)
        elif part is None or part == out.abspath:
            self.dirs.setdefault(ref, name)
            self.parts.pop(ref, None)  # the whole directory wins
        elif ref not in self.dirs or ref in self.parts:
            self.dirs.setdefault(ref, name)
            self.parts.setdefault(ref, set()).add(os.path.relpath(part, out.abspath).replace(os.sep, "/"))

    def whole_dirs(self) -> list[ObjRef]:
        return [r for r in self.dirs if r not in self.parts]


def in_parts(relpath: str, parts: set[str]) -> bool:
    """Whether a manifest entry is one of ``parts`` or under one of them."""
    return any(relpath == p or relpath.startswith(p + "/") for p in parts)


def part_refs(repo: Repo, group: Group) -> tuple[dict[ObjRef, str], list[ObjRef]]:
    """The file objects of the group's partly selected directories whose manifests are cached
    ({ref: path}), and those directories whose manifest is not (the caller fetches it first)."""
    found: dict[ObjRef, str] = {}
    uncached = []
    for ref, parts in group.parts.items():
        try:
            raw = repo.cache.read_bytes(ref.oid, ref.legacy)
        except FileNotFoundError:
            uncached.append(ref)
            continue
        for e in manifest.parse(raw, where=f"manifest {ref.oid}"):
            if in_parts(e.relpath, parts):
                found.setdefault(ObjRef(e.md5, ref.legacy), f"{group.dirs[ref]}/{e.relpath}")
    return found, uncached


def _outs(repo: Repo, scope: Scope, cwd: str) -> list[tuple[Out, str | None]]:
    """(output, part: a target inside it, or None for all of it)."""
    if scope.revisions:
        return [(o, None) for rev in scope.revisions for o in outs_at_rev(repo, rev)]
    tracked = collect(repo)
    outs = [(t.out, t.part) for t in select(repo, tracked, list(scope.targets) or None, cwd, granular=True)]
    if scope.revs:
        if repo.git is None:
            raise UsageError("-a/-T/-A need git (the repository was initialised with --no-scm)")
        for rev in sorted(repo.git.revs(scope.all_branches, scope.all_tags, scope.all_commits)):
            outs.extend((o, None) for o in outs_at_rev(repo, rev))
    return outs


def _kind_paths(repo: Repo, types: tuple[str, ...]) -> list[str]:
    """Absolute paths that dvc counts as ``types`` (metrics, plots): outputs declared under ``metrics:``
    / ``plots:`` of a stage, top-level ``metrics:`` files and top-level plot sources (a plot's id, or
    the files its ``x``/``y`` mappings name), as dvc's ``Index.metric_keys``/``plot_keys``."""
    from tide.pipeline.definition import load
    from tide.workspace.index import find_dvc_files

    found: list[str] = []
    for y in find_dvc_files(repo.root, repo.ignore)[1]:
        pipe = load(y, repo.root)
        found += [o.abspath for st in pipe.stages for o in st.outs if o.kind in types]
        if "metrics" in types:
            found += list(pipe.metrics)
        if "plots" in types:
            base = os.path.dirname(y)
            for pid, props in pipe.plots:
                ys = props.get("y") if isinstance(props, dict) else None
                if isinstance(ys, dict):
                    files = list(ys) + (list(props["x"]) if isinstance(props.get("x"), dict) else [])
                else:
                    files = [pid]
                found += [os.path.normpath(os.path.join(base, f)) for f in files]
    return found


def _keep(out: Out, scope: Scope, kinds: list[str] | None) -> bool:
    if scope.max_size and out.size and out.size >= scope.max_size:
        return False
    if kinds is not None:  # either path inside the other, as dvc's _types_filter compares key prefixes
        a = out.abspath
        return any(k == a or k.startswith(a + os.sep) or a.startswith(k + os.sep) for k in kinds)
    return True


def gather(repo: Repo, scope: Scope, remote: str | None, for_push: bool,
           cwd: str | None = None) -> dict[str | None, Group]:
    groups: dict[str | None, Group] = {}
    kinds = _kind_paths(repo, scope.types) if scope.types else None
    for out, part in _outs(repo, scope, cwd or os.getcwd()):
        if out.md5 is None or not out.use_cache:
            continue
        if (scope.max_size or kinds is not None) and not _keep(out, scope, kinds):
            continue
        if for_push and out.extra.get("push") is False:
            continue
        target = remote or out.extra.get("remote") or None
        if target is not None and not isinstance(target, str):
            raise FileFormatError(f"output '{out.path}': 'remote' must be a remote name")
        groups.setdefault(target, Group()).add(out, repo.rel(out.abspath), part)
    return groups


def dir_plans(repo: Repo, group: Group) -> tuple[list[DirPlan], list[ObjRef]]:
    """Push plans for the group's directories; manifests missing from the cache are returned apart."""
    plans, missing = [], []
    for ref in group.whole_dirs():
        try:
            raw = repo.cache.read_bytes(ref.oid, ref.legacy)
        except FileNotFoundError:
            missing.append(ref)
            continue
        entries = manifest.parse(raw, where=f"manifest {ref.oid}")
        plans.append(DirPlan(ref, tuple(ObjRef(e.md5, ref.legacy) for e in entries)))
    return plans, missing


def named_objects(repo: Repo, group: Group, cwd: str | None = None) -> dict[ObjRef, str]:
    """Every object of the group (directory contents expanded where the manifest is cached) -> path.
    A caller that compares with a remote first caches the manifests only the remote has
    (``cache_remote_manifests``), as dvc does, so those directories are expanded too. ``cwd`` inside
    the repository: paths relative to it, as dvc names outputs (``../f``; a directory's files under
    ``cwd`` itself ``./x``); otherwise relative to the repository's root."""
    inside = cwd is not None and (cwd == repo.root or cwd.startswith(repo.root + os.sep))

    def name(path: str) -> str:
        return os.path.relpath(os.path.join(repo.root, path), cwd).replace(os.sep, "/") if inside else path

    names = {ref: name(path) for ref, path in group.files.items()}
    for ref, path in group.dirs.items():
        path = name(path)
        names.setdefault(ref, path)
        try:
            raw = repo.cache.read_bytes(ref.oid, ref.legacy)
        except FileNotFoundError:
            continue
        parts = group.parts.get(ref)
        for e in manifest.parse(raw, where=f"manifest {ref.oid}"):
            if parts is None or in_parts(e.relpath, parts):
                names.setdefault(ObjRef(e.md5, ref.legacy), f"{path}/{e.relpath}")
    return names


def cache_remote_manifests(repo: Repo, rem: OpenRemote, dirs: dict[ObjRef, str]) -> None:
    """Download into the cache the manifests of ``dirs`` ({ref: path}, directories the remote has) that
    the cache lacks: dvc's ``status -c`` does, to name a directory's files. Each is hashed before it
    enters the cache (``transfer.fetch_manifests``); one that is corrupt twice, or cannot be read, is an
    error and nothing of it is cached. One the remote no longer has stays uncached (not expanded)."""
    from tide.objects.transfer import fetch_manifests, missing_from

    need = missing_from(repo.cache, list(dirs)) if dirs else []
    if not need:
        return
    with repo.lock():  # it writes the cache: under the lock every writer takes (dvc's status is locked too)
        res = fetch_manifests(repo.cache, rem.store, need, rem.jobs)
        if res.corrupt:  # garbled on the way or stored so: a second download tells (as ``fetch`` does)
            res.corrupt = fetch_manifests(repo.cache, rem.store, res.corrupt, rem.jobs).corrupt
    if res.corrupt:
        from tide.core.errors import StorageError

        raise StorageError("cannot list the files of a directory: "
                           + corrupt_advice(rem.name, rem.spec.url, res.corrupt, dirs, {}, "status -c"))
    if res.failed:
        from tide.core.errors import StorageError

        ref, msg = res.failed[0]
        raise StorageError(f"cannot download the manifest of '{dirs.get(ref, ref.oid)}' from remote "
                           f"'{rem.name}': {msg}")


def corrupt_advice(name: str, url: str, refs: list[ObjRef], names: dict[ObjRef, str],
                    holders: dict[ObjRef, ObjRef], verb: str) -> str:
    """Which objects are stored corrupt on which remote, and what repairs them (not another pull:
    each was downloaded twice and hashed wrong both times). A push skips a directory whose manifest
    the remote has (as dvc's does), so those manifests go too."""
    from tide.core.errors import redact
    from tide.objects.remote import object_key

    where = f"remote '{name}'" + (f" ({redact(url)})" if url else "")
    shown = ", ".join(f"{names.get(r, 'an object')} (md5 {r.oid}, stored at {object_key(r)})" for r in refs[:3])
    more = f" and {len(refs) - 3} more" if len(refs) > 3 else ""
    dirs = sorted({object_key(holders[r]) for r in refs if r in holders})
    also = f" and the manifests of the directories holding them ({', '.join(dirs[:3])})" if dirs else ""
    return (f"{len(refs)} objects on {where} are corrupt (their content does not match their hash; downloaded "
            f"twice, kept out of the cache): {shown}{more}. 'tide {verb}' again cannot repair them: delete those "
            f"objects{also} on the remote, then from a clone whose cache has good copies ('tide fsck' there finds "
            f"none corrupt) run 'TIDE_REMOTE_INDEX=0 tide push -r {name}'")


class OpenRemote:
    __slots__ = ("name", "spec", "store", "backend", "jobs")

    def __init__(self, name: str, spec, store, backend, jobs: int) -> None:
        self.name = name
        self.spec = spec  # RemoteSpec
        self.store = store  # an ObjectStore: DvcLayoutStore, or ChunkedStore (tide.yaml)
        self.backend = backend  # RetryingBackend
        self.jobs = jobs

    def close(self) -> None:
        self.store.close()


def open_remote(repo: Repo, name: str | None, jobs: int | None = None) -> OpenRemote:
    """Resolve remote ``name`` (or the default) and open its store behind the retry wrapper."""
    from tide.core.retry import DEFAULT_ATTEMPTS, RetryPolicy
    from tide.ops.remote import resolve
    from tide.storage.wrappers import open_retrying

    rr = resolve(repo.settings, name)
    raw = repo.env.get("TIDE_REMOTE_RETRIES")
    try:
        attempts = int(raw) if raw else DEFAULT_ATTEMPTS  # "0" means no retry, not the default
    except ValueError:
        raise UsageError(f"TIDE_REMOTE_RETRIES must be a whole number, got '{raw}'")
    wrapped = open_retrying(rr.spec, repo.env, RetryPolicy(attempts=max(1, attempts)))
    n = jobs or rr.jobs or wrapped.capabilities.default_jobs
    if n < 1:
        raise UsageError("-j/--jobs must be at least 1")
    from tide.ops.remote_format import open_store

    store = open_store(wrapped, rr.spec, repo.root, repo.tmp_dir, repo.env)
    return OpenRemote(rr.spec.name, rr.spec, store, wrapped, n)


def remote_index(repo: Repo, url: str, endpoint: str | None):
    """The local index of what is known to be on the remote at ``url`` (see objects/remote_index.py)."""
    from tide.objects.remote_index import RemoteIndex

    enabled = (repo.env.get("TIDE_REMOTE_INDEX") or "1").strip().lower() not in ("0", "false", "no", "off")
    where = f"{url}|{endpoint or ''}"  # the same bucket name on another server differs
    return RemoteIndex(os.path.join(repo.tmp_dir, "tide", "remote-index"), where, enabled)
