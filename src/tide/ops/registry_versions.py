"""``import-url --version-aware``: a dependency on objects of a versioned bucket (S3), as dvc's cloud
versioning records it. The ``.dvc`` file names each object's ``version_id`` (and ``etag``/``size``):
a file in the dependency itself, a directory as a ``files`` list (``relpath``, ``etag``, ``size``,
``version_id``); ``fs_config`` gets ``version_aware: true``; the output ``push: false`` (its data
stays in the bucket, so ``pull`` gets the recorded versions from there: ``fetch_versioned``).
``update`` compares the current versions with the recorded ones and downloads only on a change."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, PathError, UsageError
from tide.workspace.repo import Repo

FLAG = "version_aware"


def is_versioned(dep: dict) -> bool:
    """Whether an import-url dependency is version-aware (dvc: ``fs_config.version_aware``, or
    ``version_id``/``files`` recorded)."""
    cfg = dep.get("fs_config")
    flag = cfg.get(FLAG) if isinstance(cfg, dict) else None
    return flag in (True, "true", "True") or "version_id" in dep or isinstance(dep.get("files"), list)


def backend_options(options: dict | None) -> dict[str, str] | None:
    """The URL's filesystem options without the version-aware flag (tide's backends read versions
    when asked, whatever their configuration)."""
    kept = {str(k): str(v) for k, v in (options or {}).items() if k != FLAG}
    return kept or None


def versioned_dep(url: str, options: dict | None, env) -> dict:
    """dvc's version-aware dependency on ``url`` as it is now (nothing downloaded)."""
    from tide.ops.registry_url import open_parent

    backend, name = open_parent(url, backend_options(options), env)
    cfg = {**{k: v for k, v in (options or {}).items() if k != FLAG}, FLAG: True}

    def one(key: str) -> dict:
        vid = backend.version_id(key)
        if vid is None:
            raise UsageError(f"'{url}': the server gives no version id for '{key}' (is the bucket versioned?)")
        return {"etag": backend.etag(key), "size": backend.size(key), "version_id": vid}

    keys = sorted(backend.list(name + "/"))
    if not keys:
        if not backend.exists(name):
            raise MissingError(f"'{url}' does not exist")
        return {**one(name), "hash": "md5", "path": url, "fs_config": cfg}
    files = [{"relpath": k[len(name) + 1:], **one(k)} for k in keys]
    return {"hash": "md5", "path": url, "fs_config": cfg, "files": files}


def download(url: str, dep: dict, dst: str, env) -> None:
    """The versions ``dep`` records, written at ``dst`` (a temporary sibling renamed into place)."""
    import shutil

    from tide.core.fsutil import tmp_name
    from tide.ops.registry_get import remove_path
    from tide.ops.registry_url import CHUNK, open_parent

    cfg = dep.get("fs_config")
    backend, name = open_parent(url, backend_options(cfg if isinstance(cfg, dict) else None), env)
    files = dep.get("files")
    if isinstance(files, list):
        items = [(str(f.get("relpath", "")), f.get("version_id")) for f in files if isinstance(f, dict)]
    else:
        items = [("", dep.get("version_id"))]
    tmp = tmp_name(os.path.abspath(dst))
    try:
        if isinstance(files, list):
            os.makedirs(tmp)
        for rel, vid in items:
            if not isinstance(vid, str) or not vid:
                raise MissingError(f"'{url}': a file of the import records no version_id")
            target = os.path.normpath(os.path.join(tmp, rel)) if rel else tmp
            if rel and (not target.startswith(tmp + os.sep) or rel.startswith("/")):
                raise PathError(f"'{rel}' in the .dvc file of '{url}' is outside the output")
            key = f"{name}/{rel}" if rel else name
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with backend.open_version(key, vid) as src, open(target, "wb") as f:
                shutil.copyfileobj(src, f, CHUNK)
        if os.path.lexists(dst):
            remove_path(dst)
        os.replace(tmp, dst)
    except BaseException:
        remove_path(tmp)
        raise


def fetch_versioned(repo: Repo, urls: list[tuple[dict, object]]) -> int:
    """``fetch``/``pull``: the recorded versions of version-aware import-url outputs (``urls``: the
    import-urls in scope, ``registry_fetch._scan``) that the cache lacks, downloaded from the bucket and
    stored if they hash to what the ``.dvc`` file records (their data is never pushed: ``push: false``).
    Returns how many outputs."""
    import shutil
    import tempfile

    from tide.ops.registry_fetch import lacking

    n = 0
    for dep, out in urls:
        if not is_versioned(dep) or not lacking(repo, out):
            continue
        work = tempfile.mkdtemp(prefix="tide-versions-", dir=repo.tmp_dir)
        try:
            dst = os.path.join(work, "out")
            download(dep["path"], dep, dst, repo.env)
            res = repo.hasher.hash_path(dst)
            if res.md5 != out.md5:
                raise MissingError(f"'{repo.rel(out.abspath)}': the recorded versions of '{dep['path']}' no longer "
                                   f"hash to the recorded {out.md5}")
            from tide.ops.add import store

            store(repo, res, link=False)
            n += 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return n
