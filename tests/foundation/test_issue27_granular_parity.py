"""Issue 27, N64: a target inside a tracked directory (dvc's granular targets, ``collect_granular`` /
``filter_info``) for ``status``, ``status -c``, ``fetch``, ``pull`` and ``checkout``, compared with dvc
3.67.1 step by step in a fresh clone: exit status, workspace files, cache objects, ``--json`` output."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import git
from tests.foundation.conftest import ToolRepo


def _workspace(r):
    found = {}
    for d, dirs, files in os.walk(r.path):
        dirs[:] = [x for x in dirs if x not in (".git", ".dvc")]
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                found[os.path.relpath(p, r.path)] = fh.read()
    return found


def _state(r):
    return _workspace(r), r.cache_files()


@pytest.fixture
def clones(both, tmp_path):
    """Each tool's repository with ``d/x``, ``d/sub/y``, ``d/sub/z`` added, pushed and committed, and a
    fresh clone of it (no cache)."""
    out = []
    for r in both:
        r.sh("mkdir -p d/sub && echo 1 > d/x && echo 2 > d/sub/y && echo 3 > d/sub/z")
        r.t("add", "-q", "d")
        r.t("push", "-q")
        git(r.path, "add", "-A")
        git(r.path, "commit", "-qm", "c")
        clone = tmp_path / f"{r.name}-c1"
        subprocess.run(["git", "clone", "-q", str(r.path), str(clone)], check=True)
        out.append(ToolRepo(r.name, r.run, clone))
    return out


def _step(clones, *args, json_out=False):
    """Run ``args`` in both clones; the exit status (zero or not), the workspace, the cache and (with
    ``json_out``) the printed JSON (parsed: dvc's key order may vary) must agree."""
    got = []
    for r in clones:
        res = r.t(*args, check=False)
        shown = json.loads(res.stdout) if json_out and res.returncode == 0 else None
        got.append((res.returncode == 0, shown, *_state(r)))
    assert got[0] == got[1], (args, got)
    return got[0]


def test_issue27_n64_granular_targets_status_fetch_pull_checkout(clones):
    ok, out, _, _ = _step(clones, "status", "--json", "d/x", json_out=True)
    assert ok and out == {"d.dvc": [{"changed outs": {"d": "not in cache"}}]}  # the whole output's state
    ok, out, _, cache = _step(clones, "status", "-c", "--json", "d/x", json_out=True)
    assert ok and out == {"d/x": "deleted"} and len(cache) == 1  # the manifest, downloaded
    ok, out, _, _ = _step(clones, "status", "-c", "--json", "-d", "d/sub", json_out=True)
    assert ok and out == {"d/sub/y": "deleted", "d/sub/z": "deleted"}  # -d keeps the part
    assert _step(clones, "status", "-c", "--json", "d/none", json_out=True)[1] == {}
    ok, _, ws, cache = _step(clones, "fetch", "d/sub")
    assert ok and len(cache) == 3 and "d/sub/y" not in ws
    ok, _, ws, _ = _step(clones, "checkout", "d/sub/y")  # that file alone
    assert ok and ws["d/sub/y"] == b"2\n" and "d/sub/z" not in ws and "d/x" not in ws
    ok, _, ws, cache = _step(clones, "pull", "d/x")
    assert ok and ws["d/x"] == b"1\n" and "d/sub/z" not in ws and len(cache) == 4
    for r in clones:  # a sibling outside the part and a changed file inside it
        r.sh("echo s > d/sibling; echo 9 > d/sub/y; echo e > d/sub/extra")
    assert not _step(clones, "checkout", "d/sub")[0]  # changes not in the cache: refused, nothing written
    ok, _, ws, _ = _step(clones, "checkout", "-f", "d/sub")
    assert ok and ws["d/sub/y"] == b"2\n" and ws["d/sub/z"] == b"3\n" and "d/sub/extra" not in ws
    assert ws["d/sibling"] == b"s\n"  # never touched: outside the target
    ok, out, _, _ = _step(clones, "status", "--json", "d/sub/y", json_out=True)
    assert ok and out == {"d.dvc": [{"changed outs": {"d": "modified"}}]}
    assert not _step(clones, "status", "--json", "nowhere/x")[0]  # in no tracked output: an error
    for r in clones:
        r.sh("echo 8 > d/sub/z")
    ok, out, _, _ = _step(clones, "diff", "--json", "--targets", "d/none", "d/sub", json_out=True)
    assert ok and out["modified"] == [{"path": "d/sub/z"}]
    assert _step(clones, "diff", "--json", "--targets", "d/none", json_out=True)[1] == {}
    assert not _step(clones, "diff", "--json", "--targets", "nowhere")[0]


def test_issue27_n64_granular_target_whose_manifest_is_nowhere(clones):
    for r in clones:  # the remote loses everything: the manifest is neither cached nor on the remote
        remote = os.path.join(os.path.dirname(r.path), f"remote-{r.name}")
        subprocess.run(["rm", "-rf", os.path.join(remote, "files")], check=True)
    assert _step(clones, "fetch", "d/x")[0]  # a warning, exit 0 (as a whole-output fetch)
    assert not _step(clones, "checkout", "d/x")[0]
    assert not _step(clones, "pull", "d/sub")[0]
    # exit 0 both; the output differs as for the whole directory (tide lists it "missing", dvc prints {})
    assert _step(clones, "status", "-c", "--json", "d/x")[0]


def _remote(r):
    base = os.path.join(os.path.dirname(r.path), f"remote-{r.name}", "files", "md5")
    return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)


def test_issue27_n64_granular_push_sends_the_part_and_an_honest_manifest(both):
    """``push d/x`` sends ``d/x`` alone, as dvc. dvc also uploads the manifest, after which its ``status -c``
    and ``push`` take ``d/sub/*`` (never sent) for present; tide uploads a manifest only once the remote has
    every file of the directory (docs/versioning.md), so nothing is hidden."""
    for r in both:
        r.sh("mkdir -p d/sub && echo 1 > d/x && echo 2 > d/sub/y && echo 3 > d/sub/z")
        r.t("add", "-q", "d")
        assert r.t("push", "d/x", check=False).returncode == 0
    dvc_remote, tide_remote = (_remote(r) for r in both)
    x = "b0/26324c6904b2a9cb4b88d6d61c81d1"
    assert [o for o in dvc_remote if not o.endswith(".dir")] == [x] and tide_remote == [x]
    dvc_repo, tide_repo = both
    assert dvc_repo.j("status", "-c", "--json") == {}  # dvc's remote now claims the whole directory
    assert tide_repo.j("status", "-c", "--json", "d/sub") == {"d": "new", "d/sub/y": "new", "d/sub/z": "new"}
    tide_repo.t("push", "-q", "d/sub")  # the rest arrives: the manifest follows
    assert len(_remote(tide_repo)) == 4 and tide_repo.j("status", "-c", "--json") == {}


def test_issue27_n64_granular_target_inside_a_stage_output(both):
    """A path inside a stage's directory output names that stage for ``status`` and that part for
    ``checkout``, as for a .dvc-tracked directory."""
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: mkdir -p o/s && echo 1 > o/a && echo 2 > o/s/b\\n    outs: [o]\\n'"
             " > dvc.yaml")
        r.t("repro", "-q")
        r.sh("rm -rf o")
    got = _step(both, "status", "--json", "o/s", json_out=True)[1]
    assert got == {"s": [{"changed outs": {"o": "deleted"}}]}
    ok, _, ws, _ = _step(both, "checkout", "o/s/b")
    assert ok and ws["o/s/b"] == b"2\n" and "o/a" not in ws
    assert _step(both, "status", "--json", "o/none", json_out=True)[0]
