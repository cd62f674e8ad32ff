"""User mistakes and outside failures: one clear line on stderr, a non-zero exit, nothing written."""

from __future__ import annotations

import fcntl
import os

import pytest

from tests.conftest import breadth
from tests.foundation.conftest import make_tree


def _one_line_error(proc):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ERROR: ")
    return lines[0]


BAD_POINTERS = {
    "bad_yaml": ("outs: [\n- md5: x", "invalid YAML"),
    "not_mapping": ("- 1\n- 2\n", "expected a mapping"),
    "unknown_key": ("foo: bar\n", "unknown key 'foo'"),
    "no_outs": ("frozen: true\n", "'outs' must be a non-empty list"),
    "outs_not_list": ("outs: data\n", "outs: expected a list"),
    "bad_md5": ("outs:\n- md5: nothex\n  path: data\n", "invalid md5"),
    "bad_size": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: big\n  path: data\n",
                 "size: expected an integer"),
    "no_path": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n", "has no 'path'"),
    "escaping_path": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: ../../etc/passwd\n", "outside"),
    "absolute_path": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: /etc/passwd\n", "outside"),
    "into_dvc_dir": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: .dvc/config\n", "inside .dvc"),
    "unknown_hash": ("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  hash: sha1\n  path: data\n", "hash"),
    "binary": (b"\xff\xfe\x00garbage", "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_POINTERS))
@pytest.mark.parametrize("command", breadth([("status",), ("checkout",), ("fsck",), ("gc", "-w", "-f")], keep=2))
def test_malformed_pointer(repo_dir, tide, case, command):
    content, needle = BAD_POINTERS[case]
    p = repo_dir / "data.dvc"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = _one_line_error(tide(*command, cwd=repo_dir, check=False))
    assert "data.dvc" in line and needle in line
    assert not (repo_dir / "etc").exists()


def test_missing_md5_checkout(repo_dir, tide):
    (repo_dir / "data").write_text("content")
    (repo_dir / "data.dvc").write_text("outs:\n- path: data\n  hash: md5\n")
    line = _one_line_error(tide("checkout", cwd=repo_dir, check=False))
    assert "no recorded hash" in line
    assert "modified" in tide("status", cwd=repo_dir).stdout


@pytest.mark.parametrize(
    "target,needle",
    [
        ("../outside.txt", "outside the repository"),
        (".dvc/config", "inside .dvc/"),
        (".git/HEAD", "inside .git/"),
        ("missing.txt", "does not exist"),
        ("hello.txt.dvc", "is a .dvc file"),
        (".", "repository root"),
    ],
)
def test_bad_add_targets(repo_dir, tide, target, needle):
    (repo_dir / "hello.txt").write_text("hi")
    (repo_dir / "hello.txt.dvc").write_text("outs:\n- path: hello.txt\n")
    (repo_dir.parent / "outside.txt").write_text("x")
    line = _one_line_error(tide("add", target, cwd=repo_dir, check=False))
    assert needle in line


def test_symlinked_parent_escaping_repo(repo_dir, tide, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "f").write_text("x")
    os.symlink(outside, repo_dir / "link")
    line = _one_line_error(tide("add", "link/f", cwd=repo_dir, check=False))
    assert "symlink" in line
    assert not (outside / "f.dvc").exists()


def test_overlaps(repo_dir, tide):
    make_tree(repo_dir, {"data/a": b"a", "data/sub/b": b"b"})
    tide("add", "data", cwd=repo_dir)
    # a path inside a tracked directory updates that directory's tree, as in dvc (issue 27 f08)
    tide("add", "data/sub/b", cwd=repo_dir)
    assert not (repo_dir / "data/sub/b.dvc").exists()
    make_tree(repo_dir, {"outer/inner/x": b"x"})
    tide("add", "outer/inner", cwd=repo_dir)
    line = _one_line_error(tide("add", "outer", cwd=repo_dir, check=False))
    assert "contains 'outer/inner'" in line


def test_pipeline_output_overlap(repo_dir, tide):
    (repo_dir / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    outs:\n    - model.bin\n")
    (repo_dir / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  s:\n    cmd: echo\n    outs:\n    - path: model.bin\n"
        "      hash: md5\n      md5: b1946ac92492d2347c6235b4d2611184\n      size: 6\n"
    )
    (repo_dir / "model.bin").write_text("hello\n")
    line = _one_line_error(tide("add", "model.bin", cwd=repo_dir, check=False))
    assert "pipeline stage 's'" in line


def test_not_a_repo(tmp_path, tide):
    line = _one_line_error(tide("status", cwd=tmp_path, check=False))
    assert "tide init" in line


def test_init_outside_git(tmp_path, tide):
    line = _one_line_error(tide("init", cwd=tmp_path, check=False))
    assert "not inside a git repository" in line
    assert not (tmp_path / ".dvc").exists()
    tide("init", "--no-scm", cwd=tmp_path)
    assert (tmp_path / ".dvc/config").read_text() == "[core]\n    no_scm = True\n"
    (tmp_path / "f").write_text("x")
    tide("add", "f", cwd=tmp_path)
    assert not (tmp_path / ".gitignore").exists()
    _one_line_error(tide("init", cwd=tmp_path, check=False))



def test_read_only_cache(repo_dir, tide):
    """A cache that cannot be written: one clear line, no pointer file written."""
    (repo_dir / "f.txt").write_text("data")
    cache = repo_dir / ".dvc" / "cache"
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("not a directory")  # unwritable even for root
    line = _one_line_error(tide("add", "f.txt", cwd=repo_dir, check=False))
    assert "cache" in line
    assert not (repo_dir / "f.txt.dvc").exists()


def test_lock_held(repo_dir, tide):
    (repo_dir / "f.txt").write_text("data")
    lock = repo_dir / ".dvc/tmp/lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        env = dict(os.environ, TIDE_LOCK_TIMEOUT="0.3")
        line = _one_line_error(tide("add", "f.txt", cwd=repo_dir, check=False, env=env))
    assert "locked" in line
    assert not (repo_dir / "f.txt.dvc").exists()
    tide("add", "f.txt", cwd=repo_dir)


def test_malformed_config(repo_dir, tide):
    (repo_dir / ".dvc/config").write_text("[core\nremote = x\n")
    line = _one_line_error(tide("status", cwd=repo_dir, check=False))
    assert "config" in line


def test_bad_cache_type(repo_dir, tide):
    line = _one_line_error(tide("config", "cache.type", "teleport", cwd=repo_dir, check=False))
    assert "unknown link type" in line


def test_corrupt_manifest_in_cache(repo_dir, tide):
    make_tree(repo_dir, {"data/a": b"a"})
    tide("add", "data", cwd=repo_dir)
    manifest = next((repo_dir / ".dvc/cache").rglob("*.dir"))
    os.chmod(manifest, 0o644)
    manifest.write_text('[{"md5": "0cc175b9c0f1b6a831c399e269772661", "relpath": "../../escape"}]')
    (repo_dir / "data/a").unlink()
    line = _one_line_error(tide("checkout", cwd=repo_dir, check=False))
    assert "unsafe path" in line
    assert not (repo_dir.parent / "escape").exists()
    proc = tide("fsck", cwd=repo_dir, check=False)
    assert proc.returncode == 1 and "corrupt:" in proc.stdout


def test_unknown_command_and_option(tide, tmp_path):
    p = tide("statuss", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "did you mean 'status'" in p.stderr
    p = tide("add", "--bogus", cwd=tmp_path, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
