"""``tide fsck``: re-hash every cache object and check that every tracked output's objects exist."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tide.core import manifest
from tide.core.errors import FileFormatError
from tide.ops.index import collect
from tide.workspace.repo import Repo


@dataclass
class FsckReport:
    checked: int = 0
    corrupt: list[str] = field(default_factory=list)  # cache paths
    missing: list[str] = field(default_factory=list)  # "output: object" descriptions
    bad_manifests: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.missing or self.bad_manifests)


def fsck(repo: Repo, jobs: int | None = None) -> FsckReport:
    rep = FsckReport()
    cache = repo.cache
    oids = list(cache.iter_oids())
    rep.checked = len(oids)

    def check(item: tuple[str, bool]) -> str | None:
        oid, legacy = item
        try:
            ok = cache.verify(oid, legacy)
        except OSError:
            ok = False
        return None if ok else cache.path(oid, legacy)

    with ThreadPoolExecutor(jobs or max(2, (os.cpu_count() or 1) * 2)) as pool:
        rep.corrupt = sorted(p for p in pool.map(check, oids) if p)
    corrupt = set(rep.corrupt)
    for t in collect(repo):
        out = t.out
        if out.md5 is None or not out.use_cache:
            continue
        where = repo.rel(out.abspath)
        top = cache.path(out.md5, out.legacy)
        if not os.path.exists(top):
            rep.missing.append(f"{where}: {out.md5}")
            continue
        if not out.is_dir or top in corrupt:
            continue
        try:
            entries = manifest.parse(cache.read_bytes(out.md5, out.legacy), where=f"manifest {out.md5}")
        except FileFormatError as exc:
            rep.bad_manifests.append(f"{where}: {exc}")
            continue
        for e in entries:
            if not cache.exists(e.md5, out.legacy):
                rep.missing.append(f"{where}/{e.relpath}: {e.md5}")
    return rep
