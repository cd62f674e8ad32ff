"""Issue 17, the data-safety findings: tide's temporaries are tide's alone (finding 1), nothing is
deleted unless its keep set is complete (finding 3), one door into the cache (finding 5), and
non-UTF-8 file names (finding 12)."""

from __future__ import annotations

import os

from tests.conftest import git


def _commit(root, msg="c"):
    git(root, "add", "-A")
    git(root, "commit", "-qm", msg)


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
