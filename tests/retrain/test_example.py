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


def test_example_pipeline_is_valid_for_real_dvc(tmp_path, tide, dvc):
    d = tmp_path / "ex"
    tide("init", "--example", d)
    out = dvc("dag", cwd=d).stdout
    assert "get_data" in out and "train" in out


def test_demo_runs_and_prints_where_to_look(tmp_path, tide, dvc):
    res = tide("demo", "--dir", tmp_path / "demo", cwd=tmp_path)
    ws = tmp_path / "demo"
    assert "Where to look" in res.stdout
    metrics = json.loads((ws / "model" / "metrics.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1.0
    assert (ws / "model" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    # real dvc agrees that the pipeline outputs are recorded and present in the cache
    st = dvc("status", "train", cwd=ws).stdout
    assert "changed" not in st, st
