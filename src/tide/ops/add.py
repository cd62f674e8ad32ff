"""``tide add``: hash files and directories, store them in the cache, write ``.dvc`` pointer files."""

from __future__ import annotations

import os
import stat
from itertools import islice

from tide.core.errors import MissingError, OverlapError, PathError, TideError, UsageError
from tide.ops.index import Tracked, collect, declared_outs
from tide.workspace import gitignore, pointers
from tide.workspace.hashing import HashResult
from tide.workspace.pointers import Out, PointerFile
from tide.workspace.repo import Repo


class AddResult:  # (not a dataclass: importing dataclasses costs ~8 ms of a no-op add)
    __slots__ = ("pointer_files", "git_files", "staged", "warnings")

    def __init__(self) -> None:
        self.pointer_files: list[str] = []  # relative to repo root
        self.git_files: list[str] = []  # files to `git add`
        self.staged = False
        self.warnings: list[str] = []  # one line each, for the caller to show


def resolve_target(repo: Repo, target: str, cwd: str) -> str:
    path = os.path.normpath(os.path.join(cwd, target))
    rel = os.path.relpath(path, repo.root)
    if rel == "." :
        raise PathError("cannot track the repository root itself; name a file or directory inside it")
    if rel.startswith(".." + os.sep) or rel == "..":
        raise PathError(f"'{target}' is outside the repository")
    first = rel.split(os.sep)[0]
    if first in (".dvc", ".git"):
        raise PathError(f"'{target}' is inside {first}/ and cannot be tracked")
    if path.endswith(pointers.SUFFIX):
        raise PathError(f"'{target}' is a .dvc file; name the data it tracks instead")
    real = os.path.realpath(os.path.dirname(path))
    if real != os.path.realpath(repo.root) and not real.startswith(os.path.realpath(repo.root) + os.sep):
        raise PathError(f"'{target}' leads outside the repository through a symlink")
    if os.path.islink(path):  # the target itself: only links into the repository or its cache are followed
        dest = os.path.realpath(path)
        bases = (os.path.realpath(repo.root), os.path.realpath(repo.cache_dir))
        if not any(dest == b or dest.startswith(b + os.sep) for b in bases):
            raise PathError(f"'{target}' is a symbolic link that leads outside the repository")
    return path


def check_overlap(repo: Repo, path: str, tracked: list[Tracked], own_pointer: str) -> None:
    for t in tracked:
        o = t.out.abspath
        if t.source == own_pointer and o == path:
            continue
        src = repo.rel(t.source)
        kind = f"pipeline stage '{t.stage}' ({src})" if t.stage else f"'{src}'"
        if o == path:
            raise OverlapError(f"'{repo.rel(path)}' is already an output of {kind}")
        if path.startswith(o + os.sep):
            raise OverlapError(
                f"'{repo.rel(path)}' is inside '{repo.rel(o)}', which is already tracked by {kind}"
            )
        if o.startswith(path + os.sep):
            raise OverlapError(
                f"'{repo.rel(path)}' contains '{repo.rel(o)}', which is already tracked by {kind}; "
                f"remove that first"
            )


def check_pipelines(repo: Repo) -> None:
    """As dvc (``check_graph``), commands that create or move a ``.dvc`` file refuse to while the
    pipelines' graph is invalid (a cycle, duplicate or nested outputs, an output tracked twice)."""
    from tide.workspace.index import find_dvc_files

    if find_dvc_files(repo.root, repo.ignore)[1]:
        from tide.pipeline.project import load_project

        load_project(repo)


def _refuse_nested_targets(repo: Repo, paths: list[str], into: dict[str, Tracked]) -> None:
    """dvc refuses ``add data/f data`` (and ``add data data/f``) before writing anything: the two
    outputs would overlap. So does tide (before, it tracked both, the .dvc inside the other). As in dvc,
    the outputs compared are those the targets resolve to: a target inside a directory a ``.dvc`` file
    tracks (``into``) stands for that directory, so ``add d d/f`` with ``d.dvc`` is one output (N24)."""
    outs = {into[p].out.abspath if p in into else p: p for p in paths}
    for o in outs:
        for inner in outs:
            if inner.startswith(o + os.sep):
                p, q = repo.rel(outs[o]), repo.rel(outs[inner])
                raise OverlapError(f"cannot add '{p}' and '{q}' together: '{p}' contains '{q}' (add one of them)")


def expand_targets(targets: list[str], cwd: str, use_glob: bool) -> list[str]:
    if not use_glob:
        return targets
    out: list[str] = []
    for t in targets:
        import glob  # (deferred, as shutil below: start-up time of an add without --glob or -o)

        matches = sorted(glob.glob(t, root_dir=cwd, recursive=True))
        if not matches:
            raise MissingError(f"no file matches '{t}'")
        out.extend(matches)
    return out


class InvalidArgument(TideError):
    """A combination of options dvc refuses (its ``InvalidArgumentError``: exit status 1, as dvc's)."""


def check_transfer_args(targets: list[str], to_remote: bool, out: str | None, use_glob: bool, no_commit: bool,
                        remote: str | None, remote_jobs: int | None) -> None:
    """dvc's ``CmdAdd.validate_args``, with its messages: ``--to-remote``/``-o`` take one target and
    neither ``--glob`` nor ``--no-commit``; ``-r``/``--remote-jobs`` only go with ``--to-remote``."""
    if to_remote or out is not None:
        opt = "--to-remote" if to_remote else "--out"
        bad = ("multiple targets" if len(targets) != 1 else "--glob option" if use_glob
               else "--no-commit option" if no_commit else None)
        if bad:
            raise InvalidArgument(f"{bad} can't be used with {opt}")
    elif remote:
        raise InvalidArgument("--remote can't be used without --to-remote")
    elif remote_jobs:
        raise InvalidArgument("--remote-jobs can't be used without --to-remote")


def _is_url(target: str) -> bool:
    return "://" in target and not target.startswith("file://")


def output_path(target: str, out: str | None, cwd: str, force: bool) -> str:
    """dvc's ``resolve_output``: where ``add TARGET -o OUT`` puts the data. OUT an existing directory:
    ``OUT/<TARGET's name>``; an existing file there is replaced only with ``force``."""
    from urllib.parse import urlparse

    name = os.path.basename(os.path.normpath(urlparse(target).path if _is_url(target) else target))
    dst = os.path.join(cwd, out) if out else os.path.join(cwd, name)
    if out and os.path.isdir(dst) and not os.path.islink(dst):
        dst = os.path.join(dst, name)
    dst = os.path.normpath(dst)
    if os.path.lexists(dst) and not force:
        raise PathError(f"'{os.path.relpath(dst, cwd)}' exists already; -o will not overwrite it (use -f/--force)")
    return dst


def add_to_remote(repo: Repo, target: str, out: str | None = None, remote: str | None = None,
                  jobs: int | None = None, cwd: str | None = None, force: bool = False) -> AddResult:
    """dvc's ``add --to-remote``: TARGET (a path, or a URL) is hashed and its objects pushed to ``remote``
    (default: the default remote); neither the workspace nor the cache gets the data, only the ``.dvc``
    file does (no .gitignore entry). Its place: ``OUT.dvc`` with ``-o OUT``; beside TARGET when TARGET
    is inside the repository, else ``<cwd>/<TARGET's name>.dvc`` (dvc's ``resolve_paths``)."""
    from tide.ops import to_remote

    cwd = cwd or os.getcwd()
    src = target if _is_url(target) else os.path.abspath(os.path.join(cwd, target))
    if out is not None:
        dst = resolve_target(repo, output_path(target, out, cwd, force), cwd)
    elif not _is_url(target) and (os.path.realpath(src) + os.sep).startswith(os.path.realpath(repo.root) + os.sep):
        dst = resolve_target(repo, target, cwd)
    else:
        dst = resolve_target(repo, output_path(target, None, cwd, True), cwd)
    if not _is_url(target) and not os.path.lexists(src):
        raise MissingError(f"'{target}' does not exist")
    ptr = dst + pointers.SUFFIX
    result = AddResult()
    with repo.lock():
        tracked = collect(repo) + declared_outs(repo)
        check_overlap(repo, dst, tracked, ptr)
        check_pipelines(repo)
        old = pointers.load(ptr, repo.root) if os.path.exists(ptr) else None
        tmp = to_remote.scratch_dir(repo)
        try:
            local = to_remote.fetch_source(repo, target, tmp) if _is_url(target) else src
            up = to_remote.upload(repo, local, remote, jobs, tmp, target)
        finally:
            to_remote.cleanup(tmp)
        base = old.outs[0] if old and len(old.outs) == 1 else Out(os.path.basename(dst), dst)
        pf = PointerFile(ptr, (base.with_hash(up.md5, up.size, up.nfiles, False),), dict(old.top) if old else {})
        pf.write()
        result.pointer_files = result.git_files = [repo.rel(ptr)]
        if repo.autostage and repo.git is not None:
            repo.git.add(result.git_files)
            result.staged = True
    return result


def add(
    repo: Repo,
    targets: list[str],
    cwd: str | None = None,
    no_commit: bool = False,
    out: str | None = None,
    use_glob: bool = False,
    force: bool = False,
    relink: bool = True,
) -> AddResult:
    """``force``: with ``out``, an existing OUT is replaced (dvc's ``add -o OUT -f``). ``relink=False``
    (dvc's ``--no-relink``): the data is copied into the cache and the workspace files are left as
    they are, not replaced by links (hardlink/symlink cache types) nor recorded as linked."""
    cwd = cwd or os.getcwd()
    targets = expand_targets(targets, cwd, use_glob)
    if not targets:
        raise UsageError("nothing to add: name at least one file or directory")
    if out is not None and len(targets) != 1:
        raise UsageError("-o/--out takes exactly one target")
    result = AddResult()
    with repo.lock():
        with repo.ignore_journal.command():  # a failure takes back the .gitignore entries written (dvc's scm_context)
            if out is not None:
                src = targets[0] if _is_url(targets[0]) else os.path.abspath(os.path.join(cwd, targets[0]))
                if not _is_url(src) and not os.path.lexists(src):
                    raise MissingError(f"'{targets[0]}' does not exist")
                paths = [resolve_target(repo, output_path(targets[0], out, cwd, force), cwd)]
            else:
                paths = [resolve_target(repo, t, cwd) for t in targets]
                for t, p in zip(targets, paths, strict=True):
                    if not os.path.lexists(p):
                        raise MissingError(f"'{t}' does not exist")
            paths = list(dict.fromkeys(paths))  # a target named twice is added once (as dvc does)
            tracked = collect(repo) + declared_outs(repo)
            into: dict[str, Tracked] = {}  # targets inside a directory a .dvc file tracks
            for p in paths:
                host = _holding_dir(p, tracked) if out is None else None
                if host is not None:
                    into[p] = host
            _refuse_nested_targets(repo, paths, into)
            for p in paths:
                if p not in into:
                    check_overlap(repo, p, tracked, p + pointers.SUFFIX)
            own = [p for p in paths if p not in into]
            gitignore.refuse_tracked(repo.root, own, repo.git)
            gitignore.refuse_ignored_files(repo.root, [p + pointers.SUFFIX for p in own], repo.git)
            check_pipelines(repo)
            if out is not None:
                _copy_in(src, paths[0], force, repo.env)
            # each .dvc file is rewritten onto its text as it was before this command (dvc loads each stage once)
            bases = {(into[p].source if p in into else p + pointers.SUFFIX): "" for p in paths}
            bases = {ptr: pointers.read_text(ptr) for ptr in bases}
            for p in paths:
                if p in into:
                    pf = _add_into(repo, into[p], p, no_commit, bases[into[p].source])
                else:
                    pf = _add_one(repo, p, no_commit, relink, bases[p + pointers.SUFFIX])
                if repo.rel(pf.path) not in result.pointer_files:
                    result.pointer_files.append(repo.rel(pf.path))
            if not no_commit and repo.cache.reflink_only_unsupported(repo.root):
                result.warnings.append(_unlinkable(repo, paths))
            ignores = gitignore.add(repo.ignore_journal, own, repo.git, checked=True)
            result.git_files = sorted(set(result.pointer_files) | set(ignores))
        if repo.autostage and repo.git is not None:
            repo.git.add(result.git_files)
            result.staged = True
    return result


def _unlinkable(repo: Repo, paths: list[str]) -> str:
    """dvc's add warns "could not be linked" (exit 0) when no cache.type works: the data stays as it
    is in the workspace, but no checkout can bring it back."""
    from tide.objects.cache import REFLINK_ONLY

    names = ", ".join(f"'{repo.rel(p)}'" for p in paths[:3])
    return (f"WARNING: {names} could not be linked from the cache (the workspace keeps the data, a checkout "
            f"would fail): {REFLINK_ONLY}")


def _holding_dir(path: str, tracked: list[Tracked]) -> Tracked | None:
    """The directory output of a ``.dvc`` file that ``path`` lies inside, if any."""
    for t in tracked:
        if t.stage is None and path.startswith(t.out.abspath + os.sep) and t.out.is_dir and t.out.use_cache:
            return t
    return None


def _add_into(repo: Repo, host: Tracked, path: str, no_commit: bool, text: str | None = None) -> PointerFile:
    """``add D/f`` where ``D.dvc`` tracks the directory D (dvc's granular add): D's recorded tree gets
    the current content of D/f (a file, or every file under a directory D/f), the rest of the tree
    stays as recorded; ``D.dvc`` gets the new tree (its size is no longer known, as in dvc)."""
    from tide.core import manifest
    from tide.workspace.checkout import load_manifest

    pf = pointers.load(host.source, repo.root)
    idx = next(i for i, o in enumerate(pf.outs) if o.abspath == host.out.abspath)
    dir_out = pf.outs[idx]
    prefix = os.path.relpath(path, dir_out.abspath).replace(os.sep, "/")
    entries = load_manifest(repo.cache, dir_out)
    res = repo.hasher.hash_path(path)
    if res.is_dir:
        new = [manifest.Entry(f"{prefix}/{f.relpath}", f.md5) for f in res.files]
    else:
        new = [manifest.Entry(prefix, res.md5)]
    kept = [e for e in entries if e.relpath != prefix and not e.relpath.startswith(prefix + "/")]
    raw = manifest.serialize(kept + new)
    oid = manifest.tree_oid(raw)
    if not no_commit:
        if res.is_dir:
            repo.cache.put_bytes(res.manifest, res.md5)  # dvc keeps the added directory's own tree too
        store(repo, HashResult(oid, None, len(kept) + len(new), False, res.files, raw), link=True)
        if repo.cache.link_types[0] in ("hardlink", "symlink"):
            done = [(f.relpath, f.md5) for f in res.files]
            rows = repo.cache.link_many([(f.md5, f.abspath) for f in res.files], stat=repo.hasher.row_maker(path, done))
            repo.hasher.record(path, done, rows)
    outs = list(pf.outs)
    if oid == dir_out.md5:  # the same tree: D.dvc stays as it is (its size too), as dvc leaves it
        return pf
    # dvc's Output.apply: when the target was not in the tree (only appended), the recorded size grows by
    # the target's; otherwise it is no longer known
    size = None
    if len(kept) == len(entries) and dir_out.size and res.size is not None:
        size = dir_out.size + res.size
    outs[idx] = dir_out.with_hash(oid, size, len(kept) + len(new), False)
    new_pf = PointerFile(pf.path, tuple(outs), pf.top)
    new_pf.write(text)
    if not no_commit:
        repo.state.save_links([(repo.rel(dir_out.abspath), oid)])
    return new_pf


def _copy_in(src: str, dst: str, force: bool = False, env=None) -> None:
    if os.path.lexists(dst) and not force:
        raise PathError(f"'{dst}' exists already; -o will not overwrite it (use -f/--force)")
    if _is_url(src):  # dvc's add -o takes a URL too: downloaded to OUT (replacing what -f allows)
        from tide.ops.registry_url import get_url

        get_url(src, dst, None, force=True, env=env)
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + ".tide-tmp"
    import shutil

    if os.path.isdir(src):
        shutil.copytree(src, tmp, symlinks=False)
    else:
        shutil.copy2(src, tmp)
    if os.path.isdir(dst) and not os.path.islink(dst):
        shutil.rmtree(dst)  # -f: replaces what was there (os.replace cannot replace a directory)
    os.replace(tmp, dst)


def _add_one(repo: Repo, path: str, no_commit: bool, relink: bool = True, text: str | None = None) -> PointerFile:
    ptr_path = path + pointers.SUFFIX
    old = pointers.load(ptr_path, repo.root) if os.path.exists(ptr_path) else None
    res = _hash_while_copying(repo, path) if not no_commit else None
    stored = True  # False: nothing to add (the directory is unchanged and complete in the cache)
    snap = None  # then: the directory's snapshot, which says no file changed
    if res is None and not no_commit:
        known = _unchanged_and_cached(repo, path, old)
        stored = known is None
        if known is not None:
            res, snap = known
    if res is None:
        if not no_commit and repo.cache.link_types[0] not in ("hardlink", "symlink"):
            # small files are stored as they are hashed: no second read, no second hash
            res = repo.hasher.hash_storing(path, repo.cache.store_hashed)
        else:
            res = repo.hasher.hash_path(path)
    if not no_commit and stored:
        store(repo, res, link=relink)
    base = old.outs[0] if old and len(old.outs) == 1 else None
    if base is None:
        base = Out(os.path.basename(path), path)
    new_out = base.with_hash(res.md5, res.size, res.nfiles, res.isexec)
    pf = PointerFile(ptr_path, (new_out,), dict(old.top) if old else {})
    pf.write(text)
    if not relink:
        return pf  # dvc's --no-relink: the workspace stays as it is, no link recorded
    if not no_commit and repo.cache.link_types[0] in ("hardlink", "symlink"):
        from tide.workspace.checkout import checkout_out

        # files already linked to their objects (an add with nothing changed, or the cache took the
        # file's inode) are left as they are: checkout relinks only what is not linked the first way
        r = checkout_out(new_out, repo.rel(path), repo.hasher, repo.cache, force=True,
                         known_md5=None if stored else res.md5, known_snapshot=snap)  # (nothing to add)
        if r.added or r.modified:
            stored = True  # files relinked: the link is taken anew below
    # see ops.checkout.remove_stale; a file a reflink-only cache could not link stays the user's file,
    # never removed as stale (as dvc records no link for it; its directories' files need no link: N30);
    # recorded after the relink, which may give the file another inode (State.stamp); an add with
    # nothing to add keeps the link it has (no stamp to take: no row lookup per file)
    if (not no_commit and (res.is_dir or not repo.cache.reflink_only_unsupported(repo.root))
            and (stored or not repo.state.has_link(repo.rel(path), res.md5))):
        repo.state.save_links([(repo.rel(path), res.md5)])
    return pf


def _unchanged_and_cached(repo: Repo, path: str, old: PointerFile | None) -> tuple[HashResult, str] | None:
    """The directory ``path``'s hash and snapshot when it is what its .dvc file records, unchanged since it
    was last hashed (its snapshot in the state, as ``status`` answers) and complete in the cache: an
    ``add`` with nothing to add then stores nothing and hashes no file. None otherwise."""
    if old is None or len(old.outs) != 1 or not old.outs[0].is_dir or not old.outs[0].use_cache:
        return None
    out = old.outs[0]
    if out.legacy or out.abspath != path or not os.path.isdir(path) or os.path.islink(path):
        return None
    from tide.workspace.status import cache_has

    known = repo.hasher.known_dir(path)
    if known is None or known[0].md5 != out.md5 or not cache_has(out, repo.cache, repo.state):
        return None
    return known


OVERLAP_MIN_BYTES = 64 << 20
STORE_SLICE = 100_000  # files given to put_many at a time (each call lists the cache's directories once)


def _hash_while_copying(repo: Repo, path: str) -> HashResult | None:
    """For one large file whose hash is not known yet: copy it into the cache in a thread while
    hashing it, instead of hashing first and copying after (about halves the time on two cores).

    ``None`` when this does not apply (directories, small or already-hashed files, link cache types).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size < OVERLAP_MIN_BYTES:
        return None
    if repo.cache.link_types[0] in ("hardlink", "symlink"):
        return None
    rel = repo.rel(path)
    row = repo.state.lookup_prefix(rel).get(rel)
    if row is not None and row[:3] == (st.st_ino, st.st_mtime_ns, st.st_size):
        return None  # the hash is known: nothing to overlap
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        copying = pool.submit(repo.cache.stage_copy, path)
        try:
            res = repo.hasher.hash_path(path)
        except BaseException:
            try:
                repo.cache.discard(copying.result())
            except Exception:  # the hashing error is the one to report
                pass
            raise
        try:
            tmp = copying.result()
        except Exception:  # store() copies it the usual way and reports any error
            tmp = None
    if tmp is not None:
        after = os.stat(path)
        if (after.st_mtime_ns, after.st_size) == (st.st_mtime_ns, st.st_size) and res.md5 == res.files[0].md5:
            repo.cache.adopt(tmp, res.md5)
        else:
            repo.cache.discard(tmp)  # changed while being copied: store() copies it again
    return res


def store(repo: Repo, res: HashResult, *, link: bool) -> None:
    """Put hashed files (and a directory's manifest, last) into the cache; those present already
    (stored as they were hashed: ``Hasher.hash_storing``) are found by listing and skipped.

    ``link``: the workspace files are tracked outputs that the caller links to their objects
    (hardlink/symlink cache types), so the cache may take their inodes instead of copying them
    (and makes them read-only). False for files a user may edit in place (uncached outputs kept
    in the cache for the run cache): those are always copied, so an edit cannot reach the cache."""
    cache = repo.cache
    move = link and cache.link_types[0] in ("hardlink", "symlink")
    # in slices: a million files' (path, md5, size) tuples at once would cost ~300 MB (issue 26)
    files = iter(res.files)
    while part := [(f.abspath, f.md5, f.size) for f in islice(files, STORE_SLICE)]:
        cache.put_many(part, move)
    if res.manifest is not None:
        cache.put_bytes(res.manifest, res.md5)
