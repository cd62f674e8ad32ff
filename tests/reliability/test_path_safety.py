"""Path safety: a pointer, manifest or lock file naming ``..``, an absolute path, or a symlink that leads
out of the repository is refused with one error line, before anything is written (inside the
repository or outside it)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

PAYLOAD = b"payload that must never land outside the repository\n"


def snapshot(top: Path, skip: tuple[str, ...] = (".dvc/tmp",)) -> dict[str, tuple]:
    """Every entry under ``top`` (not following symlinks) with what identifies its content."""
    snap: dict[str, tuple] = {}
    for d, dirs, files in os.walk(top):
        rel_d = os.path.relpath(d, top)
        if any(rel_d == s or rel_d.startswith(s + "/") for s in skip):
            dirs[:] = []
            continue
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            if os.path.islink(p):
                snap[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                snap[rel] = ("dir", st.st_mode)
            else:
                snap[rel] = ("file", st.st_mode, hashlib.md5(Path(p).read_bytes()).hexdigest())
    return snap


@pytest.fixture
def world(tmp_path, tide, git_dir):
    """A repository with one cached object (PAYLOAD), an outside directory and a symlink to it."""
    repo = git_dir
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("outside data\n")
    tide("init", "-q", cwd=repo)
    (repo / "good.txt").write_bytes(PAYLOAD)
    tide("add", "-q", "good.txt", cwd=repo)
    (repo / "escape").symlink_to(outside, target_is_directory=True)
    return repo, outside


def refused(tide, repo: Path, outside: Path, *args: str) -> str:
    before = snapshot(repo), snapshot(outside)
    p = tide(*args, cwd=repo, check=False)
    assert p.returncode != 0, f"tide {' '.join(args)} accepted an unsafe path:\n{p.stdout}{p.stderr}"
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), p.stderr
    assert (snapshot(repo), snapshot(outside)) == before, f"tide {' '.join(args)} wrote something before refusing"
    return lines[0]


COMMANDS = [("status",), ("checkout",), ("checkout", "-f"), ("commit", "-f"), ("fsck",), ("gc", "-w", "-f"),
            ("add", "good.txt"), ("diff",)]
BAD_PATHS = ["../outside/pwn", "ABS/pwn", "sub/../../outside/pwn", "escape/pwn", ".dvc/config", ".git/config",
             ".dvc/cache/pwn"]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_pointer_with_unsafe_path_is_refused(world, tide, bad):
    repo, outside = world
    path = bad.replace("ABS", str(outside))
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    (repo / "evil.dvc").write_text(f"outs:\n- md5: {md5}\n  size: {len(PAYLOAD)}\n  hash: md5\n  path: {path}\n")
    for args in COMMANDS if bad == BAD_PATHS[0] else [("status",), ("checkout", "-f")]:
        msg = refused(tide, repo, outside, *args)
        assert "evil.dvc" in msg


def _bad_manifest(repo: Path, relpath: str) -> str:
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    raw = json.dumps([{"md5": md5, "relpath": "fine.txt"}, {"md5": md5, "relpath": relpath}], sort_keys=True).encode()
    oid = hashlib.md5(raw).hexdigest() + ".dir"
    obj = repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(raw)
    return oid


@pytest.mark.parametrize("relpath", ["../../outside/pwn", "/tmp/pwn", "a/../../pwn", "./x", "a//b", "a\\..\\b"])
def test_manifest_with_unsafe_entry_is_refused(world, tide, relpath):
    repo, outside = world
    oid = _bad_manifest(repo, relpath)
    (repo / "data.dvc").write_text(f"outs:\n- md5: {oid}\n  nfiles: 2\n  hash: md5\n  path: data\n")
    (repo / "good.txt").unlink()  # checkout would restore it: refusing must come before that too
    for args in [("checkout",), ("checkout", "-f"), ("gc", "-w", "-f"), ("fsck",)]:
        refused(tide, repo, outside, *args)
    assert not (repo / "data").exists() and not (repo / "good.txt").exists()


def test_manifest_with_unsafe_entry_is_refused_before_a_forced_replacement(world, tide):
    """issue 26 reads a directory's manifest only when it may write it: a file in the directory's place that
    --force would replace is still kept when the manifest is refused (it is read before the file goes)."""
    repo, outside = world
    oid = _bad_manifest(repo, "../../outside/pwn")
    (repo / "data.dvc").write_text(f"outs:\n- md5: {oid}\n  nfiles: 2\n  hash: md5\n  path: data\n")
    (repo / "data").write_text("a file where the directory goes\n")
    for args in [("checkout", "-f"), ("checkout", "-f", "data")]:
        refused(tide, repo, outside, *args)
    assert (repo / "data").read_text() == "a file where the directory goes\n"


def test_lock_file_with_unsafe_output_is_refused(world, tide):
    repo, outside = world
    (repo / "dvc.yaml").write_text("stages:\n  train:\n    cmd: echo hi\n    outs:\n    - model.bin\n")
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: echo hi\n    outs:\n"
        f"    - path: ../outside/pwn\n      hash: md5\n      md5: {md5}\n      size: {len(PAYLOAD)}\n"
    )
    for args in [("checkout", "-f"), ("gc", "-w", "-f"), ("fsck",), ("status",)]:
        refused(tide, repo, outside, *args)


@pytest.mark.parametrize("target", ["escape/new.txt", "../outside/keep.txt", "escape", ".dvc/config", ".git"])
def test_add_refuses_targets_outside(world, tide, target):
    repo, outside = world
    (outside / "new.txt").write_text("x")
    refused(tide, repo, outside, "add", target)


def test_checkout_never_writes_through_a_symlinked_output(world, tide):
    """Regression: when a tracked directory (or a directory inside it) was replaced by a symlink to a
    place outside the repository, checkout wrote the tracked files through the link, outside."""
    repo, outside = world
    (repo / "data" / "sub").mkdir(parents=True)
    (repo / "data" / "a.txt").write_text("a\n")
    (repo / "data" / "sub" / "b.txt").write_text("b\n")
    tide("add", "-q", "data", cwd=repo)
    for victim in ("data", "data/sub"):
        tide("checkout", "-q", "-f", cwd=repo)
        v = repo / victim
        for p in sorted(v.rglob("*"), reverse=True):
            p.chmod(0o755) if p.is_dir() else p.unlink()
            if p.is_dir():
                p.rmdir()
        v.rmdir()
        v.symlink_to(outside, target_is_directory=True)
        msg = refused(tide, repo, outside, "checkout")
        assert "symbolic link" in msg
        before = snapshot(outside)
        tide("checkout", "-q", "-f", cwd=repo)
        assert snapshot(outside) == before
        assert not v.is_symlink() and v.is_dir()
        assert (repo / "data" / "sub" / "b.txt").read_text() == "b\n"
    assert tide("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."
