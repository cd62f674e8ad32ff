"""Issue 17, the data-safety findings: tide's temporaries are tide's alone (finding 1), nothing is
deleted unless its keep set is complete (finding 3), one door into the cache (finding 5), and
non-UTF-8 file names (finding 12)."""

from __future__ import annotations

import os

from tests.conftest import git


def _commit(root, msg="c"):
    git(root, "add", "-A")
    git(root, "commit", "-qm", msg)


# --- finding 1: tide's temporaries are tide's alone ---------------------------------------------

# names a user may give files, that look like temporaries of tide (old and new form) or of dvc
TMP_LIKE = [".AAAAAAAAAAAAAAAAAAAAAA.tmp", ".tide-0123456789abcdef-1.tmp", "x.tide-unprotect",
            ".zzzzzzzzzzzzzzzzzzzzzz.tmp"]


def _dvc_file_md5(text):
    return {k.strip(): v.strip() for k, v in (ln.lstrip("- ").split(":", 1) for ln in text.splitlines()
                                               if ":" in ln)}


def test_issue17_f01_tmp_like_user_file_is_tracked(repo_dir, tide, dvc, tmp_path):
    """`.AAAAAAAAAAAAAAAAAAAAAA.tmp` in a tracked directory was dropped by `tide add` (nfiles 1,
    dvc: 2) and deleted by a later `tide checkout`, though it was in no cache."""
    import shutil

    d = repo_dir / "d"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("hi\n")
    for i, n in enumerate(TMP_LIKE):
        (d / n).write_text(f"precious {i}\n")
        (d / "sub" / n).write_text(f"precious sub {i}\n")
    theirs = tmp_path / "theirs"  # the same directory, tracked by dvc
    shutil.copytree(repo_dir, theirs)
    tide("add", "d", cwd=repo_dir)
    dvc("add", "d", cwd=theirs)
    mine, want = _dvc_file_md5((repo_dir / "d.dvc").read_text()), _dvc_file_md5((theirs / "d.dvc").read_text())
    assert mine["nfiles"] == want["nfiles"] == str(1 + 2 * len(TMP_LIKE))
    assert (mine["md5"], mine["size"]) == (want["md5"], want["size"])
    oid = mine["md5"]
    manifest = f".dvc/cache/files/md5/{oid[:2]}/{oid[2:]}"
    assert (repo_dir / manifest).read_bytes() == (theirs / manifest).read_bytes()
    assert "up to date" in dvc("status", cwd=repo_dir).stdout
    _commit(repo_dir)
    (d / "a.txt").unlink()
    tide("checkout", cwd=repo_dir)
    tide("checkout", "--relink", cwd=repo_dir)
    for i, n in enumerate(TMP_LIKE):
        assert (d / n).read_text() == f"precious {i}\n"
        assert (d / "sub" / n).read_text() == f"precious sub {i}\n"
    assert tide("status", "--json", cwd=repo_dir).stdout.strip() == "{}"
    assert "up to date" in dvc("status", cwd=repo_dir).stdout
    # checked out from the cache into an empty place, every one of them comes back
    shutil.rmtree(d)
    tide("checkout", cwd=repo_dir)
    assert sorted(p.name for p in d.iterdir()) == sorted(["a.txt", "sub", *TMP_LIKE])


def test_issue17_f01_killed_tide_temporary_is_recovered_user_lookalike_is_not(repo_dir, tide, dvc):
    """Crash recovery still works (RELIABILITY bugs 1 and 2): the temporary of a killed tide is left
    out of hashing and deleted by the next locked command; a user's file with the very name form of
    tide's temporaries, but of no journaled process, is data."""
    from tests.reliability.test_crash import killed_mid_write

    d = repo_dir / "d"
    d.mkdir()
    (d / "a.txt").write_text("a\n")
    tide("add", "d", cwd=repo_dir)
    _commit(repo_dir)
    pointer = (repo_dir / "d.dvc").read_text()
    leftover = killed_mid_write(repo_dir, d / "a.txt", dict(os.environ))
    name = os.path.basename(leftover)
    assert name.startswith(".tide-") and name.endswith(".tmp")
    lookalike = d / ".AAAAAAAAAAAAAAAAAAAAAA.tmp"  # the form tide's temporaries had before
    lookalike.write_text("mine\n")
    other = d / ".tide-fedcba9876543210-1.tmp"  # tide's form now, but a marker no process journaled
    other.write_text("mine too\n")
    r = tide("status", cwd=repo_dir)
    assert "modified" in r.stdout  # the user's two files are new data; the leftover is not
    tide("add", "d", cwd=repo_dir)
    assert not os.path.exists(leftover)
    assert lookalike.read_text() == "mine\n" and other.read_text() == "mine too\n"
    assert "nfiles: 3" in (repo_dir / "d.dvc").read_text() != pointer
    assert "up to date" in dvc("status", cwd=repo_dir).stdout
    assert not os.listdir(repo_dir / ".dvc" / "tmp" / "tide" / "temps")


def test_issue17_f01_temporaries_have_a_marker_per_process(tmp_path):
    """Names a journal hands out carry the process's marker; a forked child gets its own marker and
    journal; a journal goes once its process closes it."""
    from tide.core.temps import TempJournal

    j = TempJournal(str(tmp_path / "journal"), str(tmp_path))
    (tmp_path / "w").mkdir()
    names = {os.path.basename(j.name(str(tmp_path / "w" / "x"))) for _ in range(1000)}
    assert len(names) == 1000 and len({n.split("-")[1] for n in names}) == 1
    pid = os.fork()
    if pid == 0:
        with open(tmp_path / "child", "w") as f:
            f.write(os.path.basename(j.name(str(tmp_path / "w" / "x"))))
        os._exit(0)
    os.waitpid(pid, 0)
    child = (tmp_path / "child").read_text()
    assert child.split("-")[1] != next(iter(names)).split("-")[1]
    assert len(os.listdir(tmp_path / "journal")) == 2
    j.close()
    assert len(os.listdir(tmp_path / "journal")) == 1  # the child's (it ended without closing)
    assert j.recover() == 0 and not os.listdir(tmp_path / "journal")


# --- finding 12: a non-UTF-8 file name inside a directory given to `tide add` ---------------------

def test_issue17_f12_non_utf8_name_is_refused_in_one_line(repo_dir, tide):
    d = repo_dir / "d"
    d.mkdir()
    (d / "a.txt").write_text("hi\n")
    sub = d / "sub"
    sub.mkdir()
    with open(os.path.join(os.fsencode(sub), b"b\xff.txt"), "wb") as f:
        f.write(b"x")
    r = tide("add", "d", cwd=repo_dir, check=False)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "d/sub/b\\xff.txt" in lines[0] and "UTF-8" in lines[0]
    # nothing half-written: no pointer file, nothing in the cache, no .gitignore entry
    assert not (repo_dir / "d.dvc").exists()
    assert not (repo_dir / ".gitignore").exists()
    assert not (repo_dir / ".dvc" / "cache" / "files").exists()
    # the same name at the top, given by name
    with open(os.path.join(os.fsencode(repo_dir), b"top\xfe.bin"), "wb") as f:
        f.write(b"y")
    r = tide("add", os.fsdecode(b"top\xfe.bin"), cwd=repo_dir, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "top\\xfe.bin" in r.stderr and "UTF-8" in r.stderr
    # ignored, it is no obstacle: the rest of the directory is tracked
    (repo_dir / ".dvcignore").write_text("*.txt\n!a.txt\n")
    tide("add", "d", cwd=repo_dir)
    assert "nfiles: 1" in (repo_dir / "d.dvc").read_text()


# --- finding 3: nothing is deleted unless its keep set is complete --------------------------------

def _remote_files(remote):
    return sorted(str(p.relative_to(remote)) for p in remote.rglob("*") if p.is_file())


def _repo_with_pushed_dir(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    d = repo_dir / "d"
    d.mkdir()
    for i in range(3):
        (d / f"f{i}.txt").write_text(f"kept {i}\n")
    tide("add", "d", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    _commit(repo_dir)
    oid = next(ln.split()[-1] for ln in (repo_dir / "d.dvc").read_text().splitlines() if "md5:" in ln)
    return remote, oid


def test_issue17_f03_cloud_gc_aborts_when_a_kept_manifest_cannot_be_downloaded(
        repo_dir, tide, tmp_path, monkeypatch, capsys):
    """A transient failure while downloading a kept `.dir` manifest (grace period 0) used to be
    swallowed: the files it names were not kept and gc -c deleted them from the remote."""
    from tide.cli.main import main
    from tide.objects import transfer
    from tide.storage.base import StorageTransient

    remote, oid = _repo_with_pushed_dir(repo_dir, tide, tmp_path)
    cache = repo_dir / ".dvc" / "cache" / "files" / "md5"
    (cache / oid[:2] / oid[2:]).unlink()  # the manifest must come from the remote
    (repo_dir / "d" / "f0.txt").write_text("changed\n")  # nor from the workspace (N43: it would, unchanged)
    before = _remote_files(remote)
    assert len(before) == 4

    real = transfer.download

    def flaky(cache_, store, ref, *a, **kw):
        if ref.is_dir:
            raise StorageTransient(f"{ref.oid}: connection reset by peer")
        return real(cache_, store, ref, *a, **kw)

    monkeypatch.setattr(transfer, "download", flaky)
    monkeypatch.setenv("TIDE_GC_GRACE", "0")
    monkeypatch.chdir(repo_dir)
    rc = main(["gc", "-c", "-w", "-f"])
    err = capsys.readouterr().err
    assert rc != 0
    assert len(err.strip().splitlines()) == 1, err
    assert "gc aborted, nothing removed" in err and oid in err
    assert _remote_files(remote) == before
    # a dry run says what it could not read, and also fails
    rc = main(["gc", "-c", "-w", "--dry"])
    out = capsys.readouterr()
    assert rc != 0 and f"could not read manifest {oid}" in out.err and "would remove" not in out.out
    # healthy again: the manifest is read, nothing kept is removed
    monkeypatch.setattr(transfer, "download", real)
    assert main(["gc", "-c", "-w", "-f"]) == 0
    assert _remote_files(remote) == before


def test_issue17_f03_local_gc_aborts_when_a_kept_manifest_is_missing(repo_dir, tide, tmp_path):
    """Local gc skipped a kept manifest missing from the cache and deleted the files it names."""
    _, oid = _repo_with_pushed_dir(repo_dir, tide, tmp_path)
    cache = repo_dir / ".dvc" / "cache" / "files" / "md5"
    (cache / oid[:2] / oid[2:]).unlink()
    (repo_dir / "d" / "f0.txt").write_text("changed\n")  # not in the workspace either (N43: it would be read there)
    objects = sorted(p for p in cache.rglob("*") if p.is_file())
    assert len(objects) == 3
    for argv in (["gc", "-w", "-f"], ["gc", "-a", "-f"], ["gc", "-w", "--dry"]):
        r = tide(*argv, cwd=repo_dir, check=False)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert "gc aborted, nothing removed" in r.stderr and oid in r.stderr
        assert sorted(p for p in cache.rglob("*") if p.is_file()) == objects
    assert f"could not read manifest {oid}" in r.stderr  # the dry run lists it
    # an unreadable revision aborts too, rather than counting as one that keeps nothing
    (repo_dir / "d.dvc").write_text("outs: [\n")
    _commit(repo_dir, "broken")
    r = tide("gc", "-A", "-f", cwd=repo_dir, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert sorted(p for p in cache.rglob("*") if p.is_file()) == objects


# --- finding 5: one door into the cache ------------------------------------------------------------

PLANT = """
import hashlib, os
def put(claimed, actual):
    oid = hashlib.md5(claimed).hexdigest()
    p = f".dvc/cache/files/md5/{oid[:2]}/{oid[2:]}"
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(actual)
    print(oid)
put(b"honest\\n", b"EVIL\\n")      # wrong content under a hash
put(b"fine\\n", b"fine\\n")        # a good object next to it
"""


def _cache_objects(root):
    base = root / ".dvc" / "cache" / "files" / "md5"
    return {p.parent.name + p.name: p.read_bytes() for p in base.rglob("*") if p.is_file()} if base.exists() else {}


def test_issue17_f05_runner_import_refuses_wrong_content(repo_dir, tide):
    """Objects a `tide run` job leaves in its cache were written into the local cache unchecked: a
    job could plant wrong content under a hash, and it was pushed."""
    import hashlib
    import sys

    (repo_dir / "plant.py").write_text(PLANT)
    _commit(repo_dir, "plant")
    r = tide("run", "--on", "local", "--no-setup", "--no-push", "--", sys.executable, "plant.py",
             cwd=repo_dir, check=False)
    bad, good = hashlib.md5(b"honest\n").hexdigest(), hashlib.md5(b"fine\n").hexdigest()
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("ERROR: ") and bad in r.stderr and "refused" in r.stderr
    objects = _cache_objects(repo_dir)
    assert bad not in objects
    assert objects.get(good) == b"fine\n"  # verified objects of the same job are kept


def test_issue17_f05_fetch_and_pull_refuse_tampered_local_remote(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    (repo_dir / "small.txt").write_text("small and true\n")
    (repo_dir / "big.bin").write_bytes(os.urandom(3 << 20))  # past the in-memory path: a kernel copy
    (repo_dir / "d").mkdir()
    (repo_dir / "d" / "f.txt").write_text("in a directory\n")
    tide("add", "small.txt", "big.bin", "d", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    _commit(repo_dir)
    true = _cache_objects(repo_dir)
    for p in remote.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
            raw = p.read_bytes()
            p.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))  # one bit off, every object
    for argv in (["fetch"], ["pull", "-f"]):
        import shutil

        shutil.rmtree(repo_dir / ".dvc" / "cache")
        r = tide(*argv, cwd=repo_dir, check=False)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        got = _cache_objects(repo_dir)
        assert all(got[o] == true[o] for o in got), "a tampered object entered the cache"
        assert not got


def test_issue17_f05_the_door_refuses_wrong_bytes(tmp_path):
    """Every way into ObjectCache ends in admit/admit_bytes, which hash what they write (the
    exceptions, documented at ObjectCache.admit and store_hashed: a large or reflinked workspace file
    that `add` hashed a moment before is not read a second time; a small file's bytes are written as
    `add` has just hashed them)."""
    import hashlib

    import pytest

    from tide.core.errors import CacheError
    from tide.objects.cache import ObjectCache

    cache = ObjectCache(str(tmp_path / "cache"), ("copy",))
    lie = hashlib.md5(b"one").hexdigest()
    with pytest.raises(CacheError):
        cache.put_bytes(b"two", lie)  # a manifest or small file under another's name
    src = tmp_path / "f"
    src.write_bytes(b"two")
    with pytest.raises(CacheError):
        cache.put_many([(str(src), lie, 3)])  # add/commit reading the file
    tmp = cache.new_tmp(lie)
    with open(tmp, "wb") as f:
        f.write(b"two")
    with pytest.raises(CacheError):
        cache.admit(tmp, lie)  # a download without a digest is hashed by the door
    assert not os.path.exists(tmp)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cache.put_bytes(b"one", lie) == lie and cache.read_bytes(lie) == b"one"


def test_issue17_f05_nothing_else_writes_into_the_cache():
    """A lint: only objects/cache.py (the door) gives files their names in the cache. Modules that
    touch the cache's location do not write files themselves, except the ones listed, each for the
    reason given; objects/transfer.py writes temporaries only and hands each to ObjectCache.admit."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "tide"
    mentions = re.compile(r"cache_dir|cache\.root|cache_root|cache\.path\(|\"files\", \"md5\"|files/md5|\.dvc/cache")
    writes = re.compile(r"os\.replace\(|os\.rename\(|os\.link\(|os\.symlink\(|atomic_write|\.write_bytes\(|"
                        r"\.write_text\(|copyfile\(|shutil\.copy|new_files\.write|os\.O_CREAT|"
                        r"open\([^)]*[\"'][wxa]b?\+?[\"']")
    allowed = {
        "objects/cache.py": "the door: admit and admit_bytes",
        "objects/transfer.py": "downloads into temporaries, named only by ObjectCache.admit (checked below)",
        "pipeline/runcache.py": "the run cache's door: RunCache.save and RunCache.admit name entries by their hashes",
        "ops/add.py": "`add -o` copies into the workspace (a path the user names), not the cache",
        "ops/cloud_gc.py": "writes the remote's epoch marker in .dvc/tmp",
        "ops/exp_queue.py": "writes the queue's state in .dvc/tmp, a worker copy's config.local naming the cache and "
                            "the files a runner brought back into that copy (objects: run.py's admit_bytes)",
        "ops/run.py": "writes a tar of the job's files in memory; objects go through ObjectCache.admit_bytes",
        "core/config.py": "writes .dvc/config",
        "ops/cache_migrate.py": "`cache migrate --dvc-files` rewrites .dvc files; objects go through "
                                "ObjectCache.put_file/put_bytes",
        "ops/registry_get.py": "`get` writes git-tracked files of the source into the target the user names",
        "ops/registry_source.py": "copies the source repository's .dvc/config into a temporary directory",
        "storage/base.py": "get_file_resuming appends to the download temporary transfer.py hands it (admitted there)",
    }
    offenders = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        text = path.read_text()
        if mentions.search(text) and writes.search(text) and rel not in allowed:
            offenders.append(f"{rel}: {writes.search(text).group(0)}")
    assert not offenders, f"modules that may write into the cache outside its door: {offenders}"
    transfer = (src / "objects" / "transfer.py").read_text()
    assert not re.search(r"os\.replace\(|os\.rename\(|new_files\.write", transfer)
    assert "cache.admit(" in transfer and "admit_bytes(" in transfer
    run = (src / "ops" / "run.py").read_text()
    assert "atomic_write" not in run and "admit_bytes(" in run
    runs = (src / "objects" / "runs_transfer.py").read_text()
    assert not writes.search(runs.split("def fetch_runs", 1)[1])  # entries go through RunCache.admit


def test_issue17_f03_unlistable_workspace_directory_aborts_gc(repo_dir, tide, monkeypatch):
    """A directory of the workspace that cannot be listed may hold .dvc files: gc must not take
    their outputs for garbage (the walk used to skip it silently)."""
    import pytest

    from tide.ops import gc
    from tide.workspace.repo import Repo

    (repo_dir / "sub").mkdir()
    (repo_dir / "sub" / "m.txt").write_text("model\n")
    tide("add", "sub/m.txt", cwd=repo_dir)
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("/sub"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    repo = Repo.find(str(repo_dir))
    p = gc.plan(repo, workspace=True)
    assert p.unreadable and "'sub'" in p.unreadable[0]
    with pytest.raises(gc.IncompleteKeepSet):
        gc.execute(repo, p)
    assert len([f for f in (repo_dir / ".dvc" / "cache").rglob("*") if f.is_file()]) == 1
