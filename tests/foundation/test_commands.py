"""The versioning commands end to end through the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from tests.conftest import git
from tests.foundation.conftest import make_tree


def cache_files(repo):
    return sorted(str(p.relative_to(repo)) for p in (repo / ".dvc/cache").rglob("*") if p.is_file())


def test_add_writes_pointer_gitignore_and_hint(repo_dir, tide):
    make_tree(repo_dir, {"sub/deep/f.txt": b"hello\n"})
    out = tide("add", "sub/deep/f.txt", cwd=repo_dir).stdout
    assert "git add" in out and "sub/deep/f.txt.dvc" in out and "sub/deep/.gitignore" in out
    assert (repo_dir / "sub/deep/f.txt.dvc").read_text() == (
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f.txt\n"
    )
    assert (repo_dir / "sub/deep/.gitignore").read_text() == "/f.txt\n"
    assert cache_files(repo_dir) == [".dvc/cache/files/md5/b1/946ac92492d2347c6235b4d2611184"]
    obj = repo_dir / ".dvc/cache/files/md5/b1/946ac92492d2347c6235b4d2611184"
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    # adding again changes nothing; adding from inside the subdirectory works too
    tide("add", "f.txt", cwd=repo_dir / "sub/deep")
    assert (repo_dir / "sub/deep/.gitignore").read_text() == "/f.txt\n"


def test_autostage(repo_dir, tide):
    tide("config", "core.autostage", "true", cwd=repo_dir)
    (repo_dir / "m.bin").write_bytes(b"m")
    out = tide("add", "m.bin", cwd=repo_dir).stdout
    assert "staged" in out
    staged = git(repo_dir, "diff", "--cached", "--name-only").split()
    assert "m.bin.dvc" in staged and ".gitignore" in staged


def test_no_commit_then_commit(repo_dir, tide):
    (repo_dir / "f").write_text("one")
    tide("add", "--no-commit", "f", cwd=repo_dir)
    assert cache_files(repo_dir) == []
    assert json.loads(tide("status", "--json", cwd=repo_dir).stdout) == {
        "f.dvc": [{"changed outs": {"f": "not in cache"}}]
    }
    tide("commit", cwd=repo_dir)
    assert tide("status", "--json", cwd=repo_dir).stdout.strip() == "{}"
    (repo_dir / "f").write_text("two")
    assert "modified" in tide("status", cwd=repo_dir).stdout
    before = (repo_dir / "f.dvc").read_text()
    refused = tide("commit", "f.dvc", cwd=repo_dir, check=False)  # as dvc: a change needs -f (no terminal)
    assert refused.returncode == 1 and "unable to commit changed stage: 'f.dvc'" in refused.stderr
    assert (repo_dir / "f.dvc").read_text() == before
    assert "Updated 'f.dvc'" in tide("commit", "-f", "f.dvc", cwd=repo_dir).stdout
    assert "size: 3" in (repo_dir / "f.dvc").read_text()
    assert len(cache_files(repo_dir)) == 2


def test_commit_of_a_file_inside_a_tracked_directory_names_the_directory(repo_dir, tide):
    """dvc 3.67.1's `commit -f D/f` records the whole directory's new hash but stores only part of it
    (its own `status` then says `not in cache: D`); tide refuses, names the output to commit, changes nothing."""
    make_tree(repo_dir, {"D/f": b"1", "D/g": b"2"})
    tide("add", "D", cwd=repo_dir)
    before = (repo_dir / "D.dvc").read_text()
    (repo_dir / "D" / "f").write_text("11")
    r = tide("commit", "-f", "D/f", cwd=repo_dir, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "ERROR: 'D/f' is inside the tracked directory 'D': this command takes whole outputs, " \
                               "name 'D'"
    assert (repo_dir / "D.dvc").read_text() == before
    assert tide("commit", "-f", "D", cwd=repo_dir).returncode == 0 and (repo_dir / "D.dvc").read_text() != before


def test_add_glob_and_out(repo_dir, tide, tmp_path):
    make_tree(repo_dir, {"a.csv": b"1", "b.csv": b"2", "c.txt": b"3"})
    tide("add", "--glob", "*.csv", cwd=repo_dir)
    assert (repo_dir / "a.csv.dvc").exists() and (repo_dir / "b.csv.dvc").exists()
    assert not (repo_dir / "c.txt.dvc").exists()
    ext = tmp_path / "external"
    make_tree(ext, {"x/1": b"1", "x/2": b"2"})
    tide("add", str(ext / "x"), "-o", "imported", cwd=repo_dir)
    assert (repo_dir / "imported/2").read_bytes() == b"2"
    assert "nfiles: 2" in (repo_dir / "imported.dvc").read_text()


def test_dvcignore(repo_dir, tide):
    (repo_dir / ".dvcignore").write_text("*.log\nscratch/\n")
    make_tree(repo_dir, {"data/a": b"a", "data/x.log": b"log", "data/scratch/s": b"s",
                         "nested/.dvcignore": b"b\n", "nested/d/b": b"b", "nested/d/c": b"c"})
    tide("add", "data", "nested/d", cwd=repo_dir)
    assert "nfiles: 1" in (repo_dir / "data.dvc").read_text()
    assert "nfiles: 1" in (repo_dir / "nested/d.dvc").read_text()
    (repo_dir / "data/y.log").write_text("more log")
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    (repo_dir / "data/sub").mkdir()
    (repo_dir / "data/sub/.dvcignore").write_text("x\n")
    p = tide("add", "data", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "not allowed" in p.stderr


@pytest.mark.parametrize("link", ["copy", "hardlink", "symlink", "reflink,copy"])
def test_checkout_link_types(repo_dir, tide, link):
    tide("config", "cache.type", link, cwd=repo_dir)
    make_tree(repo_dir, {"data/a": b"a", "data/b/c": b"c", "f": b"f"})
    tide("add", "data", "f", cwd=repo_dir)
    if link in ("hardlink", "symlink"):
        a = repo_dir / "data/a"
        assert a.is_symlink() if link == "symlink" else a.stat().st_nlink == 2
    for p in ("data/a", "data/b/c", "f"):
        os.unlink(repo_dir / p)
    out = tide("checkout", cwd=repo_dir).stdout
    assert "M       data/" in out.splitlines() and "A       f" in out.splitlines()
    assert (repo_dir / "data/b/c").read_bytes() == b"c"
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    assert tide("checkout", cwd=repo_dir).stdout == ""


def test_checkout_relink(repo_dir, tide):
    (repo_dir / "f").write_text("f")
    tide("add", "f", cwd=repo_dir)
    assert (repo_dir / "f").stat().st_nlink == 1
    tide("config", "cache.type", "hardlink", cwd=repo_dir)
    tide("checkout", "--relink", cwd=repo_dir)
    assert (repo_dir / "f").stat().st_nlink == 2


def test_checkout_protects_uncached_changes(repo_dir, tide):
    make_tree(repo_dir, {"f": b"v1", "d/a": b"a"})
    tide("add", "f", "d", cwd=repo_dir)
    (repo_dir / "f").write_text("precious unsaved work")
    (repo_dir / "d/new").write_text("also precious")
    p = tide("checkout", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "--force" in p.stderr
    assert (repo_dir / "f").read_text() == "precious unsaved work"
    tide("checkout", "--force", cwd=repo_dir)
    assert (repo_dir / "f").read_text() == "v1"
    assert not (repo_dir / "d/new").exists()


def test_checkout_missing_cache(repo_dir, tide):
    (repo_dir / "f").write_text("x")
    tide("add", "f", cwd=repo_dir)
    for p in (repo_dir / ".dvc/cache").rglob("*"):
        if p.is_file():
            p.unlink()
    (repo_dir / "f").unlink()
    p = tide("checkout", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "missing from the cache" in p.stderr and "Traceback" not in p.stderr


def test_remove_and_move(repo_dir, tide):
    make_tree(repo_dir, {"data/a": b"a", "m.bin": b"m"})
    tide("add", "data", "m.bin", cwd=repo_dir)
    assert tide("move", "m.bin", "models/model.bin", cwd=repo_dir, check=False).returncode != 0  # as dvc
    (repo_dir / "models").mkdir()
    tide("move", "m.bin", "models/model.bin", cwd=repo_dir)
    assert (repo_dir / "models/model.bin").read_bytes() == b"m"
    assert "path: model.bin" in (repo_dir / "models/model.bin.dvc").read_text()
    assert (repo_dir / "models/.gitignore").read_text() == "/model.bin\n"
    assert not (repo_dir / "m.bin.dvc").exists()
    assert "m.bin" not in (repo_dir / ".gitignore").read_text()
    assert "up to date" in tide("status", cwd=repo_dir).stdout
    tide("remove", "data.dvc", cwd=repo_dir)
    assert not (repo_dir / "data.dvc").exists()
    assert (repo_dir / "data/a").read_bytes() == b"a"
    assert not (repo_dir / ".gitignore").exists()
    tide("remove", "--outs", "models/model.bin.dvc", cwd=repo_dir)
    assert not (repo_dir / "models/model.bin").exists()


def test_diff_between_revisions(repo_dir, tide):
    make_tree(repo_dir, {"data/a": b"a", "data/b": b"b", "m": b"1"})
    tide("add", "data", "m", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v1")
    os.chmod(repo_dir / "data/a", 0o644)
    (repo_dir / "data/a").write_text("A")
    (repo_dir / "data/c").write_text("c")
    (repo_dir / "m").unlink()
    res = json.loads(tide("diff", "--json", cwd=repo_dir).stdout)
    assert res["added"] == [{"path": "data/c"}]
    assert res["deleted"] == [{"path": "m"}]
    assert {"path": "data/a"} in res["modified"] and {"path": "data/"} in res["modified"]
    tide("add", "data", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v2")
    res = json.loads(tide("diff", "--json", "HEAD~1", "HEAD", cwd=repo_dir).stdout)
    assert res["added"] == [{"path": "data/c"}]
    assert "files summary" in tide("diff", "HEAD~1", "HEAD", cwd=repo_dir).stdout


def test_gc_scopes(repo_dir, tide):
    (repo_dir / "f").write_text("v1")
    tide("add", "f", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v1")
    git(repo_dir, "tag", "v1")
    os.chmod(repo_dir / "f", 0o644)
    (repo_dir / "f").write_text("v2")
    tide("add", "f", cwd=repo_dir)
    assert len(cache_files(repo_dir)) == 2
    p = tide("gc", cwd=repo_dir, check=False)
    assert p.returncode == 2 and "--workspace" in p.stderr
    assert "1 objects would be removed" in tide("gc", "-w", "--dry", cwd=repo_dir).stdout
    tide("gc", "-w", "-T", "-f", cwd=repo_dir)
    assert len(cache_files(repo_dir)) == 2
    p = tide("gc", "-w", cwd=repo_dir, check=False, input="")
    assert p.returncode != 0 and len(cache_files(repo_dir)) == 2
    tide("gc", "-w", "-f", cwd=repo_dir)
    assert len(cache_files(repo_dir)) == 1
    assert "up to date" in tide("status", cwd=repo_dir).stdout


def test_fsck_finds_corrupt_and_missing(repo_dir, tide):
    make_tree(repo_dir, {"d/a": b"a", "d/b": b"b", "f": b"f"})
    tide("add", "d", "f", cwd=repo_dir)
    assert tide("fsck", cwd=repo_dir).returncode == 0
    obj = repo_dir / ".dvc/cache/files/md5/0c/c175b9c0f1b6a831c399e269772661"  # md5("a")
    os.chmod(obj, 0o644)
    obj.write_text("tampered")
    (repo_dir / ".dvc/cache/files/md5/92/eb5ffee6ae2fec3ad71c777531578f").unlink()  # md5("b")
    p = tide("fsck", "--json", cwd=repo_dir, check=False)
    assert p.returncode == 1
    rep = json.loads(p.stdout)
    assert rep["corrupt"] == [str(obj)]
    assert rep["missing"] == ["d/b: 92eb5ffee6ae2fec3ad71c777531578f"]


def test_config_and_cache_dir(repo_dir, tide, tmp_path):
    tide("config", "core.remote", "myremote", cwd=repo_dir)
    assert tide("config", "core.remote", cwd=repo_dir).stdout.strip() == "myremote"
    tide("config", "--local", "cache.type", "hardlink,symlink", cwd=repo_dir)
    assert (repo_dir / ".dvc/config.local").read_text() == '[cache]\n    type = "hardlink,symlink"\n'
    listing = tide("config", "--list", cwd=repo_dir).stdout
    assert "core.remote=myremote" in listing and "cache.type=hardlink,symlink" in listing
    tide("config", "--unset", "core.remote", cwd=repo_dir)
    p = tide("config", "core.remote", cwd=repo_dir, check=False)
    assert p.returncode == 1
    p = tide("config", "core.nonsense", "1", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "unknown config option" in p.stderr
    tide("config", "--global", "core.autostage", "true", cwd=repo_dir)
    assert tide("config", "core.autostage", cwd=repo_dir).stdout.strip() == "true"
    assert tide("cache", "dir", cwd=repo_dir).stdout.strip() == str(repo_dir / ".dvc/cache")
    shared = tmp_path / "shared-cache"
    tide("cache", "dir", str(shared), cwd=repo_dir)
    (repo_dir / "f").write_text("x")
    tide("add", "f", cwd=repo_dir)
    assert (shared / "files/md5/9d/d4e461268c8034f5c8564e155c67a6").exists()


def test_config_written_like_dvc(repo_dir, tide, dvc, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    dvc("init", cwd=other)
    for d, tool in ((repo_dir, tide), (other, dvc)):
        tool("config", "core.autostage", "true", cwd=d)
        tool("config", "cache.type", "hardlink,symlink", cwd=d)
        tool("config", "--unset", "core.autostage", cwd=d)
    assert (repo_dir / ".dvc/config").read_bytes() == (other / ".dvc/config").read_bytes()


def test_version_and_help(tide, tmp_path):
    from tide import __version__

    assert tide("--version", cwd=tmp_path).stdout.strip() == __version__
    out = tide("--help", cwd=tmp_path).stdout
    for cmd in ("init", "add", "status", "checkout", "gc", "fsck"):
        assert f"  {cmd} " in out
    assert "--no-commit" in tide("add", "--help", cwd=tmp_path).stdout


def test_add_relinks_a_copied_file_of_a_large_directory_on_a_hardlink_cache(repo_dir, tide):
    """``add`` with nothing new checks a directory of many files for links from listings (inode numbers,
    ``_all_linked``): a file replaced by a copy of itself is found and linked again (as dvc's add
    relinks it); ``checkout`` leaves unchanged content as it is (as dvc's)."""
    import shutil

    tide("config", "cache.type", "hardlink", cwd=repo_dir)
    make_tree(repo_dir, {f"data/s{i % 3}/f{i:03}": f"file {i}\n".encode() for i in range(100)})
    tide("add", "data", cwd=repo_dir)
    cache = repo_dir / ".dvc" / "cache" / "files" / "md5"

    def obj(p):
        md5 = hashlib.md5(p.read_bytes()).hexdigest()
        return cache / md5[:2] / md5[2:]

    files = sorted((repo_dir / "data").rglob("f*"))
    assert all(os.path.samefile(p, obj(p)) for p in files)
    copied = files[50]
    shutil.copyfile(copied, copied.with_name("tmp"))
    os.replace(copied.with_name("tmp"), copied)
    assert not os.path.samefile(copied, obj(copied))
    assert tide("checkout", cwd=repo_dir).stdout == ""  # the content is unchanged: left as it is
    assert not os.path.samefile(copied, obj(copied))
    tide("add", "data", cwd=repo_dir)
    assert all(os.path.samefile(p, obj(p)) for p in files)
