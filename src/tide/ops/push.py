"""``tide push``: upload the objects of tracked outputs (and optionally the run cache) to remotes."""

from __future__ import annotations

from tide.core.errors import StorageError
from tide.objects.ref import ObjRef, TransferResult
from tide.ops.data_scope import Group, Scope, corrupt_advice, dir_plans, gather, open_remote, part_refs, remote_index
from tide.ops.remote import locate
from tide.workspace.repo import Repo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.objects.transfer import Progress


class TransferSummary:
    """What a push or fetch moved, per remote, plus run-cache entries."""

    def __init__(self) -> None:
        self.results: dict[str, TransferResult] = {}
        self.runs = 0
        self.warnings: list[str] = []  # one line each, for the caller to show (fetch: objects missing everywhere)

    @property
    def transferred(self) -> int:
        return sum(r.transferred for r in self.results.values()) + self.runs

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.results.values())


PushSummary = TransferSummary


def run_push(repo: Repo, scope: Scope, remote: str | None = None, jobs: int | None = None,
             run_cache: bool = False, progress: Progress | None = None) -> TransferSummary:
    summary = TransferSummary()
    with repo.lock():
        if remote:
            locate(repo.settings, remote)  # a named remote must exist even with nothing to move
        groups = gather(repo, scope, remote, for_push=True)
        if run_cache:
            _add_run_cache_outs(repo, groups.setdefault(remote, Group()))
        for name, group in groups.items():
            found, options = locate(repo.settings, name)
            index = remote_index(repo, options["url"], options.get("endpointurl"))
            roots = list(group.files) + list(group.dirs)
            rem = None
            local_epoch = _local_epoch(options["url"])
            if local_epoch is not None:
                index.check_epoch(local_epoch)
            elif index.has_all(roots):  # a network remote: worth a request only if the index is trusted
                rem = open_remote(repo, name, jobs)
                index.check_epoch(_epoch(rem.store))
            if index.has_all(roots) and not (run_cache and name == remote):
                if rem is not None:
                    rem.close()
                summary.results[found] = TransferResult(present=len(roots))  # nothing to send
                continue
            from tide.objects.transfer import push

            rem = rem or open_remote(repo, name, jobs)
            try:
                plans, missing_dirs = dir_plans(repo, group)
                files = list(group.files)
                if group.parts:  # directories named in part: the files under the parts
                    found, uncached = part_refs(repo, group)
                    files += [r for r in found if r not in group.files]
                    missing_dirs += uncached
                res = push(repo.cache, rem.store, files, plans, rem.jobs, progress, known=index.known())
                res.missing_local += missing_dirs
                if group.parts:
                    _push_part_manifests(repo, rem, group, res, index)
                index.add(res.confirmed)
                summary.results[rem.name] = res
                if run_cache and name == remote:
                    from tide.objects.runs_transfer import push_runs

                    summary.runs = push_runs(repo.cache.root, rem.store, rem.jobs)
            finally:
                rem.close()
    raise_failures(summary.results, "push", "upload")
    return summary


def _push_part_manifests(repo: Repo, rem, group: Group, res: TransferResult, index) -> None:
    """The manifest of a directory pushed in part goes only when the remote now has every file of it:
    a manifest on a remote stands for all its files (``status -c`` and later pushes trust it), so one
    uploaded beside a part would hide the files never sent. dvc 3.67.1 uploads it regardless
    (docs/versioning.md: a deliberate difference)."""
    from tide.core import manifest
    from tide.objects.ref import DirPlan
    from tide.objects.transfer import push

    known = set(index.known()) | set(res.confirmed)
    for ref in group.parts:
        try:
            raw = repo.cache.read_bytes(ref.oid, ref.legacy)
        except FileNotFoundError:
            continue
        children = tuple(dict.fromkeys(ObjRef(e.md5, ref.legacy) for e in manifest.parse(raw, where=ref.oid)))
        ask = [c for c in children if c not in known]
        if ask and len(rem.store.has_many(ask, rem.jobs)) < len(ask):
            continue
        res.add(push(repo.cache, rem.store, [], [DirPlan(ref, children)], rem.jobs, known=children))


def _add_run_cache_outs(repo: Repo, group: Group) -> None:
    """The objects the local run-cache entries name go with them, as dvc pushes them: uncached metrics
    and plots of a stage are in the cache only for its run cache (dvc.lock's index leaves them out),
    and another machine needs them to restore the run."""
    import os

    from tide.core.errors import TideError
    from tide.objects.runs_transfer import local_run_keys
    from tide.pipeline.runcache import loads_entry
    from tide.workspace.pointers import Out

    for rel in local_run_keys(repo.cache.root):
        try:
            with open(os.path.join(repo.cache.root, rel), "rb") as f:
                entry = loads_entry(f.read(), rel)
        except (OSError, TideError, UnicodeDecodeError):
            continue  # an entry tide cannot read names nothing it would push
        for o in entry.get("outs") or () if isinstance(entry, dict) else ():
            md5, path = (o.get("md5"), o.get("path")) if isinstance(o, dict) else (None, None)
            if isinstance(md5, str) and isinstance(path, str) and repo.cache.exists(md5, False):
                group.add(Out(path, os.path.join(repo.root, path), md5=md5, hash_name="md5"), path)


def _local_epoch(url: str) -> str | None:
    """The gc epoch of a remote that is a local directory (read directly: no storage machinery),
    or None when the remote is not local."""
    import os

    if url.startswith("file://"):
        url = url[len("file://"):]
    elif "://" in url:
        return None
    from tide.objects.remote_index import EPOCH_KEY

    try:
        with open(os.path.join(os.path.expanduser(url), EPOCH_KEY), encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def _epoch(store) -> str:
    """The gc epoch of a remote (``""`` when tide never collected garbage there)."""
    from tide.objects.remote_index import EPOCH_KEY
    from tide.storage.base import StorageNotFound

    try:
        with store.open_extra(EPOCH_KEY) as f:
            return f.read(256).decode("ascii", "replace").strip()
    except StorageNotFound:
        return ""


def raise_failures(results: dict[str, TransferResult], verb: str, action: str,
                    names: dict[ObjRef, str] | None = None, urls: dict[str, str] | None = None,
                    holders: dict[ObjRef, ObjRef] | None = None) -> None:
    names = names or {}
    urls = urls or {}
    holders = holders or {}

    def label(refs: list[ObjRef], n: int = 3) -> str:
        return ", ".join(f"{names[r]} ({r.oid})" if r in names else r.oid for r in refs[:n])

    problems, resumable = [], False
    for name, res in results.items():
        if res.missing_local and verb != "push":
            problems.append(f"{len(res.missing_local)} objects are missing from the cache "
                            f"(e.g. {label(res.missing_local, 1)})")
        if res.missing_remote:
            problems.append(f"{len(res.missing_remote)} objects are missing on remote '{name}' "
                            f"(e.g. {label(res.missing_remote, 1)})")
        if res.corrupt:
            problems.append(corrupt_advice(name, urls.get(name, ""), res.corrupt, names, holders, verb))
        if res.failed:
            ref, msg = res.failed[0]
            problems.append(f"{len(res.failed)} objects failed to {action} (first: {msg})")
            resumable = True
    if problems:
        done = sum(r.transferred for r in results.values())
        raise StorageError(f"{verb} incomplete ({done} objects transferred): " + "; ".join(problems)
                           + (f"; run 'tide {verb}' again to resume the failed transfers" if resumable else ""))
