"""``tide remote convert SRC DST``: copy every object of one remote to another, across formats
(DVC's layout <-> chunked; tide.yaml says which remote is which), and ``tide fsck -c``.

Resumable: objects the destination has are skipped, and the destination is made durable every
``BATCH`` objects (a chunked remote writes an index file then), so an interrupted convert loses
at most one batch. Every object is verified (md5) between the two remotes; a manifest goes to the
destination only after all its files that this run copied made it. The run cache goes too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tide.core.errors import StorageError, UsageError
from tide.objects.ref import ObjRef
from tide.workspace.repo import Repo

BATCH = 512


@dataclass
class ConvertResult:
    copied: int = 0
    nbytes: int = 0
    present: int = 0
    runs: int = 0
    failed: list[tuple[ObjRef, str]] = field(default_factory=list)


def convert(repo: Repo, src_name: str, dst_name: str, jobs: int | None = None) -> ConvertResult:
    from tide.ops.data_scope import open_remote

    if src_name == dst_name:
        raise UsageError("remote convert: SRC and DST are the same remote")
    res = ConvertResult()
    src = open_remote(repo, src_name, jobs)
    try:
        dst = open_remote(repo, dst_name, jobs)
        try:
            refs = list(src.store.iter_refs())
            have = dst.store.has_many(refs, dst.jobs)
            res.present = len(have)
            todo = sorted((r for r in refs if r not in have), key=lambda r: (r.is_dir, r))  # files first
            if todo:
                dst.store.check_writable()
            tmp = os.path.join(repo.tmp_dir, "tide", "convert")
            os.makedirs(tmp, exist_ok=True)
            lost: set[ObjRef] = set()
            for i in range(0, len(todo), BATCH):
                _batch(src.store, dst.store, todo[i:i + BATCH], tmp, max(src.jobs, 1), res, lost)
            res.runs = _runs(src.store, dst.store, tmp)
        finally:
            dst.close()
    finally:
        src.close()
    return res


def _batch(src, dst, refs: list[ObjRef], tmp: str, jobs: int, res: ConvertResult, lost: set[ObjRef]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tide.core import manifest
    from tide.core.fsutil import tmp_name
    from tide.core.hashing import file_md5, file_md5_dos2unix

    def one(ref: ObjRef) -> tuple[ObjRef, int, str | None]:
        path = tmp_name(os.path.join(tmp, "x"))
        try:
            src.get_file(ref, path)
            want = ref.oid.removesuffix(".dir")
            if file_md5(path) != want and not (ref.legacy and not ref.is_dir and file_md5_dos2unix(path) == want):
                return ref, 0, "corrupt on the source remote (its content does not hash to its id)"
            if ref.is_dir:
                with open(path, "rb") as f:
                    kids = {ObjRef(e.md5, ref.legacy) for e in manifest.parse(f.read(), where=f"manifest {ref.oid}")}
                if kids & lost:
                    return ref, 0, "manifest not copied: some of its files failed"
            dst.put(ref, path)
            return ref, os.path.getsize(path), None
        except (StorageError, OSError) as exc:
            return ref, 0, str(exc)
        finally:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    done: list[tuple[ObjRef, int]] = []
    for part in ([r for r in refs if not r.is_dir], [r for r in refs if r.is_dir]):
        if not part:
            continue
        with ThreadPoolExecutor(max(1, min(jobs, len(part)))) as pool:
            for ref, n, why in pool.map(one, part):
                if why is None:
                    done.append((ref, n))
                else:
                    lost.add(ref)
                    res.failed.append((ref, why))
    failed = dst.flush()
    for ref, n in done:
        if ref in failed:
            lost.add(ref)
            res.failed.append((ref, failed[ref]))
        else:
            res.copied += 1
            res.nbytes += n


def _runs(src, dst, tmp: str) -> int:
    """Run-cache entries (``runs/...``) the destination lacks, copied as they are."""
    from tide.core.fsutil import tmp_name

    there = set(dst.list_extra("runs/"))
    n = 0
    for key in src.list_extra("runs/"):
        if key in there:
            continue
        path = tmp_name(os.path.join(tmp, "r"))
        try:
            with src.open_extra(key) as f, open(path, "wb") as out:
                out.write(f.read())
            dst.put_extra(path, key)
            n += 1
        finally:
            os.unlink(path)
    return n


@dataclass
class RemoteCheck:
    remote: str
    objects: int
    problems: list[str]


def fsck_remote(repo: Repo, remote: str | None, sample: int | None, jobs: int | None = None) -> RemoteCheck:
    """``tide fsck -c``: the remote's format checks its structures and (a ``sample`` of) its objects."""
    from tide.ops.data_scope import open_remote

    rem = open_remote(repo, remote, jobs)
    try:
        n = sum(1 for _ in rem.store.iter_refs())
        return RemoteCheck(rem.name, n, rem.store.verify(sample, rem.jobs))
    finally:
        rem.close()
