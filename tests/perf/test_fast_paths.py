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


@pytest.mark.parametrize("jobs", [None, 4])  # None: one thread on a local disk
def test_put_many_and_link_many_round_trip(tmp_path, jobs):
    src = tmp_path / "src"
    src.mkdir()
    cache = ObjectCache(str(tmp_path / "cache"), ("reflink", "copy"))
    items = []
    for i in range(200):
        p = src / f"f{i}"
        p.write_bytes(os.urandom(100 + i) if i % 2 else b"same")
        items.append((str(p), cache_md5(p), p.stat().st_size))
    assert cache.put_many(items, jobs=jobs) == len({md5 for _, md5, _ in items})
    assert cache.put_many(items) == 0
    assert cache.missing(md5 for _, md5, _ in items) == []
    assert cache.missing(["0" * 32] * 300) == ["0" * 32] * 300
    out = tmp_path / "out"
    cache.link_many([(md5, str(out / f"x{i % 9}" / f"y{i}")) for i, (_, md5, _) in enumerate(items)], jobs=jobs)
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


FORKED_CHECK = """
import os, sys, time
from tide.workspace import snapshot
from tide.workspace.ignore import Ignore

root = sys.argv[1]
data = os.path.join(root, "data")
old = time.time_ns() - 3600 * 10**9
for d in range(40):
    sub = os.path.join(data, f"d{d:02d}")
    os.makedirs(sub)
    for f in range(80):
        p = os.path.join(sub, f"f{f}")
        with open(p, "wb") as fh:
            fh.write(b"x" * (f % 7))
        os.utime(p, ns=(old, old))
listing = Ignore(root).listing(data, "data")
assert sum(len(names) for _, _, names, _ in listing) >= snapshot.PARALLEL_MIN_FILES
done, forked = snapshot.parallel(listing)
assert done and forked is not None, "the listing was not split between two processes"
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
print("checked")
"""


def test_forked_snapshot_equals_the_in_process_one(tmp_path):
    """Large directories are stat-ed on two processes; the digest must not depend on that, and a
    change in either half must show. Run in a fresh interpreter: tide forks only a process with no
    other thread, and a test worker may hold threads left by other tests' servers."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FORKED_CHECK, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "checked"


MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 22 0:26 / /mnt/nfs rw,relatime shared:2 - nfs4 server:/export rw,vers=4.2
31 30 0:27 / /mnt/nfs/local rw shared:3 - xfs /dev/vdb rw
32 22 0:28 / /mnt/my\\040disk rw shared:4 - btrfs /dev/vdc rw
33 22 0:29 / /mnt/ssh rw,nosuid shared:5 - fuse.sshfs user@host:/ rw
34 22 0:30 / /mnt/ntfs rw shared:6 - fuseblk /dev/vdd rw
35 22 0:31 / /mnt/nfs2 rw shared:7 - ext4 /dev/vde rw
36 22 0:32 / /mnt/nfs2 rw shared:8 - cifs //host/share rw
"""


def test_filesystem_type_finds_the_deepest_mount_and_tells_network_from_local(tmp_path):
    from tide.core.fsutil import filesystem_type, parallel_io

    table = tmp_path / "mountinfo"
    table.write_text(MOUNTINFO)
    cases = {
        "/work/repo": ("ext4", False),
        "/mnt/nfs": ("nfs4", True),
        "/mnt/nfs/remote/files/md5": ("nfs4", True),  # need not exist
        "/mnt/nfs/local/x": ("xfs", False),  # a local disk mounted inside an NFS mount
        "/mnt/nfsx/y": ("ext4", False),  # a prefix of the name is not the mount point
        "/mnt/my disk/cache": ("btrfs", False),  # octal escapes in mount points
        "/mnt/ssh/remote": ("fuse.sshfs", True),
        "/mnt/ntfs/data": ("fuseblk", False),  # a local disk through FUSE
        "/mnt/nfs2/r": ("cifs", True),  # mounted over: the last mount wins
    }
    for path, (kind, parallel) in cases.items():
        assert filesystem_type(path, str(table)) == kind, path
        assert parallel_io(path, str(table)) is parallel, path
    assert filesystem_type("/x", str(tmp_path / "absent")) is None
    assert parallel_io("/x", str(tmp_path / "absent")) is False


def test_local_remote_threads_follow_the_filesystem(tmp_path):
    from tide.core.fsutil import parallel_io
    from tide.storage.local import LocalBackend

    backend = LocalBackend(str(tmp_path / "remote"))
    assert backend.capabilities.default_jobs == (8 if parallel_io(str(tmp_path)) else 1)
    assert backend.capabilities.cheap_open and backend.capabilities.rename


def test_tmp_names_are_unique(tmp_path):
    from tide.core.fsutil import tmp_name

    names = {os.path.basename(tmp_name(str(tmp_path / "x"))) for _ in range(20_000)}
    assert len(names) == 20_000
    pid = os.fork()
    if pid == 0:  # a forked child draws other names than its parent
        with open(tmp_path / "child", "w") as f:
            f.write("\n".join(os.path.basename(tmp_name(str(tmp_path / "x"))) for _ in range(100)))
        os._exit(0)
    mine = {os.path.basename(tmp_name(str(tmp_path / "x"))) for _ in range(100)}  # drawn after the fork too
    os.waitpid(pid, 0)
    assert not mine & set((tmp_path / "child").read_text().split("\n"))


def test_new_files_are_written_whole_under_their_name(tmp_path):
    from tide.core.fsutil import NewFiles

    nf = NewFiles()
    dst = tmp_path / "obj"
    nf.write(str(dst), b"one", 0o444)
    assert dst.read_bytes() == b"one" and dst.stat().st_mode & 0o777 == 0o444
    if hasattr(os, "O_TMPFILE"):
        assert nf.unnamed  # this filesystem takes unnamed files: no temporary name was used
    nf.write(str(dst), b"two", 0o644)  # an existing file is replaced (a temporary name + rename)
    assert dst.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obj"]


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="unnamed files are Linux-only")
@pytest.mark.parametrize("refusal", ["open", "link"])
def test_new_files_fall_back_when_unnamed_files_are_refused(tmp_path, monkeypatch, refusal):
    import errno

    from tide.core.fsutil import NewFiles

    real_open, real_link = os.open, os.link
    calls = []

    def fake_open(path, flags, *a, **k):
        if refusal == "open" and flags & os.O_TMPFILE == os.O_TMPFILE:
            calls.append("open")
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, *a, **k)

    def fake_link(src, dst, *a, **k):
        if refusal == "link" and str(src).startswith("/proc/self/fd/"):
            calls.append("link")
            raise OSError(errno.ENOENT, "No such file or directory")  # as without /proc
        return real_link(src, dst, *a, **k)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "link", fake_link)
    nf = NewFiles()
    for i in range(3):
        nf.write(str(tmp_path / f"f{i}"), b"x" * i, 0o444)
    assert calls == [refusal]  # refused once, then remembered
    assert not nf.unnamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f0", "f1", "f2"]
    assert [(tmp_path / f"f{i}").read_bytes() for i in range(3)] == [b"", b"x", b"xx"]


def test_a_full_disk_while_writing_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    import errno

    from tide.core.fsutil import NewFiles

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    for unnamed in (True, False):
        nf = NewFiles()
        nf.unnamed = nf.unnamed and unnamed
        with pytest.raises(OSError) as info:
            nf.write(str(tmp_path / "obj"), b"data", 0o444)
        assert info.value.errno == errno.ENOSPC
        assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="unnamed files are Linux-only")
def test_a_process_killed_before_naming_its_file_leaves_nothing(tmp_path):
    pid = os.fork()
    if pid == 0:
        fd = os.open(tmp_path, os.O_WRONLY | os.O_TMPFILE, 0o444)
        os.write(fd, b"half an object")
        os.kill(os.getpid(), 9)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert list(tmp_path.iterdir()) == []


def test_add_stores_small_files_as_it_hashes_them(repo_dir):
    """hash_storing hands each small file to its sink with the bytes it hashed, the moment it hashes
    it; a large file is not handed over (the caller stores it the usual way); and `add` stores
    exactly the files' bytes, each under its own md5."""
    import hashlib

    from tide.workspace import hashing

    _tree(repo_dir, 50)
    big = repo_dir / "data" / "big.bin"
    big.write_bytes(os.urandom(hashing.KEEP_FILE + 1))
    repo = Repo.find(str(repo_dir))
    got: list[tuple[str, str, bytes]] = []
    res = repo.hasher.hash_storing(str(repo_dir / "data"), lambda p, m, d: got.append((p, m, d)))
    assert repo.hasher.sink is None  # the Hasher holds the sink only during the call
    small = {f.abspath: f.md5 for f in res.files if f.size <= hashing.KEEP_FILE}
    assert {p: m for p, m, _ in got} == small and str(big) not in small
    assert all(Path(p).read_bytes() == d and hashlib.md5(d).hexdigest() == m for p, m, d in got)
    assert len(got) == len(small)  # each once
    repo.close()
    repo2 = Repo.find(str(repo_dir))
    repo2.state.forget_dir("data")
    add_op.add(repo2, [str(repo_dir / "data")])
    for f in res.files:
        with open(repo2.cache.path(f.md5), "rb") as fh:
            assert fh.read() == Path(f.abspath).read_bytes()
    repo2.close()


def test_read_small_reads_whole_files_and_refuses_big_ones(tmp_path):
    from tide.core.fsutil import read_small

    f = tmp_path / "f"
    f.write_bytes(b"0123456789")
    assert read_small(str(f), 10) == (b"0123456789", 10)
    assert read_small(str(f), 9) == (None, 10)  # above the limit: its size only
    f.write_bytes(b"")
    assert read_small(str(f), 10) == (b"", 0)
    # a file whose size fstat does not tell (as one that grew after it) is read to its end
    data, size = read_small("/proc/self/status", 1 << 20)
    assert size == len(data) > 0 and data.startswith(b"Name:")
    with pytest.raises(FileNotFoundError):
        read_small(str(tmp_path / "missing"), 10)


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_issue26_add_again_with_link_cache_keeps_links(repo_dir, tide, kind):
    """issue 26: `add` with nothing changed on a link cache re-created every link (a rename per
    file: as slow as dvc). Links that already point at their objects stay; others are relinked."""
    _tree(repo_dir, 40)
    tide("config", "cache.type", kind, cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    files = sorted(str(p) for p in (repo_dir / "data").rglob("*.txt"))
    before = {p: os.lstat(p).st_ino for p in files}
    if kind == "symlink":
        assert all(os.path.islink(p) for p in files)
    tide("add", "data", cwd=repo_dir)
    assert {p: os.lstat(p).st_ino for p in files} == before
    # a file replaced by a plain copy of the same bytes is linked again
    victim = files[3]
    data = Path(victim).read_bytes()
    os.unlink(victim)
    Path(victim).write_bytes(data)
    tide("add", "data", cwd=repo_dir)
    if kind == "symlink":
        assert os.path.islink(victim)
    else:
        assert os.stat(victim).st_nlink >= 2
    assert Path(victim).read_bytes() == data
    assert {p: os.lstat(p).st_ino for p in files if p != victim} == {p: i for p, i in before.items() if p != victim}


def test_issue26_add_hashes_each_small_file_once(repo_dir, monkeypatch):
    """issue 26: `add` hashed each small file twice, once to name it and once more as the cache
    stored the same bytes. The bytes kept from the first hash are stored without a second; the
    objects still hold exactly the files' bytes, and bytes not kept are still hashed by the cache."""
    from tide.core import hashing as core_hashing
    from tide.objects import cache as cache_mod
    from tide.workspace import hashing

    _tree(repo_dir, 60)
    hashed: list[int] = []

    def counting(data):
        hashed.append(len(data))
        return core_hashing.md5_bytes(data)

    monkeypatch.setattr(hashing, "md5_bytes", counting)
    monkeypatch.setattr(cache_mod, "md5_bytes", counting)
    repo = Repo.find(str(repo_dir))
    add_op.add(repo, [str(repo_dir / "data")])
    files = sorted((repo_dir / "data").rglob("*.txt"))
    assert len(hashed) == len(files) + 1  # each file once, and the manifest
    for f in files:
        with open(repo.cache.path(cache_md5(f)), "rb") as fh:
            assert fh.read() == f.read_bytes()
    repo.close()
    # bytes the caller did not hash are hashed by the cache's door, and refused if they do not match
    cache = ObjectCache(str(repo_dir / "other-cache"), link_types=("copy",))
    with pytest.raises(cache_mod.ObjectRefused):
        cache.admit_bytes(b"abc", "0" * 32)
    src = repo_dir / "x.bin"
    src.write_bytes(b"xyz")
    with pytest.raises(cache_mod.ObjectRefused):
        cache.put_many([(str(src), "1" * 32, 3)])  # a file whose bytes are not its name's


def test_issue26_manifest_bulk_check_gives_the_entry_by_entry_answer(monkeypatch):
    """issue 26: parsing a 2,226-entry manifest took ~25 ms, checked entry by entry (the bulk of a
    first `status` after `add`). The bulk check must accept and refuse exactly what the
    entry-by-entry check does, with the same error."""
    import json
    import random

    from tide.core import manifest
    from tide.core.errors import FileFormatError

    good = "d41d8cd98f00b204e9800998ecf8427e"
    rels = ["a", "a/b", ".a", "a/.b", "...", "a/...", "a..b", "a/..b/c", "é/ü", "a b", "a\nb", "", "/a", "a/",
            "a//b", "a\\b", "a\0b", ".", "..", "./a", "a/.", "a/..", "../a", "a/./b", "a/../b", "/", "\0"]
    md5s = [good, good.upper(), good[:-1], good + "0", "", 5, None, "g" * 32, good[:31] + "\n", "０" * 32]
    docs = [[{"md5": m, "relpath": r}] for r in rels for m in (good,)]
    docs += [[{"md5": m, "relpath": "x"}] for m in md5s]
    docs += [[], [{"relpath": "x"}], [{"md5": good}], [["x"]], ["x"], [5], [{"md5": good, "relpath": 5}],
             [{"md5": good, "relpath": "x", "extra": 1}]]
    singles = [d[0] for d in docs if d]
    rng = random.Random(26)
    for _ in range(300):  # longer manifests with one bad entry somewhere, or none
        doc = [{"md5": good, "relpath": f"d{i}/f{i}"} for i in range(rng.randint(1, 40))]
        if rng.random() < 0.7:
            doc[rng.randrange(len(doc))] = rng.choice(singles) if rng.random() < 0.5 else {
                "md5": good, "relpath": rng.choice(rels)}
        docs.append(doc)

    def outcome(raw):
        manifest._PARSED.clear()  # each answer computed, not remembered
        try:
            return manifest.parse(raw, where="m")
        except FileFormatError as exc:
            return str(exc)

    raws = [json.dumps(d).encode() for d in docs]
    fast = [outcome(r) for r in raws]
    monkeypatch.setattr(manifest, "_parse_fast", lambda data: None)
    slow = [outcome(r) for r in raws]
    assert fast == slow
    good_raw = raws[next(i for i, o in enumerate(slow) if isinstance(o, list) and len(o) > 3)]
    first, again = manifest.parse(good_raw), manifest.parse(good_raw)  # again: from the memo, a new list
    assert first == again and first is not again
    assert sum(isinstance(o, list) for o in slow) > 50 and sum(isinstance(o, str) for o in slow) > 50


def test_issue26_manifest_serialize_is_byte_for_byte_json_dumps():
    """issue 26: manifests are written without building and dumping dicts (5x faster); the bytes
    must stay exactly dvc's ``json.dumps(..., sort_keys=True)``, whatever the paths hold."""
    import json
    import random

    from tide.core import manifest

    rng = random.Random(26)
    alpha = ["a", "/", ".", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "中", "\udcff", "😀", " "]
    for _ in range(500):
        entries = [manifest.Entry("".join(rng.choice(alpha) for _ in range(rng.randint(0, 10))),
                                  "".join(rng.choice('0123456789abcdef"é') for _ in range(rng.randint(0, 32))))
                   for _ in range(rng.randint(0, 5))]
        items = sorted(entries, key=lambda e: e.relpath)
        want = json.dumps([{"md5": e.md5, "relpath": e.relpath} for e in items], sort_keys=True).encode("utf-8")
        assert manifest.serialize(entries) == want


def test_issue26_a_directory_is_hashed_once_per_change_in_a_process(repo_dir, monkeypatch):
    """issue 26: `repro` hashed a just-written output directory up to five times (as an output,
    then as the next stage's dependency, each time looking up every file's row and rebuilding
    the manifest). The last hash is reused while every file's (name, inode, mtime, size) is the
    same, even for files too recent for the state's snapshot; any change is still seen."""
    _tree(repo_dir, 30)
    repo = Repo.find(str(repo_dir))
    data = str(repo_dir / "data")
    first = repo.hasher.hash_path(data)
    lookups = []
    real = repo.state.lookup_prefix
    monkeypatch.setattr(repo.state, "lookup_prefix", lambda p: lookups.append(p) or real(p))
    assert repo.hasher.hash_path(data) == first and repo.hasher.hash_path(data, want_files=False).md5 == first.md5
    assert lookups == []
    f = repo_dir / "data" / "d1" / "s1" / "f1.txt"
    st = f.stat()
    tmp = repo_dir / "f.tmp"  # a rewrite through a temporary name: same size and mtime, new inode
    tmp.write_text("file Y\n")
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.rename(tmp, f)
    g = repo_dir / "data" / "d1" / "s1" / "g.txt"
    g.write_text("new\n")
    g.unlink()
    second = repo.hasher.hash_path(data)
    assert second.md5 != first.md5 and lookups == ["data"]
    assert second.md5 == Repo.find(str(repo_dir)).hasher.hash_path(data).md5 == _fresh_oid(repo_dir, data)
    (repo_dir / "data" / "new.txt").write_text("n\n")
    assert repo.hasher.hash_path(data).nfiles == first.nfiles + 1
    repo.close()


def _fresh_oid(repo_dir, data) -> str:
    from tide.core import manifest

    entries = [manifest.Entry(os.path.relpath(os.path.join(d, n), data), cache_md5(os.path.join(d, n)))
               for d, _, fs in os.walk(data) for n in fs]
    return manifest.tree_oid(manifest.serialize(entries))


@pytest.mark.parametrize("kind", ["symlink", "copy"])
def test_issue26_noop_checkout_answers_from_the_snapshot(repo_dir, tide, monkeypatch, kind):
    """issue 26: a checkout with nothing to do looked up every file's state row and rebuilt the
    manifest. The directory's snapshot answers, as for `status`; a plain file with the recorded content in
    a link's place is left as it is, as dvc leaves it (N38), and relinked by `checkout --relink`."""
    from tide.ops.checkout import checkout

    _tree(repo_dir, 40)
    tide("config", "cache.type", kind, cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    _age(repo_dir / "data")
    _age(repo_dir / ".dvc" / "cache")
    tide("checkout", cwd=repo_dir)  # records the snapshot
    files = sorted(str(p) for p in (repo_dir / "data").rglob("*.txt"))
    before = {p: os.lstat(p).st_ino for p in files}
    repo = Repo.find(str(repo_dir))
    lookups = []
    real = repo.state.lookup_prefix
    monkeypatch.setattr(repo.state, "lookup_prefix", lambda p: lookups.append(p) or real(p))
    assert checkout(repo, cwd=str(repo_dir)).unchanged == 1 and lookups == []
    assert {p: os.lstat(p).st_ino for p in files} == before
    repo.close()
    if kind == "symlink":
        victim = files[5]
        data = Path(victim).read_bytes()
        os.unlink(victim)
        Path(victim).write_bytes(data)
        _age(repo_dir / "data")
        tide("checkout", cwd=repo_dir)  # its content is the recorded one: left a copy, as dvc (N38)
        assert not os.path.islink(victim) and Path(victim).read_bytes() == data
        tide("checkout", "--relink", cwd=repo_dir)
        assert os.path.islink(victim) and Path(victim).read_bytes() == data


def test_issue26_repro_hashes_each_new_output_file_once(repo_dir, monkeypatch):
    """issue 26: `repro` hashed each small output file twice (to record it, then again as the cache
    stored it): the bytes read to hash it are the bytes stored. Objects hold the files' bytes."""
    from tide.core import hashing as core_hashing
    from tide.objects import cache as cache_mod
    from tide.ops.repro import ReproRequest, reproduce
    from tide.workspace import hashing

    (repo_dir / "dvc.yaml").write_text(
        "stages:\n  gen:\n    cmd: python3 -c \"import os; os.makedirs('out'); "
        "[open(f'out/f{i}', 'w').write(f'{i}' * 50) for i in range(40)]\"\n    outs:\n    - out\n")
    hashed: list[int] = []

    def counting(data):
        hashed.append(len(data))
        return core_hashing.md5_bytes(data)

    def counting_file(path, size_hint=-1):
        hashed.append(-1)
        return core_hashing.file_md5(path, size_hint)

    monkeypatch.setattr(hashing, "md5_bytes", counting)
    monkeypatch.setattr(hashing, "file_md5", counting_file)
    monkeypatch.setattr(cache_mod, "md5_bytes", counting)
    repo = Repo.find(str(repo_dir))
    reproduce(repo, ReproRequest(), cwd=str(repo_dir))
    files = sorted((repo_dir / "out").iterdir())
    assert len(files) == 40 and len(hashed) == 40 + 1  # each file once, and the manifest
    for f in files:
        with open(repo.cache.path(cache_md5(f)), "rb") as fh:
            assert fh.read() == f.read_bytes()
    repo.close()


def test_issue26_add_with_nothing_to_add_hashes_and_stores_nothing(repo_dir, monkeypatch):
    """issue 26: `add` of an unchanged directory looked up every file's row, rebuilt the manifest
    and listed the cache to store nothing. Unchanged since its last hash (its snapshot) and
    complete in the cache, it is answered as `status` answers; a missing object is still stored."""
    _tree(repo_dir, 40)
    _age(repo_dir / "data")
    repo = Repo.find(str(repo_dir))
    add_op.add(repo, [str(repo_dir / "data")])
    text = (repo_dir / "data.dvc").read_text()
    calls = []
    real_lookup, real_put = repo.state.lookup_prefix, ObjectCache.put_many
    monkeypatch.setattr(repo.state, "lookup_prefix", lambda p: calls.append("lookup") or real_lookup(p))
    monkeypatch.setattr(ObjectCache, "put_many", lambda *a, **k: calls.append("put") or real_put(*a, **k))
    add_op.add(repo, [str(repo_dir / "data")])
    assert calls == [] and (repo_dir / "data.dvc").read_text() == text
    f = repo_dir / "data" / "d3" / "s0" / "f3.txt"
    obj = Path(repo.cache.path(cache_md5(f)))
    obj.unlink()
    add_op.add(repo, [str(repo_dir / "data")])
    assert obj.read_bytes() == f.read_bytes() and "put" in calls
    repo.close()


def test_issue26_fetch_with_nothing_to_do_trusts_a_complete_directory(repo_dir, tide, tmp_path, monkeypatch):
    """issue 26: `pull` with nothing to do listed the cache for every file object of every
    directory. A directory found complete, with no object added to or removed from the cache since
    (the cache's fingerprint), is not listed again; an object removed since is fetched again."""
    from tide.objects import transfer
    from tide.ops.data_scope import Scope
    from tide.ops.fetch import run_fetch

    _tree(repo_dir, 40)
    tide("remote", "add", "-d", "r", str(tmp_path / "remote"), cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    _age(repo_dir / ".dvc" / "cache")
    listed = []
    real = transfer.missing_from

    def counting(cache, refs):
        refs = list(refs)
        if refs:
            listed.append(len(refs))
        return real(cache, refs)

    monkeypatch.setattr(transfer, "missing_from", counting)
    repo = Repo.find(str(repo_dir))
    run_fetch(repo, Scope())  # finds it complete and records it
    assert listed
    listed.clear()
    assert run_fetch(repo, Scope()).results["r"].transferred == 0 and listed == []
    f = repo_dir / "data" / "d2" / "s2" / "f2.txt"
    obj = Path(repo.cache.path(cache_md5(f)))
    os.chmod(obj.parent, 0o755)
    obj.unlink()
    assert run_fetch(repo, Scope()).results["r"].transferred == 1 and obj.read_bytes() == f.read_bytes()
    repo.close()


def test_issue26_diff_lists_objects_not_in_cache_in_bulk(repo_dir, tide):
    """issue 26: `diff` stat'ed each old object for "not in cache"; the cache is now listed in bulk
    (enough objects for cache.missing to list directories): the same files are reported."""
    import json

    from tide.objects.cache import LIST_THRESHOLD

    _tree(repo_dir, max(300, LIST_THRESHOLD + 20))
    tide("add", "data", cwd=repo_dir)
    import subprocess

    subprocess.run(["git", "add", "-A"], cwd=repo_dir, check=True)
    subprocess.run(["git", "commit", "-qm", "data"], cwd=repo_dir, check=True)
    repo = Repo.find(str(repo_dir))
    gone = sorted((repo_dir / "data").rglob("f1*.txt"))
    for f in gone:
        obj = Path(repo.cache.path(cache_md5(f)))
        if obj.exists():
            obj.unlink()
    repo.close()
    got = json.loads(tide("diff", "--json", cwd=repo_dir).stdout)
    want = sorted(str(f.relative_to(repo_dir)) for f in gone)
    assert sorted(it["path"] for it in got["not in cache"] if not it["path"].endswith("/")) == want


def test_issue26_stage_output_found_complete_is_not_listed_again(repo_dir, tide, monkeypatch):
    """issue 26: a no-op `repro` checked every file object of each directory output (one stat
    each). A directory found complete is remembered with the cache's fingerprint, as `status`
    does; an object removed since is still seen."""
    from tide.pipeline.stagestate import out_cached

    _tree(repo_dir, 40)
    tide("add", "data", cwd=repo_dir)
    _age(repo_dir / ".dvc" / "cache")
    repo = Repo.find(str(repo_dir))
    md5 = next(line.split()[-1] for line in (repo_dir / "data.dvc").read_text().splitlines() if "md5:" in line)
    assert out_cached(md5, repo.cache, repo.state)
    listed = []
    real = ObjectCache.missing
    monkeypatch.setattr(ObjectCache, "missing",
                        lambda self, oids, legacy=False: listed.append(1) or real(self, oids, legacy))
    assert out_cached(md5, repo.cache, repo.state) and listed == []
    f = repo_dir / "data" / "d4" / "s1" / "f4.txt"
    obj = Path(repo.cache.path(cache_md5(f)))
    obj.unlink()
    assert not out_cached(md5, repo.cache, repo.state) and listed
    repo.close()


def test_issue26_add_holds_no_files_bytes_past_their_hashing(repo_dir):
    """issue 26: `add` kept the bytes of small files from their hashing until the store that followed
    (up to 64 MB: a 93 MB dataset's add peaked at 88 MB, dvc's at 71 MB). Each is now stored as it is
    hashed: adding 4 MB of 40 KB files allocates far less than 4 MB at its peak."""
    import tracemalloc

    for i in range(100):
        d = repo_dir / "data" / f"d{i % 4}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.bin").write_bytes(os.urandom(40 << 10))
    repo = Repo.find(str(repo_dir))
    tracemalloc.start()
    try:
        add_op.add(repo, [str(repo_dir / "data")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    for f in (repo_dir / "data").rglob("*.bin"):
        import hashlib

        assert os.path.exists(repo.cache.path(hashlib.md5(f.read_bytes()).hexdigest()))
    repo.close()


def test_issue26_hashing_a_directory_holds_no_per_file_objects(repo_dir):
    """issue 26: `tide add` of a million tiny files peaked at 1.7 GB (an os.stat_result, path
    strings, FileInfo tuples and a sorted entry list per file, all at once). hash_dir keeps compact
    arrays and a FileTable instead, and writes the manifest directory by directory: the traced peak
    per file stays far below the old ~1.6 KB, and the manifest is byte for byte the sorted one."""
    import tracemalloc

    from tide.core import manifest

    n = 6000
    for i in range(n):
        d = repo_dir / "data" / f"d{i % 30:02d}" / ("s" if i % 2 else "")
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.bin").write_bytes(b"%d" % i)
    repo = Repo.find(str(repo_dir))
    repo.hasher.hash_path(str(repo_dir / "data" / "d00"))  # imports and the state database, untraced
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        res = repo.hasher.hash_path(str(repo_dir / "data"))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert res.nfiles == n and len(res.files) == n
    assert peak / n < 1100, f"{peak / n:.0f} bytes per file"  # the old code: ~1,640; now ~800
    entries = [manifest.Entry(f.relpath, f.md5) for f in res.files]
    assert res.manifest == manifest.serialize(entries) and res.files[-1] == list(res.files)[-1]
    repo.close()


def test_issue26_repro_and_status_look_at_each_directory_once_until_something_is_written(repo_dir, monkeypatch):
    """issue 26: a directory that is one stage's output and the next one's dependency was listed and
    stat-ed once per mention (four snapshots of two directories for a two-stage `repro` with nothing to
    do). While nothing is written (`status`; `repro` until a stage acts), each is looked at once; a stage
    that runs makes the next one look again, and sees what the run wrote."""
    from tide.ops.repro import ReproRequest, reproduce
    from tide.ops.status import workspace_status
    from tide.workspace.ignore import Ignore

    _tree(repo_dir, 40)
    (repo_dir / "dvc.yaml").write_text(
        "stages:\n  prep:\n    cmd: cp -r data prepared\n    deps:\n    - data\n    outs:\n    - prepared\n"
        "  sums:\n    cmd: ls -R prepared > sums.txt\n    deps:\n    - prepared\n    outs:\n    - sums.txt\n")
    repo = Repo.find(str(repo_dir))
    reproduce(repo, ReproRequest(), cwd=str(repo_dir))
    repo.close()
    _age(repo_dir / "data")
    _age(repo_dir / "prepared")
    listed: list[str] = []
    real = Ignore.listing
    monkeypatch.setattr(Ignore, "listing", lambda self, d, *a, **k: listed.append(os.path.basename(d)) or real(
        self, d, *a, **k))
    repo = Repo.find(str(repo_dir))
    res = reproduce(repo, ReproRequest(), cwd=str(repo_dir))
    assert not res.ran and sorted(listed) == ["data", "prepared"]  # each once
    listed.clear()
    assert workspace_status(repo, cwd=str(repo_dir)) == {} and sorted(listed) == ["data", "prepared"]
    repo.close()
    # a stage that acts: the next one looks again, and its dependency's new content is seen
    (repo_dir / "data" / "new.txt").write_text("new\n")
    listed.clear()
    repo = Repo.find(str(repo_dir))
    res = reproduce(repo, ReproRequest(), cwd=str(repo_dir))
    assert res.ran == ["prep", "sums"] and "new.txt" in (repo_dir / "sums.txt").read_text()
    assert listed.count("prepared") >= 2
    listed.clear()
    assert reproduce(repo, ReproRequest(), cwd=str(repo_dir)).ran == []
    repo.close()


def test_issue26_add_again_asks_git_nothing_about_an_output_already_ignored(repo_dir, monkeypatch):
    """issue 26: each `add` asked `git check-ignore` whether the output is ignored (a git process,
    ~5 ms of a no-op `add`); the entry in the .gitignore beside it answers first. An output without
    one is still asked about, and an output git ignores by another rule gets no entry of its own."""
    from tide.core.git import Git

    _tree(repo_dir, 10)
    (repo_dir / "other").mkdir()
    (repo_dir / "other" / "f").write_text("x\n")
    (repo_dir / ".gitignore").write_text("other/\n")  # (a directory rule: not other.dvc)
    repo = Repo.find(str(repo_dir))
    add_op.add(repo, [str(repo_dir / "data")])
    assert (repo_dir / ".gitignore").read_text() == "other/\n/data\n"
    asked: list[list[str]] = []
    real = Git.ignored
    monkeypatch.setattr(Git, "ignored", lambda self, paths: asked.append(list(paths)) or real(self, paths))
    add_op.add(repo, [str(repo_dir / "data")])
    assert [p for p in asked if p] == [["data.dvc"]]  # the .dvc file is still checked, `data` is not
    asked.clear()
    add_op.add(repo, [str(repo_dir / "other")])
    assert ["other"] in asked and (repo_dir / ".gitignore").read_text() == "other/\n/data\n"
    repo.close()


def test_fast_relpath_is_relpath(tmp_path):
    """The prefix strip `Hasher` and the pipeline parser use gives exactly `os.path.relpath`'s answer,
    falling back to it for anything that is not a normal absolute path under a normal absolute root."""
    from tide.core.fsutil import fast_relpath

    root = str(tmp_path / "repo")
    cases = [root, root + "/a", root + "/a/b.txt", root + "/a/../b", root + "//a", root + "/./a", root + "x/a",
             str(tmp_path), "/", "rel/a", root + "/", root + "/a/"]
    for path in cases:
        for r in (root, root + "/", str(tmp_path / "repo" / ".." / "repo")):
            assert fast_relpath(r, path) == os.path.relpath(path, r), (r, path)


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_issue26_add_again_on_a_link_cache_checks_the_links_once_per_snapshot(repo_dir, tide, kind, monkeypatch):
    """issue 26: a no-op `add` on a link cache read the manifest and listed every cache directory to check
    each file's link (~15 ms of ~80 for 2,226 files). Found linked once, it is remembered with the directory's
    snapshot, the cache's fingerprint and the link type: asked again only when one of them changed."""
    from tide.workspace import checkout as checkout_mod

    _tree(repo_dir, 40)
    tide("config", "cache.type", kind, cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    calls: list[str] = []
    real = checkout_mod._all_linked

    def counting(root, entries, cache, legacy):
        calls.append(root)
        return real(root, entries, cache, legacy)

    monkeypatch.setattr(checkout_mod, "_all_linked", counting)

    def add_again() -> int:
        _age(repo_dir)  # (a file or cache directory changed in the last second is not trusted to a snapshot)
        tide("status", cwd=repo_dir)  # records the snapshot
        before = len(calls)
        add_op.add(Repo.find(str(repo_dir)), [str(repo_dir / "data")])
        return len(calls) - before

    assert add_again() == 1  # checked, then remembered
    assert add_again() == 0
    assert add_again() == 0
    # a file replaced by a plain copy of its bytes (the directory's hash is the same, its snapshot is not):
    # the links are checked again, and the copy is linked again
    victim = sorted((repo_dir / "data").rglob("*.txt"))[3]
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data)
    assert add_again() == 1
    assert os.path.islink(victim) if kind == "symlink" else os.stat(victim).st_nlink >= 2
    assert victim.read_bytes() == data
    assert add_again() == 0  # linked again, it has the snapshot it had when found linked
    # an object added to the cache: another fingerprint, checked again
    ObjectCache(str(repo_dir / ".dvc" / "cache")).put_bytes(b"another object")
    assert add_again() == 1 and add_again() == 0
    # the cache type changed: checked again
    tide("config", "cache.type", "hardlink" if kind == "symlink" else "symlink", cwd=repo_dir)
    assert add_again() == 1


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_issue26_link_checkout_into_an_empty_place_makes_each_link_at_once(repo_dir, tide, kind, monkeypatch):
    """issue 26: a checkout on a link cache made each link under a temporary name, then renamed it (a rename
    and an lstat per file: 5.9 s of 70,000 files, dvc 7.9 s). Where nothing is in the way the link is made
    at its name; a file in the way is still replaced through a temporary name."""
    from tide.ops.checkout import checkout

    _tree(repo_dir, 30)
    tide("config", "cache.type", kind, cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    files = sorted((repo_dir / "data").rglob("*.txt"))
    want = {p: p.read_bytes() for p in files}
    renames: list[str] = []
    real = os.replace

    def counting(a, b, **kw):
        renames.append(str(b))
        return real(a, b, **kw)

    monkeypatch.setattr(os, "replace", counting)
    import shutil

    shutil.rmtree(repo_dir / "data")
    checkout(Repo.find(str(repo_dir)))
    assert [r for r in renames if "/data/" in r] == []
    assert {p: p.read_bytes() for p in files} == want
    assert all(os.path.islink(p) for p in files) if kind == "symlink" else all(os.stat(p).st_nlink >= 2 for p in files)
    victim = files[4]
    os.unlink(victim)
    victim.write_bytes(b"changed by hand")
    checkout(Repo.find(str(repo_dir)), force=True)
    assert renames == [str(victim)] and victim.read_bytes() == want[victim]
    assert not [n for n in os.listdir(victim.parent) if n.endswith(".tmp")]


def test_issue26_streamed_stamp_is_the_digest_of_the_sorted_rows(tmp_path):
    """``State.stamp`` walks the rows in SQLite's order instead of sorting them in memory; it must give
    the digest stamps were always made with (stored stamps are compared with it), whatever the names."""
    import hashlib
    import random

    from tide.workspace.state import State

    st = State(str(tmp_path / "state.db"))
    rng = random.Random(5)
    alphabet = ["a", "B", "z", "~", "-", ".", " ", "é", "ß", "\u00ff", "\u0100", "\u4e2d", "\U0001f600", "0", "/"]
    rows = {}
    for _ in range(3000):
        name = "d/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))).strip("/")
        md5 = f"{rng.randrange(1 << 128):032x}"
        rows[name] = (rng.randrange(1 << 40), rng.randrange(1 << 62), rng.randrange(1 << 20), md5)
    rows["d"] = (1, 2, 3, "0" * 32)
    rows["d0"] = rows["e/x"] = rows["c"] = rows["d-"] = (4, 5, 6, "f" * 32)  # outside d/: not in d's stamp
    st.save_many([(p, *r) for p, r in rows.items()])
    for prefix in ("d", "e", "nothing"):
        old = hashlib.md5(repr(sorted(st.lookup_prefix(prefix).items())).encode()).hexdigest()
        assert st.stamp(prefix) == old
    assert "d0" not in st.lookup_prefix("d") and "d-" not in st.lookup_prefix("d")
    assert len(st.lookup_prefix("d")) == sum(1 for p in rows if p == "d" or p.startswith("d/"))


def test_issue26_missing_answers_as_one_check_per_object(tmp_path):
    """``missing`` lists each two-letter directory once and keeps only the asked-for names: the answer
    (which ids, in their order) is the one an ``exists`` per id gives."""
    import random

    cache = ObjectCache(str(tmp_path / "cache"))
    rng = random.Random(7)
    present = [f"{rng.randrange(1 << 128):032x}" for _ in range(600)]
    for o in present:
        p = cache.path(o)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        Path(p).write_bytes(b"")
    absent = [f"{rng.randrange(1 << 128):032x}" for _ in range(600)]
    asked = present[:400] + absent + present[400:] + absent[:50]  # repeats too
    rng.shuffle(asked)
    want = [o for o in asked if not cache.exists(o)]
    assert cache.missing(asked) == want and len(want) == 650


@pytest.mark.parametrize("kind", ["copy", "hardlink", "symlink"])
def test_issue26_many_files_are_linked_on_two_threads_each_in_its_own_directories(tmp_path, monkeypatch, kind):
    """A checkout of many small files spends most of its time in the kernel (a new inode or link and
    a directory entry per file): from LINK_THREADS_MIN files on, a local disk gets two threads, each
    owning whole directories; fewer files, or one core, keep one. Every file arrives whole either way."""
    import threading

    from tide.objects import cache as cache_mod

    cache = ObjectCache(str(tmp_path / "cache"), (kind, "copy"))
    src = tmp_path / "src"
    src.mkdir()
    n = cache_mod.LINK_THREADS_MIN + 50
    items = []
    for i in range(n):
        p = src / f"f{i}"
        p.write_bytes(f"file {i}\n".encode())
        items.append((str(p), cache_md5(p), p.stat().st_size))
    cache.put_many(items)
    pairs = [(md5, str(tmp_path / "out" / f"d{i % 40}" / f"f{i}")) for i, (_, md5, _) in enumerate(items)]
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert cache._link_jobs(pairs) == 2 and cache._link_jobs(pairs[:4000]) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert cache._link_jobs(pairs) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    seen: dict[str, set[str]] = {}  # thread -> the directories it wrote into
    real = ObjectCache._materialize

    def spy(self, s, d, isexec):
        seen.setdefault(threading.current_thread().name, set()).add(os.path.dirname(d))
        return real(self, s, d, isexec)

    monkeypatch.setattr(ObjectCache, "_materialize", spy)
    stats = cache.link_many(pairs, stat=lambda i, s: (i, threading.current_thread().name, s))
    assert len(seen) == 2
    a, b = seen.values()
    assert not a & b and len(a | b) == 40
    assert len(stats) == n
    for i, (p, _, _) in enumerate(items):
        dst = tmp_path / "out" / f"d{i % 40}" / f"f{i}"
        assert dst.read_bytes() == Path(p).read_bytes()
        assert dst.is_symlink() == (kind == "symlink")
        # each stat is the item's own, taken in its linking thread, as a stat through the link finds it
        # (what the state row holds)
        i2, thread, s = stats[i]
        st = os.stat(dst)
        assert i2 == i and thread in seen and (s.st_ino, s.st_mtime_ns, s.st_size) == (st.st_ino, st.st_mtime_ns,
                                                                                       st.st_size)
    assert cache.link_many(pairs[:3]) == []  # no stats asked: none taken


@pytest.mark.parametrize("kind", ["copy", "symlink"])
def test_issue26_checkout_remembers_a_complete_directory_until_the_cache_changes(repo_dir, tide, kind,
                                                                                monkeypatch):
    """A checkout lists the cache to know that every object of a directory is there before it writes
    anything (70,000 files: ~0.12 s). Found complete, that is remembered against the cache's fingerprint:
    the next checkout lists nothing while no object was added or removed. An object removed since (its
    cache directory's mtime changes) is seen: the checkout fails for that output and writes nothing."""
    import shutil

    from tide.ops.checkout import checkout

    _tree(repo_dir, 40)
    tide("config", "cache.type", kind, cwd=repo_dir)
    tide("add", "data", cwd=repo_dir)
    _age(repo_dir / ".dvc" / "cache")  # the fingerprint ignores directories changed in the last second
    listed: list[int] = []
    real = ObjectCache.missing

    def counting(self, oids, legacy=False):
        listed.append(1)
        return real(self, oids, legacy)

    monkeypatch.setattr(ObjectCache, "missing", counting)
    shutil.rmtree(repo_dir / "data")
    checkout(Repo.find(str(repo_dir)))
    assert listed == [1]  # the first looks
    shutil.rmtree(repo_dir / "data")
    checkout(Repo.find(str(repo_dir)))
    assert listed == [1] and len(list((repo_dir / "data").rglob("*.txt"))) == 40  # the second knows
    victim = sorted((repo_dir / "data").rglob("*.txt"))[5]
    md5 = cache_md5(victim)
    obj = repo_dir / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    obj.unlink()
    os.utime(obj.parent, ns=(OLD, OLD + 1))  # even with an old mtime: it differs from the recorded one
    shutil.rmtree(repo_dir / "data")
    res = checkout(Repo.find(str(repo_dir)))
    assert listed == [1, 1] and res.failed == ["data"] and not (repo_dir / "data").exists()
