"""Kernel copies between local files (storage/localcopy.py) and the remote's ``verify`` option."""

from __future__ import annotations

import errno
import hashlib
import os
import threading

import pytest

from tide.core import manifest
from tide.objects.cache import ObjectCache
from tide.objects.remote import DvcLayoutStore, ObjRef, object_key
from tide.objects.transfer import fetch
from tide.storage import localcopy
from tide.storage.local import LocalBackend

BIG = 3 * 1024 * 1024 + 17  # above the size from which a local download is a kernel copy


def _copy(tmp_path, data: bytes, hashing: bool, reflink: bool = True):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(data)
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        n, digest = localcopy.copy_fd(sfd, dfd, hashing=hashing, reflink=reflink)
    finally:
        os.close(sfd)
        os.close(dfd)
    return n, digest, dst.read_bytes()


@pytest.mark.parametrize("size", [0, 1, 4096, BIG])
def test_copy_fd_copies_and_hashes_what_it_wrote(tmp_path, monkeypatch, size):
    monkeypatch.setattr(localcopy, "STEP", 1 << 20)  # several steps for the hashing thread
    data = os.urandom(size)
    n, digest, out = _copy(tmp_path, data, hashing=True)
    assert (n, digest, out) == (size, hashlib.md5(data).hexdigest(), data)
    sub = tmp_path / "plain"
    sub.mkdir()
    n, digest, out = _copy(sub, data, hashing=False)
    assert (n, digest, out) == (size, None, data)


@pytest.mark.parametrize("refuse", [("copy_file_range",), ("copy_file_range", "sendfile")])
def test_copy_falls_back_when_the_kernel_refuses(tmp_path, monkeypatch, refuse):
    def no(*_a, **_k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    for name in refuse:
        monkeypatch.setattr(os, name, no)
    monkeypatch.setattr(localcopy, "STEP", 1 << 20)
    data = os.urandom(BIG)
    n, digest, out = _copy(tmp_path, data, hashing=True, reflink=False)
    assert (n, digest, out) == (len(data), hashlib.md5(data).hexdigest(), data)


def test_a_real_error_is_not_swallowed(tmp_path, monkeypatch):
    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", full)
    with pytest.raises(OSError) as info:
        _copy(tmp_path, os.urandom(BIG), hashing=True, reflink=False)
    assert info.value.errno == errno.ENOSPC


def _remote_with(tmp_path, blobs: dict[str, bytes]) -> tuple[LocalBackend, list[ObjRef]]:
    remote = LocalBackend(str(tmp_path / "remote"))
    refs = []
    for name, data in blobs.items():
        src = tmp_path / name
        src.write_bytes(data)
        ref = ObjRef(hashlib.md5(data).hexdigest())
        remote.put_file(str(src), object_key(ref))
        refs.append(ref)
    return remote, refs


def _corrupt(remote: LocalBackend, ref: ObjRef, data: bytes) -> None:
    path = os.path.join(remote.root, *object_key(ref).split("/"))
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(data)


def test_large_local_objects_are_verified_by_default(tmp_path):
    good, bad = os.urandom(BIG), os.urandom(BIG)
    remote, (ref_good, ref_bad) = _remote_with(tmp_path, {"good": good, "bad": bad})
    tampered = bytearray(bad)
    tampered[BIG // 2] ^= 1
    _corrupt(remote, ref_bad, bytes(tampered))
    cache = ObjectCache(str(tmp_path / "cache"))
    res = fetch(cache, DvcLayoutStore(remote), [ref_good, ref_bad], [], jobs=2)
    assert res.corrupt == [ref_bad] and res.transferred == 1
    assert not cache.exists(ref_bad.oid)
    with open(cache.path(ref_good.oid), "rb") as f:
        assert f.read() == good
    assert os.stat(cache.path(ref_good.oid)).st_mode & 0o777 == 0o444
    assert not [f for _, _, fs in os.walk(cache.root) for f in fs if f.endswith(".tmp")]


def test_verify_false_trusts_file_objects_but_still_checks_manifests(tmp_path):
    data = os.urandom(BIG)
    remote, (ref,) = _remote_with(tmp_path, {"big": data})
    cache = ObjectCache(str(tmp_path / "cache"))
    res = fetch(cache, DvcLayoutStore(remote), [ref], [], jobs=1, verify=False)
    assert res.ok and res.nbytes == len(data)
    with open(cache.path(ref.oid), "rb") as f:
        assert f.read() == data  # byte-identical
    assert os.stat(cache.path(ref.oid)).st_mode & 0o777 == 0o444
    # trusted by name, as dvc does with verify = false: a corrupt large object is not re-hashed
    other = os.urandom(BIG)
    (tmp_path / "r2").mkdir()
    remote2, (ref2,) = _remote_with(tmp_path / "r2", {"o": other})
    _corrupt(remote2, ref2, other[::-1])
    cache2 = ObjectCache(str(tmp_path / "cache2"))
    assert fetch(cache2, DvcLayoutStore(remote2), [ref2], [], jobs=1, verify=False).ok
    # a manifest decides what else is fetched: it is checked whatever verify says
    raw = manifest.serialize([manifest.Entry("big.bin", ref.oid)])
    dref = ObjRef(manifest.tree_oid(raw))
    key = os.path.join(remote.root, *object_key(dref).split("/"))
    os.makedirs(os.path.dirname(key), exist_ok=True)
    with open(key, "wb") as f:
        f.write(raw.replace(b"big.bin", b"evil.bin"))
    cache3 = ObjectCache(str(tmp_path / "cache3"))
    res = fetch(cache3, DvcLayoutStore(remote), [], [dref], jobs=1, verify=False)
    assert res.corrupt == [dref] and not cache3.exists(dref.oid)


def _tmp_files(root) -> list[str]:
    return [f for _, _, fs in os.walk(root) for f in fs if f.endswith(".tmp")]


def _filesystem_reflinks(d) -> bool:
    """Whether files under ``d`` can share blocks (btrfs, XFS), asked independently of the code tested."""
    (d / "probe-a").write_bytes(b"x" * 4096)
    with open(d / "probe-a", "rb") as src, open(d / "probe-b", "wb") as dst:
        return localcopy.reflink_fd(src.fileno(), dst.fileno())


def test_a_verified_download_leaves_a_spare_for_the_checkout_and_a_corrupt_one_none(tmp_path):
    good, bad = os.urandom(BIG), os.urandom(BIG)
    remote, (ref_good, ref_bad) = _remote_with(tmp_path, {"good": good, "bad": bad})
    _corrupt(remote, ref_bad, bad[::-1])
    cache = ObjectCache(str(tmp_path / "cache"), ("reflink", "copy"))
    res = fetch(cache, DvcLayoutStore(remote), [ref_good, ref_bad], [], jobs=1, spares=[ref_good, ref_bad])
    assert res.corrupt == [ref_bad]
    if _filesystem_reflinks(tmp_path):  # the checkout will reflink too: no spare
        assert not cache.spares
        return
    spare = cache.spares[cache.path(ref_good.oid)]
    assert list(cache.spares) == [cache.path(ref_good.oid)]  # none for the corrupt object
    with open(spare, "rb") as f:
        assert f.read() == good
    assert os.stat(spare).st_mode & 0o777 == 0o666 & ~_umask()  # writable, as a checkout copy is
    dst = tmp_path / "ws" / "good.bin"
    cache.link(ref_good.oid, str(dst))
    assert dst.read_bytes() == good and not cache.spares and not os.path.exists(spare)
    assert os.stat(cache.path(ref_good.oid)).st_mode & 0o777 == 0o444  # the object itself untouched
    assert _tmp_files(cache.root) == []


def test_an_unverified_download_makes_its_spare_at_the_same_time(tmp_path, monkeypatch):
    data = os.urandom(BIG)
    remote, (ref,) = _remote_with(tmp_path, {"big": data})
    cache = ObjectCache(str(tmp_path / "cache"), ("reflink", "copy"))
    monkeypatch.setattr(localcopy, "reflink_fd", lambda *_: False)  # as on ext4, whatever this disk is
    threads = set()
    real = localcopy.copy_fd

    def copy_fd(*a, **k):
        threads.add(threading.current_thread().name)
        return real(*a, **k)

    monkeypatch.setattr(localcopy, "copy_fd", copy_fd)
    assert fetch(cache, DvcLayoutStore(remote), [ref], [], jobs=1, verify=False, spares=[ref]).ok
    assert "tide-spare" in threads and len(threads) == 2  # the two copies ran on two threads
    spare = cache.spares[cache.path(ref.oid)]
    with open(spare, "rb") as f:
        assert f.read() == data
    with open(cache.path(ref.oid), "rb") as f:
        assert f.read() == data
    dst = tmp_path / "ws" / "big.bin"
    cache.link(ref.oid, str(dst))
    assert dst.read_bytes() == data and not os.path.exists(spare) and _tmp_files(cache.root) == []


def test_unused_spares_are_dropped(tmp_path):
    data = os.urandom(BIG)
    remote, (ref,) = _remote_with(tmp_path, {"big": data})
    cache = ObjectCache(str(tmp_path / "cache"), ("reflink", "copy"))
    assert fetch(cache, DvcLayoutStore(remote), [ref], [], jobs=1, spares=[ref]).ok
    cache.drop_spares()
    assert not cache.spares and _tmp_files(cache.root) == []
    with open(cache.path(ref.oid), "rb") as f:
        assert f.read() == data


def test_pull_of_a_large_file_through_a_spare(repo_dir, tide, tmp_path):
    from tests.conftest import git

    data = os.urandom(BIG)
    (repo_dir / "model.bin").write_bytes(data)
    (repo_dir / "same.bin").write_bytes(data)  # two outputs, one object: one spare, one copy
    tide("add", "model.bin", "same.bin", cwd=repo_dir)
    tide("remote", "add", "-d", "r", str(tmp_path / "remote"), cwd=repo_dir)
    tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "model")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo_dir), str(clone))
    tide("pull", cwd=clone)
    for name in ("model.bin", "same.bin"):
        assert (clone / name).read_bytes() == data
        assert os.stat(clone / name).st_mode & 0o777 == 0o666 & ~_umask()
    assert _tmp_files(clone / ".dvc" / "cache") == []
    assert "up to date" in tide("status", cwd=clone).stdout
    # the workspace already holds the files: the next pull's spare is not used, and not left behind
    import shutil

    shutil.rmtree(clone / ".dvc" / "cache")
    tide("pull", cwd=clone)
    assert "up to date" in tide("status", cwd=clone).stdout
    assert (clone / "model.bin").read_bytes() == data
    assert _tmp_files(clone / ".dvc" / "cache") == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_small_verified_downloads_stay_in_memory_for_the_checkout(tmp_path):
    good, bad = b"small object\n", b"another one\n"
    remote, (ref_good, ref_bad) = _remote_with(tmp_path, {"good": good, "bad": bad})
    _corrupt(remote, ref_bad, b"tampered\n")
    cache = ObjectCache(str(tmp_path / "cache"), ("copy",))
    res = fetch(cache, DvcLayoutStore(remote), [ref_good, ref_bad], [], jobs=1, spares=[ref_good, ref_bad])
    assert res.corrupt == [ref_bad] and not cache.exists(ref_bad.oid)
    assert cache.spares == {cache.path(ref_good.oid): good}  # nothing kept of the corrupt one
    os.chmod(cache.path(ref_good.oid), 0o644)
    with open(cache.path(ref_good.oid), "wb") as f:
        f.write(b"X" * len(good))  # the checkout writes the verified bytes, not a re-read of the cache
    dst = tmp_path / "ws" / "good.txt"
    dst.parent.mkdir()
    cache.link_many([(ref_good.oid, str(dst))])
    assert dst.read_bytes() == good and not cache.spares
    # the budget bounds what stays in memory
    cache2 = ObjectCache(str(tmp_path / "cache2"), ("copy",))
    cache2.spare_budget = len(good) - 1
    assert fetch(cache2, DvcLayoutStore(remote), [ref_good], [], jobs=1, spares=[ref_good]).ok
    assert cache2.spares == {}
