"""``tide import-url URL [OUT]`` and its ``update``: a file or directory at a URL tracked here, with the
``.dvc`` file dvc writes: ``frozen: true``, a dependency on the URL with its hash, the output.

For a local path the dependency holds ``md5``/``size``(/``nfiles``)/``hash: md5`` exactly as dvc
writes it (relative paths as given, resolved from the ``.dvc`` file's directory), so ``dvc update``
and ``tide update`` agree on whether the source changed. Other URLs (``s3://``, ``http(s)://`` ...)
are downloaded through the storage backends and their dependency records the md5 of what was
downloaded (dvc records the server's ``etag`` there; see docs/registry-data.md).
"""

from __future__ import annotations

import os

from tide.core.errors import MissingError, UsageError
from tide.ops.import_db import stage_md5
from tide.ops.registry_import import ImportResult, UpdateResult, checkout_import, refuse_to_import
from tide.ops.registry_versions import FLAG, is_versioned, versioned_dep
from tide.workspace import pointers
from tide.workspace.pointers import Out, PointerFile
from tide.workspace.repo import Repo


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _local(url: str, base_dir: str) -> str:
    p = url[len("file://"):] if url.startswith("file://") else url
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(p)))


def local_hash(path: str) -> tuple[str, int, int | None]:
    """(md5, size, nfiles or None) of a local file or directory, as dvc hashes it."""
    from tide.core import manifest
    from tide.core.hashing import file_md5

    if os.path.isfile(path):
        return file_md5(path), os.path.getsize(path), None
    if not os.path.isdir(path):
        raise MissingError(f"'{path}' does not exist")
    entries, total = [], 0
    for d, dirs, files in os.walk(path):
        dirs.sort()
        for f in files:
            p = os.path.join(d, f)
            entries.append(manifest.Entry(os.path.relpath(p, path).replace(os.sep, "/"), file_md5(p)))
            total += os.path.getsize(p)
    raw = manifest.serialize(entries)
    return manifest.tree_oid(raw), total, len(entries)


def _dep(url: str, md5: str, size: int, nfiles: int | None, options: dict[str, str] | None = None) -> dict:
    """dvc's dependency on a URL; ``--fs-config`` kept as ``fs_config`` (dvc does), for ``update``."""
    d: dict = {"md5": md5, "size": size}
    if nfiles is not None:
        d["nfiles"] = nfiles
    d["hash"] = "md5"
    d["path"] = url
    if options:
        d["fs_config"] = dict(options)
    return d


def _pointer(ptr: str, out: Out, dep: dict) -> PointerFile:
    top: dict = {"frozen": True, "deps": [dep]}
    pf = PointerFile(ptr, (out,), top)
    return PointerFile(ptr, (out,), {"md5": stage_md5(pf.dump()), **top})


def import_url(repo: Repo, url: str, out: str | None = None, no_download: bool = False, no_exec: bool = False,
               force: bool = False, options: dict[str, str] | None = None, cwd: str | None = None,
               to_remote: bool = False, remote: str | None = None, jobs: int | None = None,
               version_aware: bool = False, announce=None) -> ImportResult:
    """``to_remote``: the data goes straight to ``remote`` (default: the default remote), neither into
    the workspace nor into the cache; the ``.dvc`` file is the one a plain import writes (dvc's
    ``--to-remote``). ``version_aware``: the objects' version ids are recorded (ops.registry_versions)."""
    if options and str(options.get(FLAG, "")).lower() == "true":  # --fs-config version_aware=true
        options = {k: v for k, v in options.items() if k != FLAG}
        version_aware = True
    if version_aware and (_is_local(url) or to_remote):
        raise UsageError("--version-aware needs the URL of a versioned bucket (s3://...) and no --to-remote")
    if to_remote and (no_download or no_exec):
        raise UsageError("--to-remote can't be used with --no-download or --no-exec")
    if remote and not to_remote:
        raise UsageError("--remote can't be used without --to-remote")
    from tide.ops.add import resolve_target
    from tide.ops.registry_url import split_url
    from tide.workspace import gitignore

    cwd = cwd or os.getcwd()
    name = split_url(url)[1] if "://" in url and not url.startswith("file://") else os.path.basename(
        url.rstrip("/"))
    dst = resolve_target(repo, out or name, cwd)
    ptr = dst + pointers.SUFFIX
    with repo.lock():
        with repo.ignore_journal.command():  # a failure takes back the .gitignore entries written (dvc's scm_context)
            refuse_to_import(repo, dst, ptr, force, announce)
            base = Out(os.path.basename(dst), dst)
            if version_aware:
                options = {**(options or {}), FLAG: True}
            if no_exec:
                dep = {"hash": "md5", "path": url, **({"fs_config": dict(options)} if options else {})}
                pf = PointerFile(ptr, (base,), {"frozen": True, "deps": [dep]})
            elif version_aware:
                pf = _fetch_versioned(repo, url, base, ptr, no_download, options)
            elif to_remote:
                pf = _to_remote(repo, url, base, ptr, options, remote, jobs)
            else:
                pf = _fetch(repo, url, base, ptr, no_download, options)
            pf.write()
            ignores = gitignore.add(repo.ignore_journal, [dst], repo.git, checked=True)
            files = sorted({repo.rel(ptr), *ignores})
        if repo.autostage and repo.git is not None:
            repo.git.add(files)
    return ImportResult(repo.rel(dst), repo.rel(ptr), True, files)


def _fetch(repo: Repo, url: str, base: Out, ptr: str, no_download: bool,
           options: dict[str, str] | None) -> PointerFile:
    from tide.ops.add import store
    from tide.ops.registry_get import remove_path
    from tide.ops.registry_url import get_url

    dst = base.abspath
    if _is_local(url):
        md5, size, nfiles = local_hash(_local(url, os.path.dirname(ptr)))
        dep = _dep(url, md5, size, nfiles, options)
        if no_download:
            return _pointer(ptr, base, dep)
    else:
        dep = remote_dep(url, options, repo.env)  # the server's etags, as dvc records them
        if no_download:
            if dep is None:
                raise UsageError("--no-download needs the URL's hash: this server tells no etag")
            return _pointer(ptr, base, dep)
    if os.path.lexists(dst):
        remove_path(dst)
    src = _local(url, os.path.dirname(ptr)) if _is_local(url) else url
    get_url(src, dst, options, force=True, env=repo.env)
    res = repo.hasher.hash_path(dst)
    store(repo, res, link=True)
    out = base.with_hash(res.md5, res.size, res.nfiles, res.isexec)
    checkout_import(repo, out, True)
    if dep is None:  # a server without etags: the md5 of what was downloaded
        dep = _dep(url, res.md5, res.size, res.nfiles, options)
    return _pointer(ptr, out, dep)


def _fetch_versioned(repo: Repo, url: str, base: Out, ptr: str, no_download: bool, options: dict | None,
                     dep: dict | None = None) -> PointerFile:
    """The recorded (``dep``) or current versions of the URL's objects; the output ``push: false``."""
    from tide.ops.add import store
    from tide.ops.registry_versions import download, versioned_dep

    dep = dep or versioned_dep(url, options, repo.env)
    base = base.replace(extra={**base.extra, "push": False})
    if no_download:
        return _pointer(ptr, base, dep)
    download(url, dep, base.abspath, repo.env)
    res = repo.hasher.hash_path(base.abspath)
    store(repo, res, link=True)
    out = base.with_hash(res.md5, res.size, res.nfiles, res.isexec)
    checkout_import(repo, out, True)
    return _pointer(ptr, out, dep)


def remote_dep(url: str, options: dict[str, str] | None, env) -> dict | None:
    """dvc's dependency on a remote URL, from the server's etags (nothing downloaded): a file
    ``{etag, size, hash, path}``; a directory ``{md5, size, nfiles, hash, path}`` whose ``md5`` is that of
    the list of ``{"etag", "relpath"}`` (dvc's tree of etags). None when an etag is missing."""
    import hashlib
    import json

    from tide.ops.registry_url import open_parent

    backend, name = open_parent(url, options, env)
    extra = {"fs_config": dict(options)} if options else {}
    if url.split("://", 1)[0].lower() in ("http", "https"):  # dvc's http: the ETag as sent, as ``checksum``
        tag = backend.checksum(name)
        if tag is None:
            return None
        return {"checksum": tag, "size": backend.size(name), "hash": "md5", "path": url, **extra}
    keys = sorted(backend.list(name + "/"))
    if not keys:
        tag = backend.etag(name)
        if tag is None:
            return None
        return {"etag": tag, "size": backend.size(name), "hash": "md5", "path": url, **extra}
    entries, total = [], 0
    for k in keys:
        tag = backend.etag(k)
        if tag is None:
            return None
        entries.append({"etag": tag, "relpath": k[len(name) + 1:]})
        total += backend.size(k)
    raw = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True).encode()
    oid = hashlib.md5(raw).hexdigest() + ".dir"
    return {"md5": oid, "size": total, "nfiles": len(keys), "hash": "md5", "path": url, **extra}


def _to_remote(repo: Repo, url: str, base: Out, ptr: str, options: dict[str, str] | None, remote: str | None,
               jobs: int | None) -> PointerFile:
    """Hash the URL's data (a local path in place, anything else downloaded to a temporary directory)
    and push it to the remote (``ops.to_remote``); nothing stays here but the ``.dvc`` file."""
    from tide.ops import to_remote

    tmp = to_remote.scratch_dir(repo)
    try:
        if _is_local(url):
            src = _local(url, os.path.dirname(ptr))
            if not os.path.exists(src):
                raise MissingError(f"'{url}' does not exist")
        else:
            src = to_remote.fetch_source(repo, url, tmp, options)
        up = to_remote.upload(repo, src, remote, jobs, tmp, url)
        out = base.with_hash(up.md5, up.size, up.nfiles, False)
        dep = _dep(url, up.md5, up.size, up.nfiles, options)
        if not _is_local(url):
            dep = remote_dep(url, options, repo.env) or dep  # the server's etags, as dvc records them
        return _pointer(ptr, out, dep)
    finally:
        to_remote.cleanup(tmp)


def update_url(repo: Repo, pf: PointerFile, dep: dict, no_download: bool = False,
               jobs: int | None = None, to_remote: bool = False, remote: str | None = None) -> UpdateResult:
    """``to_remote``: the new data goes straight to the remote (dvc's ``update --to-remote``)."""
    from tide.ops.registry_import import workspace_matches

    url = dep["path"]
    out = pf.outs[0]
    fs_config = dep.get("fs_config")
    options = {str(k): str(v) for k, v in fs_config.items()} if isinstance(fs_config, dict) else None
    new = None
    if is_versioned(dep) and not to_remote:  # the current versions, downloaded only when they changed
        now = versioned_dep(url, fs_config if isinstance(fs_config, dict) else None, repo.env)
        if now == dep and out.md5 is not None and not no_download and workspace_matches(repo, out):
            return UpdateResult(repo.rel(pf.path), False, repo.rel(out.abspath))
        new = _fetch_versioned(repo, url, Out(out.path, out.abspath, extra=dict(out.extra)), pf.path, no_download,
                               None, now)
    elif _is_local(url) and out.md5 is not None and not no_download and not to_remote:
        md5, _, _ = local_hash(_local(url, os.path.dirname(pf.path)))
        if md5 == dep.get("md5") and workspace_matches(repo, out):
            return UpdateResult(repo.rel(pf.path), False, repo.rel(out.abspath))
    elif not _is_local(url) and out.md5 is not None and not no_download and not to_remote:
        now = remote_dep(url, options, repo.env)  # unchanged etags: nothing to download (as dvc)
        if now is not None and now == dep and workspace_matches(repo, out):
            return UpdateResult(repo.rel(pf.path), False, repo.rel(out.abspath))
    base = Out(out.path, out.abspath, extra=dict(out.extra))
    if to_remote:
        new = _to_remote(repo, url, base, pf.path, options, remote, jobs)
    elif new is None:
        new = _fetch(repo, url, base, pf.path, no_download, options)
    top = dict(new.top)
    top.update({k: v for k, v in pf.top.items() if k not in ("md5", "frozen", "deps")})
    final = PointerFile(pf.path, new.outs, top)
    changed = final.dump() != pf.dump()
    if changed:
        final.write()
    return UpdateResult(repo.rel(pf.path), changed, repo.rel(out.abspath), url)
