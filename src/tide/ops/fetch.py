"""``tide fetch``: download the objects of tracked outputs from remotes into the cache (verified)."""

from __future__ import annotations

from tide.core.config import to_bool
from tide.objects.transfer import fetch
from tide.ops.data_scope import Group, Scope, gather, open_remote
from tide.ops.push import TransferSummary, raise_failures
from tide.ops.remote import resolve
from tide.storage.base import RemoteSpec
from tide.workspace.repo import Repo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.objects.transfer import Progress

FetchSummary = TransferSummary


def run_fetch(repo: Repo, scope: Scope, remote: str | None = None, jobs: int | None = None,
              run_cache: bool = False, progress: Progress | None = None, verb: str = "fetch",
              spares: bool = False, warn=None) -> FetchSummary:
    """``spares``: a checkout follows (``tide pull``): large files may leave a workspace-ready copy
    behind (``repo.cache.spares``; see transfer.download); the caller drops unused ones. ``warn``
    receives each warning line as it happens (None: they are kept in ``summary.warnings``)."""
    summary = FetchSummary()
    urls: dict[str, str] = {}
    with repo.lock():
        spares = spares and not scope.revs and _checkout_copies(repo.cache)  # other revisions: no checkout
        _fetch_and_imports(repo, scope, remote, jobs, run_cache, progress, summary, spares, urls)
    if any(not r.ok for r in summary.results.values()):
        names, holders = _names(repo, scope, remote)
        if all(not (r.corrupt or r.failed) for r in summary.results.values()):
            _warn_missing(summary, names, warn)
            return summary
        raise_failures(summary.results, verb, "download", names, urls, holders)
    return summary


def _warn_missing(summary: FetchSummary, names: dict, warn) -> None:
    """Objects neither in the cache nor on the remote: a warning, not a failure, as in dvc 3.67.1
    (``fetch`` exits 0; ``pull`` fails only when its checkout cannot produce a file, see ops.pull).
    Scripts such as ``dvc fetch && dvc repro`` (outputs a pipeline rebuilds were never pushed) must
    keep working; CI that needs every object checks ``tide status -c`` or the pull's exit status."""
    if warn is None:
        warn = summary.warnings.append
    for name, res in summary.results.items():
        refs = res.missing_remote
        if not refs:
            continue
        shown = ", ".join(f"{names[r]} ({r.oid})" if r in names else r.oid for r in refs[:3])
        more = f" and {len(refs) - 3} more" if len(refs) > 3 else ""
        warn(f"WARNING: {len(refs)} objects are neither in the cache nor on remote '{name}', not fetched: "
             f"{shown}{more}")


def _fetch_and_imports(repo: Repo, scope: Scope, remote: str | None, jobs: int | None, run_cache: bool,
                       progress: Progress | None, summary: FetchSummary, spares: bool, urls: dict) -> None:
    """The remote transfer, then what imports still lack from their source repositories (see
    ops.registry_fetch); a repository whose data is all imported needs no remote of its own."""
    from tide.core.errors import ConfigError
    from tide.ops import registry_fetch

    try:
        _fetch(repo, scope, remote, jobs, run_cache, progress, summary, spares, urls)
    except ConfigError:
        if remote or not registry_fetch.all_imports(repo, scope):
            raise
    if registry_fetch.fetch_imports(repo, scope, jobs, progress):
        for res in summary.results.values():
            res.missing_remote = [r for r in res.missing_remote if not repo.cache.exists(r.oid, r.legacy)]


def _checkout_copies(cache) -> bool:
    """Whether a checkout from this cache copies files (no hardlink or symlink comes first)."""
    kinds = [k for k in cache.link_types if k != "reflink"]
    return bool(kinds) and kinds[0] == "copy"


def _fetch(repo: Repo, scope: Scope, remote: str | None, jobs: int | None, run_cache: bool,
           progress: Progress | None, summary: FetchSummary, spares: bool = False,
           urls: dict[str, str] | None = None) -> None:
    if remote:
        resolve(repo.settings, remote)  # a named remote must exist even with nothing to move
    groups = gather(repo, scope, remote, for_push=False)
    if run_cache and remote not in groups:
        groups[remote] = Group()
    from tide.workspace.status import known_complete, record_complete

    fps: dict = {}
    for name, group in groups.items():
        rem = open_remote(repo, name, jobs)
        try:
            files = list(group.files)
            # a directory found complete in the cache since which nothing was added or removed
            # (``status``/``checkout`` record it) needs no listing of the cache (``pull`` with nothing to do)
            dirs = [d for d in group.whole_dirs() if not known_complete(d.oid, d.legacy, repo.cache, repo.state, fps)]
            first = _fetch_parts(repo, rem, group, files) if group.parts else None
            verify = verify_downloads(rem.spec) or rem.store.capabilities.assembles  # reassembly is checked always
            res = fetch(repo.cache, rem.store, files, dirs, rem.jobs, progress,
                        verify=verify, spares=files + dirs if spares else ())
            if first is not None:
                res.add(first)
            if res.corrupt:  # garbled on the way (a flaky network) or stored so: a second download tells
                again = fetch(repo.cache, rem.store, [r for r in res.corrupt if not r.is_dir],
                              [r for r in res.corrupt if r.is_dir], rem.jobs, None, verify=verify)
                res.corrupt = []
                res.add(again)
            summary.results[rem.name] = res
            if res.ok and dirs and not res.transferred:  # all present: the fingerprints still hold
                record_complete(dirs, repo.state, fps)
            if urls is not None:
                urls[rem.name] = rem.spec.url
            if run_cache and name == remote:
                from tide.objects.runs_transfer import fetch_runs
                from tide.pipeline.runcache import RunCache

                summary.runs = fetch_runs(repo.cache.root, rem.store, rem.jobs, RunCache(repo.cache.root).admit)
        finally:
            rem.close()


def _fetch_parts(repo: Repo, rem, group: Group, files: list):
    """Directories selected in part (targets inside them, dvc's granular targets): their manifests
    first (verified, as ``fetch`` gets every manifest), then ``files`` gets the objects under the
    parts only. Returns what getting the manifests did."""
    from tide.objects.transfer import fetch_manifests
    from tide.ops.data_scope import part_refs

    first = fetch_manifests(repo.cache, rem.store, list(group.parts), rem.jobs)
    found, _ = part_refs(repo, group)
    files.extend(r for r in found if r not in group.files)
    return first


def verify_downloads(spec: RemoteSpec) -> bool:
    """Whether objects from this remote are hashed before they enter the cache. dvc's ``verify``
    option; tide verifies unless the user set ``verify = false`` on the remote."""
    raw = spec.get("verify")
    return True if raw is None else to_bool(raw, f"remote.{spec.name}.verify")


def _names(repo: Repo, scope: Scope, remote: str | None) -> tuple[dict, dict]:
    """Workspace paths of the objects, to name what failed (only computed when something did), and
    the directory (``.dir`` ref) holding each file object of a directory."""
    from tide.core import manifest
    from tide.objects.ref import ObjRef
    from tide.ops.data_scope import named_objects

    names: dict = {}
    holders: dict = {}
    for group in gather(repo, scope, remote, for_push=False).values():
        names.update(named_objects(repo, group))
        for ref in group.dirs:
            try:
                raw = repo.cache.read_bytes(ref.oid, ref.legacy)
            except FileNotFoundError:
                continue
            for e in manifest.parse(raw, where=f"manifest {ref.oid}"):
                holders.setdefault(ObjRef(e.md5, ref.legacy), ref)
    return names, holders
