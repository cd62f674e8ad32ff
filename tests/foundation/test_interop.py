"""tide and real dvc (3.67.1) write the same bytes and read each other's repositories."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import breadth, git
from tests.foundation.conftest import make_tree, snapshot

CASES = {
    "single_file": {"hello.txt": b"hello\n"},
    "empty_file": {"empty.bin": b""},
    "nested_dir": {
        "data/a.txt": b"a\n",
        "data/crlf.txt": b"crlf\r\nline\r\n",
        "data/sub/b.txt": b"b\n",
        "data/sub/deeper/c.txt": b"c" * 5000,
        "data/a-b/x": b"x",
        "data/a0": b"zero",
    },
    "empty_dir": {"data": None},
    "dir_with_empty_subdir": {"data/f": b"f", "data/empty": None},
    "non_ascii_and_spaces": {"données/été 2024.csv": b"x,y\n1,2\n", "données/日本語.txt": b"jp", "my file.txt": b"s"},
    "executable": {"tool.sh": (b"#!/bin/sh\necho hi\n", 0o755)},
    "yaml_tricky_names": {
        n: b"x"
        for n in ["yes", "1.0", "a: b", "#x", "- y", "L" * 120, "null", "~", "@at", "it's", "é", '"q"', "[br]",
                  "*star", "a#b", "x!", "0755", "1e5"]
    },
    "long_nested_path": {"dir with space/" + "M" * 90: b"m"},
    "exec_in_dir": {"bin/run.sh": (b"#!/bin/sh\n", 0o755), "bin/readme": b"r"},
}
KEPT_CASES = ("nested_dir", "non_ascii_and_spaces", "executable", "dir_with_empty_subdir", "yaml_tricky_names")


def _targets(spec):
    return sorted({rel.split("/")[0] for rel in spec})


@pytest.mark.parametrize("case", breadth(sorted(CASES, key=lambda c: c not in KEPT_CASES), keep=len(KEPT_CASES)))
def test_same_bytes_as_dvc(pair, tide, dvc, case):
    spec = CASES[case]
    t_dir, d_dir = pair
    for d, tool in ((t_dir, tide), (d_dir, dvc)):
        make_tree(d, spec)
        tool("add", *_targets(spec), cwd=d)
    assert snapshot(t_dir) == snapshot(d_dir)


def test_a_thousand_files_same_bytes(pair, tide, dvc):
    t_dir, d_dir = pair
    spec = {f"many/{i % 37:02d}/f{i:05d}.bin": os.urandom(64) + str(i).encode() for i in range(1000)}
    for d, tool in ((t_dir, tide), (d_dir, dvc)):
        make_tree(d, spec)
        tool("add", "many", cwd=d)
    a, b = snapshot(t_dir), snapshot(d_dir)
    assert a.keys() == b.keys()
    assert a == b


def test_large_file_same_bytes(pair, tide, dvc):
    t_dir, d_dir = pair
    chunk = os.urandom(1 << 20)
    for d, tool in ((t_dir, tide), (d_dir, dvc)):
        with open(d / "big.bin", "wb") as f:
            for i in range(100):
                f.write(chunk[i:] + chunk[:i])
        tool("add", "big.bin", cwd=d)
    assert (t_dir / "big.bin.dvc").read_bytes() == (d_dir / "big.bin.dvc").read_bytes()
    t_objs = sorted(p.relative_to(t_dir) for p in (t_dir / ".dvc/cache").rglob("*") if p.is_file())
    d_objs = sorted(p.relative_to(d_dir) for p in (d_dir / ".dvc/cache").rglob("*") if p.is_file())
    assert t_objs == d_objs and len(t_objs) == 1
    assert (t_dir / t_objs[0]).stat().st_size == 100 << 20


def _populate(d):
    make_tree(d, {**CASES["nested_dir"], **CASES["single_file"], **CASES["executable"]})


def test_dvc_reads_tide_repo(repo_dir, tide, dvc):
    _populate(repo_dir)
    tide("add", "data", "hello.txt", "tool.sh", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "tracked by tide")
    assert "Data and pipelines are up to date." in dvc("status", cwd=repo_dir).stdout
    # dvc checkout restores what tide tracked
    (repo_dir / "hello.txt").unlink()
    os.unlink(repo_dir / "data/sub/b.txt")
    (repo_dir / "tool.sh").unlink()
    dvc("checkout", cwd=repo_dir)
    assert (repo_dir / "hello.txt").read_bytes() == b"hello\n"
    assert (repo_dir / "data/sub/b.txt").read_bytes() == b"b\n"
    assert os.stat(repo_dir / "tool.sh").st_mode & stat.S_IXUSR
    # dvc gc -w keeps every object tide added
    before = sorted(p for p in (repo_dir / ".dvc/cache").rglob("*") if p.is_file())
    dvc("gc", "-w", "-f", cwd=repo_dir)
    after = sorted(p for p in (repo_dir / ".dvc/cache").rglob("*") if p.is_file())
    assert before == after and len(after) == 9
    assert "Data and pipelines are up to date." in tide("status", cwd=repo_dir).stdout


def test_tide_reads_dvc_repo(git_dir, tide, dvc):
    dvc("init", cwd=git_dir)
    _populate(git_dir)
    dvc("add", "data", "hello.txt", "tool.sh", cwd=git_dir)
    git(git_dir, "add", "-A")
    git(git_dir, "commit", "-qm", "tracked by dvc")
    assert tide("status", cwd=git_dir).stdout.strip() == "Data and pipelines are up to date."
    assert tide("status", "--json", cwd=git_dir).stdout.strip() == "{}"
    (git_dir / "hello.txt").unlink()
    (git_dir / "data/crlf.txt").unlink()
    (git_dir / "tool.sh").unlink()
    st = tide("status", "--json", cwd=git_dir).stdout
    assert '"hello.txt": "deleted"' in st and '"data": "modified"' in st
    tide("checkout", cwd=git_dir)
    assert (git_dir / "data/crlf.txt").read_bytes() == b"crlf\r\nline\r\n"
    assert (git_dir / "hello.txt").read_bytes() == b"hello\n"
    assert os.stat(git_dir / "tool.sh").st_mode & stat.S_IXUSR
    assert "Data and pipelines are up to date." in dvc("status", cwd=git_dir).stdout
    assert tide("fsck", cwd=git_dir).returncode == 0


def test_tide_add_after_dvc_modifies(git_dir, tide, dvc):
    """Both tools on one repository in turn: each sees the other's work as its own."""
    dvc("init", cwd=git_dir)
    make_tree(git_dir, {"data/a": b"1", "data/b": b"2"})
    dvc("add", "data", cwd=git_dir)
    (git_dir / "data/c").write_bytes(b"3")
    tide("add", "data", cwd=git_dir)
    assert "up to date" in dvc("status", cwd=git_dir).stdout
    os.chmod(git_dir / "data/a", 0o644)
    (git_dir / "data/a").write_bytes(b"changed")
    dvc("add", "data", cwd=git_dir)
    assert "up to date" in tide("status", cwd=git_dir).stdout
    text = (git_dir / "data.dvc").read_text()
    assert "nfiles: 3" in text


def test_legacy_dvc2_pointer_is_read(repo_dir, tide):
    """A DVC 2.x pointer (no ``hash:`` key) uses the legacy cache layout and md5-dos2unix."""
    from tide.core.hashing import file_md5_dos2unix

    f = repo_dir / "crlf.txt"
    f.write_bytes(b"crlf\r\nline\r\n")
    md5 = file_md5_dos2unix(f)
    assert md5 == "ea2dddc0f5cbc7826964e2185a2e8222"
    obj = repo_dir / ".dvc/cache" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(f.read_bytes())
    (repo_dir / "crlf.txt.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 12\n  path: crlf.txt\n")
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    f.unlink()
    tide("checkout", cwd=repo_dir)
    assert f.read_bytes() == b"crlf\r\nline\r\n"


def test_legacy_dvc2_directory_is_clean_until_changed(repo_dir, tide):
    """A DVC 2.x directory output (no ``hash:``; files hashed with md5-dos2unix, so a CRLF text file
    hashes differently than with plain md5) is up to date in status, and changes are still seen."""
    import json

    from tide.core.hashing import file_md5_dos2unix, md5_bytes

    data = repo_dir / "data"
    (data / "sub").mkdir(parents=True)
    (data / "crlf.txt").write_bytes(b"crlf\r\nline\r\n")
    (data / "sub" / "bin").write_bytes(bytes(range(256)))
    cache = repo_dir / ".dvc" / "cache"
    entries = []
    for rel in ("crlf.txt", "sub/bin"):
        md5 = file_md5_dos2unix(data / rel)
        obj = cache / md5[:2] / md5[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes((data / rel).read_bytes())
        entries.append({"md5": md5, "relpath": rel})
    raw = json.dumps(entries, sort_keys=True).encode()
    oid = md5_bytes(raw) + ".dir"
    (cache / oid[:2]).mkdir(exist_ok=True)
    (cache / oid[:2] / oid[2:]).write_bytes(raw)
    (repo_dir / "data.dvc").write_text(f"outs:\n- md5: {oid}\n  size: 268\n  nfiles: 2\n  path: data\n")
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    assert "up to date" in tide("status", cwd=repo_dir).stdout  # the remembered legacy tree
    (data / "crlf.txt").write_bytes(b"crlf\r\nline changed\r\n")
    assert "modified:" in tide("status", cwd=repo_dir).stdout
