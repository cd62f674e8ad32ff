"""The example project (tide init --example) and tide demo."""

from __future__ import annotations

import json

from tests.conftest import git


def test_init_example_writes_project_and_refuses_overwrite(tmp_path, tide):
    d = tmp_path / "ex"
    tide("init", "--example", d)
    for name in ("get_data.py", "train.py", "params.yaml", "dvc.yaml", "tide.yaml", "requirements.txt", ".dvc/config"):
        assert (d / name).exists(), name
    staged = git(d, "diff", "--cached", "--name-only").split()
    assert "dvc.yaml" in staged and "tide.yaml" in staged
    again = tide("init", "--example", d, check=False)
    assert again.returncode != 0
    assert again.stderr.startswith("ERROR: ") and "--force" in again.stderr
    assert "Traceback" not in again.stderr


def test_example_pipeline_runs_under_real_dvc_and_tide_agrees(tmp_path, tide, dvc):
    import os
    import sys

    d = tmp_path / "ex"
    tide("init", "--example", d)
    out = dvc("dag", cwd=d).stdout
    assert "get_data" in out and "train" in out
    env = dict(os.environ, TIDE_DAY="3", MPLBACKEND="Agg",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    dvc("repro", cwd=d, env=env)
    metrics = json.loads((d / "model" / "metrics.json").read_text())
    assert metrics["train_rows"] == 100 + 3 * 150
    assert (d / "model" / "predictions.csv").read_text().count("\n") == 501
    st = tide("status", "--json", cwd=d).stdout
    assert json.loads(st) == {"get_data": ["always changed"]}, st


def test_demo_runs_the_loop_and_prints_where_to_look(tmp_path, tide, dvc, gto):
    res = tide("demo", "--dir", tmp_path / "demo", "--days", "2", cwd=tmp_path)
    top = tmp_path / "demo"
    ws = top / "project"
    assert "Where to look" in res.stdout and "index.html" in res.stdout
    assert (top / "forge.git" / "tide-forge" / "site" / "index.html").exists()
    assert (top / "forge.git" / "tide-forge" / "site" / "pr-2.html").exists()
    # day 1 is promoted (nothing in production), so the registry has a prod version GTO can read
    shown = json.loads(gto("show", "--json", cwd=ws).stdout)
    assert shown["example-model"]["stage"]["prod"] == "v0.0.1"
    assert shown["example-model"]["version"] == "v0.0.2"
    rec = json.loads((ws / "promotions" / "example-model" / "v0.0.1.json").read_text())
    assert rec["outcome"] == "promoted" and rec["deploy"]["ok"]
    assert json.loads((ws / "promotions" / "example-model" / "v0.0.2.json").read_text())["production"] == "v0.0.1"
    assert (ws / "deployed" / "random_forest.joblib").exists()
    # the remote storage holds what dvc needs: real dvc pulls the model into a fresh clone
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", top / "forge.git", clone)
    dvc("pull", cwd=clone)
    assert (clone / "model" / "random_forest.joblib").stat().st_size > 1000
