"""Data sent straight to a remote, neither into the workspace nor into the cache (dvc's ``--to-remote``
of ``add``, ``import-url`` and ``update``): hash it, stage its objects in a scratch cache, push them."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

from tide.core.errors import MissingError
from tide.workspace.repo import Repo


@dataclass(frozen=True)
class Uploaded:
    md5: str  # the object id (a directory's ends in ".dir")
    size: int
    nfiles: int | None  # None for a file


def scratch_dir(repo: Repo) -> str:
    tmp = os.path.join(repo.root, ".dvc", "tmp")
    return tempfile.mkdtemp(prefix="tide-to-remote-", dir=tmp if os.path.isdir(tmp) else None)


def upload(repo: Repo, src: str, remote: str | None, jobs: int | None, tmp: str, what: str) -> Uploaded:
    """Hash the local file or directory ``src`` and push its objects (a directory's manifest too) to
    ``remote`` (default: the default remote). ``tmp``: a scratch directory the caller removes. Nothing is
    written to the cache. ``what`` names the data in the error when the upload fails."""
    from tide.core import manifest
    from tide.core.hashing import file_md5
    from tide.objects import transfer
    from tide.objects.cache import ObjectCache
    from tide.objects.ref import DirPlan, ObjRef
    from tide.ops.data_scope import open_remote

    if not os.path.exists(src):
        raise MissingError(f"'{what}' does not exist")
    rem = open_remote(repo, remote, jobs)  # an unknown remote fails before anything is hashed
    try:
        files: list[tuple[str, str, int]] = []  # (abspath, md5, size)
        rels: list[str] = []
        if os.path.isdir(src):
            for d, dirs, names in os.walk(src):
                dirs.sort()
                for n in sorted(names):
                    p = os.path.join(d, n)
                    files.append((p, file_md5(p), os.path.getsize(p)))
                    rels.append(os.path.relpath(p, src).replace(os.sep, "/"))
        else:
            files.append((src, file_md5(src), os.path.getsize(src)))
        cache = ObjectCache(os.path.join(tmp, "cache"), ("copy",))
        cache.put_many(files, False)
        total = sum(f[2] for f in files)
        if os.path.isdir(src):
            raw = manifest.serialize(manifest.Entry(r, f[1]) for r, f in zip(rels, files, strict=True))
            md5 = manifest.tree_oid(raw)
            cache.put_bytes(raw, md5)
            up = Uploaded(md5, total, len(files))
            plan_files, plan_dirs = [], [DirPlan(ObjRef(md5), [ObjRef(f[1]) for f in files])]
        else:
            up = Uploaded(files[0][1], total, None)
            plan_files, plan_dirs = [ObjRef(up.md5)], []
        res = transfer.push(cache, rem.store, plan_files, plan_dirs, rem.jobs)
    finally:
        rem.close()
    if not res.ok:
        raise MissingError(f"could not upload the data of '{what}' to remote '{rem.name}'")
    return up


def fetch_source(repo: Repo, url: str, tmp: str, options: dict[str, str] | None = None) -> str:
    """A URL's data as a local path: a local path as it is, anything else downloaded under ``tmp``."""
    from tide.ops.registry_url import get_url

    return get_url(url, os.path.join(tmp, "data"), options, force=True, env=repo.env)


def cleanup(tmp: str) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
