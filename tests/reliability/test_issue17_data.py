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
