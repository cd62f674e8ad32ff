"""Issue 27, third differential round (seeds 61601 and 61701): ``commit`` compared with dvc 3.67.1 in fresh
repositories (``git init; T init; T remote add -d r ../remote; commit``), and N61 (tide alone)."""

from __future__ import annotations

import os

import pytest

PIPELINE = """stages:
  s1:
    cmd: cat b > o1
    deps: [b]
    params: [epochs]
    outs: [o1]
  s2:
    cmd: "cat o1 > o2 && echo 1 > m2.json"
    deps: [o1]
    outs: [o2]
    metrics:
    - m2.json:
        cache: false
"""


def test_issue27_n62_commit_checks_every_output_before_writing(both):
    """N62 (seed 61701 sequence 685): ``commit -f`` where one stage of dvc.yaml never ran (its outputs do
    not exist): dvc fails and leaves dvc.lock as it was (it dumps a dvc.yaml's stages together); tide fails
    before writing anything, naming the missing output."""
    locks = []
    for r in both:
        r.sh("echo 1 > b && printf 'epochs: 1\\n' > params.yaml")
        (r.path / "dvc.yaml").write_text(PIPELINE)
        r.t("repro", "-q", "s1")
        r.sh("printf 'epochs: 2\\n' > params.yaml")
        before = (r.path / "dvc.lock").read_bytes()
        res = r.t("commit", "-q", "-f", check=False)
        assert res.returncode != 0, r.name
        assert (r.path / "dvc.lock").read_bytes() == before, r.name
        locks.append(before)
    assert locks[0] == locks[1]
    tide = both[1].t("commit", "-f", check=False)
    assert tide.stderr.strip().splitlines() == ["ERROR: output 'o2' does not exist"]


@pytest.mark.parametrize("link", ["hardlink", "symlink", "copy"])
def test_issue27_n61_an_object_rewritten_through_a_link_is_replaced_not_linked(repo_dir, tide, link):
    """N61: a tracked file rewritten in place through its link (root ignores the object's 444): the object
    named for ``good`` now holds other bytes. A new file with the content ``good`` is added: its object is
    stored again and the file keeps its bytes (before: linked to the corrupt object, its data was lost)."""
    tide("config", "cache.type", link, cwd=repo_dir)
    (repo_dir / "f").write_text("good\n")
    tide("add", "-q", "f", cwd=repo_dir)
    obj = next(p for p in (repo_dir / ".dvc" / "cache" / "files" / "md5").rglob("*") if p.is_file())
    os.chmod(obj, 0o644)
    obj.write_text("CORRUPT BYTES\n")  # what a write through the link does
    os.chmod(obj, 0o444)
    (repo_dir / "g").write_text("good\n")
    tide("add", "-q", "g", cwd=repo_dir)
    assert (repo_dir / "g").read_text() == "good\n"
    assert obj.read_text() == "good\n"
