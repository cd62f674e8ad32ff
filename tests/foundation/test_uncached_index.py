"""Outputs that dvc.yaml declares ``cache: false`` have no object in the cache (as in dvc): every command
that reads dvc.lock's outputs (fsck, push, gc, status -c), in the workspace and at revisions, must know it
from dvc.yaml, since dvc.lock does not record the flag. (Found when uncached outputs stopped being cached:
fsck reported them missing after every retrain.)"""

import hashlib

from tests.conftest import git

DVC_YAML = """stages:
  s:
    cmd: cp a o && echo u > u && cp m.src m.json
    deps: [a]
    outs:
    - o
    - u:
        cache: false
    metrics:
    - m.json:
        cache: false
"""


def test_uncached_outputs_are_not_looked_for_in_the_cache(repo_dir, tide, dvc, tmp_path):
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "r", str(remote), cwd=repo_dir)
    (repo_dir / "a").write_text("data\n")
    (repo_dir / "m.src").write_text('{"acc": 1}\n')
    (repo_dir / "dvc.yaml").write_text(DVC_YAML)
    tide("repro", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "pipeline")
    out = tide("fsck", cwd=repo_dir).stdout
    assert "0 missing" in out, out
    tide("push", cwd=repo_dir)
    tide("push", "-A", cwd=repo_dir)  # every commit: outputs at revisions too
    data_md5 = hashlib.md5(b"data\n").hexdigest()
    assert _names(remote) == [data_md5[2:]]  # o only: u and m.json are not cached, so not pushed
    assert dvc("status", "-c", cwd=repo_dir).returncode == 0
    for cmd in (("gc", "-w", "-f"), ("gc", "-A", "-f")):
        tide(*cmd, cwd=repo_dir)
        assert "0 missing" in tide("fsck", cwd=repo_dir).stdout


def _names(remote):
    return sorted(p.name for p in remote.rglob("*") if p.is_file())
