"""The performance fast paths must never change an answer: directory snapshots and cache
fingerprints in the state DB, bulk presence checks, worker-owned writes, the overlapped large-file
add, and the one-pass walk. (Speed itself is measured by ``make bench``, not here.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tide.objects.cache import ObjectCache
from tide.ops import add as add_op
from tide.workspace.repo import Repo

OLD = time.time_ns() - 3_600 * 10**9  # an hour ago: old enough for the snapshots to be recorded


def _tree(root, n=300):
    for i in range(n):
        d = os.path.join(root, "data", f"d{i % 7}", f"s{i % 3}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.txt"), "w") as f:
            f.write(f"file {i}\n")


def _age(path):
    """Set every mtime under ``path`` (directories included) an hour back."""
    for d, dirs, files in os.walk(path):
        for name in dirs + files:
            os.utime(os.path.join(d, name), ns=(OLD, OLD))
    os.utime(path, ns=(OLD, OLD))


def _status(tide, repo_dir):
    return tide("status", cwd=repo_dir).stdout


@pytest.mark.parametrize("nfiles", [300, 3500])  # 3500: the snapshot is taken on two processes
def test_dir_snapshot_sees_every_kind_of_change(repo_dir, tide, nfiles):
    _tree(repo_dir, nfiles)
    _age(repo_dir / "data")
    tide("add", "data", cwd=repo_dir)
    assert "up to date" in _status(tide, repo_dir)
    assert "up to date" in _status(tide, repo_dir)  # answered from the recorded snapshot
    f = repo_dir / "data" / "d1" / "s1" / "f1.txt"
    f.write_text("file X\n")  # same size, new content and mtime
    assert "modified" in _status(tide, repo_dir)
    tide("add", "data", cwd=repo_dir)
    _age(repo_dir / "data")
    assert "up to date" in _status(tide, repo_dir)
    os.unlink(repo_dir / "data" / "d2" / "s2" / "f2.txt")
    assert "modified" in _status(tide, repo_dir)
    tide("checkout", "--force", cwd=repo_dir)
    (repo_dir / "data" / "new.txt").write_text("new\n")
    assert "modified" in _status(tide, repo_dir)


def test_cache_fingerprint_notices_a_removed_object(repo_dir, tide):
    _tree(repo_dir)
    tide("add", "data", cwd=repo_dir)
    cache = repo_dir / ".dvc" / "cache" / "files" / "md5"
    _age(cache)
    assert "up to date" in _status(tide, repo_dir)  # completeness recorded with the fingerprint
    victim = next(p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".dir"))
    victim.chmod(0o644)
    victim.unlink()
    os.utime(victim.parent, ns=(OLD + 10**9, OLD + 10**9))  # old, but not the recorded mtime
    assert "not in cache" in _status(tide, repo_dir)


def test_files_with_stat_matches_walk_files(repo_dir):
    _tree(repo_dir, 40)
    data = repo_dir / "data"
    (data / "d1" / "skip.log").write_text("x")
    (data / "ignored_dir").mkdir()
    (data / "ignored_dir" / "a").write_text("a")
    (data / "link_to_dir").symlink_to(data / "d2")
    (data / "link_to_file").symlink_to(data / "d3" / "s0" / "f3.txt")
    (data / "dangling").symlink_to(data / "nowhere")
    (repo_dir / ".dvcignore").write_text("*.log\nignored_dir/\n")
    repo = Repo(str(repo_dir))
    walked = sorted(rel for rel, e in repo.ignore.walk_files(str(data), "data") if os.path.exists(e.path))
    fast = repo.ignore.files_with_stat(str(data), "data")
    assert sorted(rel for rel, _ in fast) == walked
    assert "link_to_file" in walked and "d1/skip.log" not in walked and "ignored_dir/a" not in walked
    assert all(os.stat(data / rel).st_ino == s.st_ino for rel, s in fast)


def test_put_many_and_link_many_round_trip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    cache = ObjectCache(str(tmp_path / "cache"), ("reflink", "copy"))
    items = []
    for i in range(200):
        p = src / f"f{i}"
        p.write_bytes(os.urandom(100 + i) if i % 2 else b"same")
        items.append((str(p), cache_md5(p), p.stat().st_size))
    assert cache.put_many(items) == len({md5 for _, md5, _ in items})
    assert cache.put_many(items) == 0
    assert cache.missing(md5 for _, md5, _ in items) == []
    assert cache.missing(["0" * 32] * 300) == ["0" * 32] * 300
    out = tmp_path / "out"
    cache.link_many([(md5, str(out / f"x{i % 9}" / f"y{i}")) for i, (_, md5, _) in enumerate(items)])
    for i, (p, _, _) in enumerate(items):
        dst = out / f"x{i % 9}" / f"y{i}"
        assert dst.read_bytes() == Path(p).read_bytes()
        assert oct(dst.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    objs = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert objs and all(p.stat().st_mode & 0o777 == 0o444 for p in objs)
    assert not [p for p in (tmp_path / "cache").rglob("*.tmp")]


def test_large_file_add_overlaps_copy_and_hash(repo_dir, monkeypatch):
    monkeypatch.setattr(add_op, "OVERLAP_MIN_BYTES", 1 << 20)
    big = repo_dir / "big.bin"
    big.write_bytes(os.urandom(3 << 20))
    repo = Repo(str(repo_dir))
    add_op.add(repo, ["big.bin"], cwd=str(repo_dir))
    md5 = cache_md5(big)
    obj = repo_dir / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert obj.read_bytes() == big.read_bytes()
    assert obj.stat().st_mode & 0o777 == 0o444
    assert f"md5: {md5}" in (repo_dir / "big.bin.dvc").read_text()
    leftovers = [p for p in (repo_dir / ".dvc" / "cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    repo.close()


def cache_md5(p) -> str:
    import hashlib

    return hashlib.md5(Path(p).read_bytes()).hexdigest()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_forked_snapshot_equals_the_in_process_one(tmp_path):
    """Large directories are stat-ed on two processes; the digest must not depend on that, and a
    change in either half must show."""
    from tide.workspace import snapshot
    from tide.workspace.ignore import Ignore

    data = tmp_path / "data"
    old = time.time_ns() - 3600 * 10**9
    for d in range(40):
        sub = data / f"d{d:02d}"
        sub.mkdir(parents=True)
        for f in range(80):
            p = sub / f"f{f}"
            p.write_bytes(b"x" * (f % 7))
            os.utime(p, ns=(old, old))
    listing = Ignore(str(tmp_path)).listing(str(data), "data")
    assert sum(len(names) for _, _, names, _ in listing) >= snapshot.PARALLEL_MIN_FILES
    done, forked = snapshot.parallel(listing)
    assert done and forked is not None
    assert forked == snapshot.of_groups(snapshot.stat_groups(listing))
    for victim in (listing[0], listing[1]):  # one directory of each process's half
        p = os.path.join(victim[1], victim[2][0])
        os.utime(p, ns=(old + 10**9, old + 10**9))
        changed = snapshot.parallel(listing)[1]
        assert changed not in (None, forked)
        assert changed == snapshot.of_groups(snapshot.stat_groups(listing))
        os.utime(p, ns=(old, old))
    assert snapshot.parallel(listing)[1] == forked
    os.utime(os.path.join(listing[0][1], listing[0][2][0]))  # just now: racy, never recorded
    assert snapshot.parallel(listing) == (True, None)
