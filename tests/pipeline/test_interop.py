"""tide and real dvc on the same pipelines: identical dvc.lock, each sees the other's work as its own."""

from __future__ import annotations

import json
import shutil

from tests.conftest import git

UP_TO_DATE = "Data and pipelines are up to date."


def _copy_project(src, dst):
    """The committed project only (no lock, outputs or cache): what a fresh clone has."""
    git(src.parent, "clone", "-q", str(src), str(dst))
    return dst


def test_seed_pipeline_tide_then_dvc(seed_repo, tmp_path, tide, dvc):
    other = _copy_project(seed_repo, tmp_path / "dvc-side")
    out = tide("repro", cwd=seed_repo).stdout
    assert "Running stage 'get_data'" in out and "Running stage 'train'" in out
    dvc("repro", cwd=other)
    # the same project reproduced by both tools gives the same dvc.lock, byte for byte
    assert (seed_repo / "dvc.lock").read_bytes() == (other / "dvc.lock").read_bytes()
    assert dvc("status", cwd=seed_repo).stdout.strip() == UP_TO_DATE
    rerun = dvc("repro", cwd=seed_repo).stdout
    assert "Running stage" not in rerun and "didn't change" in rerun
    assert (seed_repo / "model" / "metrics.txt").read_text().startswith("Accuracy: ")
    # outputs went to the cache in dvc's layout; the uncached metrics stay in git
    lock = (seed_repo / "dvc.lock").read_text()
    assert "md5:" in lock and ".dir" in lock
    gi = (seed_repo / ".gitignore").read_text().splitlines()
    assert "/data" in gi and "/model/metrics.txt" not in (seed_repo / "model" / ".gitignore").read_text()


def test_seed_pipeline_dvc_then_tide(seed_repo, tide, dvc):
    dvc("repro", cwd=seed_repo)
    assert tide("status", cwd=seed_repo).stdout.strip() == UP_TO_DATE
    out = tide("repro", cwd=seed_repo).stdout
    assert "Running stage" not in out and "didn't change" in out
    # a param change: both tools name the same changed stage and key
    (seed_repo / "params.yaml").write_text("train:\n  depth: 3\n  unused: 1\n")
    # and more changes: a dependency, a deleted output, the command; the same report as dvc's
    (seed_repo / "get_data.py").write_text((seed_repo / "get_data.py").read_text() + "\n# changed\n")
    shutil.rmtree(seed_repo / "model")
    dvc_yaml = (seed_repo / "dvc.yaml").read_text()
    (seed_repo / "dvc.yaml").write_text(dvc_yaml.replace("cmd: python train.py", "cmd: python train.py --v2"))
    ours = tide("status", cwd=seed_repo).stdout
    assert ours == dvc("status", cwd=seed_repo).stdout
    assert "changed command" in ours and "deleted:" in ours and "modified:           train.depth" in ours
    js = [run("status", "--json", cwd=seed_repo).stdout.strip() for run in (tide, dvc)]
    assert js[0] == js[1]
    (seed_repo / "dvc.yaml").write_text(dvc_yaml)
    tide("repro", cwd=seed_repo)
    assert dvc("status", cwd=seed_repo).stdout.strip() == UP_TO_DATE


def test_foreach_matrix_lock_identical(matrix_repo, tmp_path, tide, dvc):
    other = _copy_project(matrix_repo, tmp_path / "dvc-side")
    tide("repro", cwd=matrix_repo)
    dvc("repro", cwd=other)
    assert (matrix_repo / "dvc.lock").read_bytes() == (other / "dvc.lock").read_bytes()
    names = [line.split()[0] for line in dvc("stage", "list", cwd=matrix_repo).stdout.splitlines() if line.strip()]
    ours = [line.split()[0] for line in tide("stage", "list", cwd=matrix_repo).stdout.splitlines() if line.strip()]
    assert ours == names
    assert "grid@y-2" in ours and "sized@large" in ours
    assert dvc("status", cwd=matrix_repo).stdout.strip() == UP_TO_DATE
    assert tide("status", cwd=other).stdout.strip() == UP_TO_DATE
    assert (matrix_repo / "size-large.txt").read_text() == "5\n"


def test_run_cache_written_by_dvc_restores_in_tide_and_back(seed_repo, tide, dvc):
    dvc("repro", cwd=seed_repo)
    first = (seed_repo / "dvc.lock").read_bytes()
    (seed_repo / "params.yaml").write_text("train:\n  depth: 3\n  unused: 1\n")
    tide("repro", cwd=seed_repo)
    (seed_repo / "params.yaml").write_text("train:\n  depth: 5\n  unused: 1\n")
    out = tide("repro", cwd=seed_repo).stdout  # depth 5 ran before, under dvc: restored, not run
    assert "Stage 'train' is cached - skipping run, checking out outputs" in out
    assert "Running stage" not in out
    assert (seed_repo / "dvc.lock").read_bytes() == first
    (seed_repo / "params.yaml").write_text("train:\n  depth: 3\n  unused: 1\n")
    theirs = dvc("repro", cwd=seed_repo).stdout  # depth 3 ran under tide: dvc restores it
    assert "is cached" in theirs and "Running stage 'train'" not in theirs
    assert (seed_repo / "model" / "random_forest.joblib").read_text() == "model depth=3\n"


def test_run_cache_through_remote(seed_repo, tmp_path, tide, dvc):
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "store", str(remote), cwd=seed_repo)
    git(seed_repo, "add", "-A")
    git(seed_repo, "commit", "-qm", "remote")
    tide("repro", cwd=seed_repo)
    tide("push", "--run-cache", cwd=seed_repo)
    fresh = _copy_project(seed_repo, tmp_path / "ci-runner")  # an ephemeral runner: no cache, no outputs
    out = dvc("repro", "--pull", cwd=fresh).stdout
    assert "Running stage" not in out, out
    assert (fresh / "model" / "metrics.txt").read_text() == (seed_repo / "model" / "metrics.txt").read_text()
    # and the reverse: dvc pushes the run cache of a new run, tide on a fresh runner restores it
    # (only cached outputs travel: dvc does not push the objects of cache: false outputs)
    change = "\n# v2\n"
    with open(fresh / "get_data.py", "a") as f:
        f.write(change)
    dvc("repro", "get_data", cwd=fresh)
    dvc("push", "--run-cache", cwd=fresh)
    fresh2 = _copy_project(seed_repo, tmp_path / "ci-runner-2")
    with open(fresh2 / "get_data.py", "a") as f:
        f.write(change)
    out = tide("repro", "--pull", "get_data", cwd=fresh2).stdout
    assert "Stage 'get_data' is cached - skipping run" in out, out
    assert "Running stage" not in out
    assert (fresh2 / "dvc.lock").read_text() == (fresh / "dvc.lock").read_text().split("  train:")[0]


def test_metrics_and_params_diff_match_dvc(seed_repo, tide, dvc):
    tide("repro", cwd=seed_repo)
    (seed_repo / "extra.json").write_text('{"auc": 0.75, "loss": {"train": 0.5}}')
    dvc_yaml = (seed_repo / "dvc.yaml").read_text() + "metrics:\n- extra.json\n"
    (seed_repo / "dvc.yaml").write_text(dvc_yaml)
    git(seed_repo, "add", "-A")
    git(seed_repo, "commit", "-qm", "run 1")
    (seed_repo / "extra.json").write_text('{"auc": 0.8123456789, "loss": {"train": 0.25}, "new": 3}')
    (seed_repo / "params.yaml").write_text("train:\n  depth: 4\n  unused: 1\n")
    tide("repro", cwd=seed_repo)
    # dvc orders files by a set (varies per process): compare headers and the set of rows
    for args in (("metrics", "diff", "--md"), ("params", "diff", "--md"), ("params", "diff", "--all")):
        ours = tide(*args, cwd=seed_repo).stdout.splitlines()
        theirs = dvc(*args, cwd=seed_repo).stdout.splitlines()
        assert ours[:2] == theirs[:2] and sorted(ours) == sorted(theirs), args
    assert json.loads(tide("metrics", "diff", "--json", cwd=seed_repo).stdout) == json.loads(
        dvc("metrics", "diff", "--json", cwd=seed_repo).stdout)
    # the seed's plain-text metrics (dvc reads them as YAML; tide parses 'Key: value' lines)
    assert "model/metrics.txt" in tide("metrics", "show", cwd=seed_repo).stdout


def test_stage_add_writes_what_dvc_writes(repo_dir, tmp_path, tide, dvc, pyenv):
    other = tmp_path / "dvc-side"
    other.mkdir()
    git(other, "init", "-q")
    dvc("init", "-q", cwd=other)
    for d in (repo_dir, other):
        (d / "a.txt").write_text("a\n")
        (d / "params.yaml").write_text("lr: 1\nopt: {m: 2}\n")
        (d / "cfg.json").write_text('{"k": 1}')
    args = ["-n", "prep", "-d", "a.txt", "-p", "lr,opt.m", "-p", "cfg.json:", "-o", "b.txt", "-O", "c.txt",
            "-M", "m.json", "--plots-no-cache", "p.csv", "--outs-persist", "keep", "--desc", "prepare",
            "python -c \"open('b.txt','w').write('x: y')\""]
    tide("stage", "add", *args, cwd=repo_dir)
    dvc("stage", "add", *args, cwd=other)
    assert (repo_dir / "dvc.yaml").read_bytes() == (other / "dvc.yaml").read_bytes()
    assert (repo_dir / ".gitignore").read_text() == (other / ".gitignore").read_text()
