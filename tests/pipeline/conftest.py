"""Fixtures for the pipeline suite: the seed's example as a two-stage pipeline (get_data -> train),
in miniature (pure Python, deterministic, fast), and a foreach/matrix pipeline."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.conftest import git

GET_DATA = textwrap.dedent('''
    import os, random
    random.seed(42)
    os.makedirs("data", exist_ok=True)
    rows = [(random.random(), random.random()) for _ in range(40)]
    for name, part in (("train", rows[:30]), ("test", rows[30:])):
        with open(f"data/{name}_features.csv", "w") as f:
            f.writelines(f"{a:.6f} {b:.6f}\\n" for a, b in part)
        with open(f"data/{name}_labels.csv", "w") as f:
            f.writelines(f"{int(a > b)}\\n" for a, b in part)
''')

TRAIN = textwrap.dedent('''
    import os, yaml
    p = yaml.safe_load(open("params.yaml"))["train"]
    feats = [tuple(map(float, l.split())) for l in open("data/test_features.csv")]
    labels = [int(l) for l in open("data/test_labels.csv")]
    pred = [int(a * p["depth"] > b * 5) for a, b in feats]
    acc = sum(int(x == y) for x, y in zip(pred, labels)) / len(labels)
    os.makedirs("model", exist_ok=True)
    open("model/metrics.txt", "w").write(f"Accuracy: {acc:.3f}\\n")
    open("model/random_forest.joblib", "w").write(f"model depth={p['depth']}\\n")
    with open("model/predictions.csv", "w") as f:
        f.write("actual,predicted\\n")
        f.writelines(f"{y},{x}\\n" for x, y in zip(pred, labels))
''')

SEED_DVC_YAML = textwrap.dedent('''
    stages:
      get_data:
        cmd: python get_data.py
        deps:
        - get_data.py
        outs:
        - data
      train:
        cmd: python train.py
        deps:
        - data
        - train.py
        params:
        - train.depth
        outs:
        - model/random_forest.joblib
        metrics:
        - model/metrics.txt:
            cache: false
        plots:
        - model/predictions.csv:
            cache: false
            template: confusion
            x: actual
            y: predicted
''')

MATRIX_DVC_YAML = textwrap.dedent('''
    vars:
    - sizes:
        small: 2
        large: 5
    stages:
      gen:
        foreach: ${models}
        do:
          cmd: echo ${item} ${seed} > gen-${item}.txt
          params:
          - seed
          - opts
          outs:
          - gen-${item}.txt
      sized:
        foreach: ${sizes}
        do:
          cmd: echo ${item} > size-${key}.txt
          deps:
          - gen-a.txt
          outs:
          - size-${key}.txt
      grid:
        matrix:
          m: [x, y]
          n: [1, 2]
        cmd: echo ${item.m}${item.n} > grid-${item.m}-${item.n}.txt
        deps:
        - gen-b.txt
        outs:
        - grid-${item.m}-${item.n}.txt
''')


def _python_env(tmp_path: Path) -> dict:
    """``python`` on PATH must be one with PyYAML, for the stage commands of both tools."""
    import os
    import sys

    bindir = tmp_path / "pybin"
    bindir.mkdir(exist_ok=True)
    link = bindir / "python"
    if not link.exists():
        link.symlink_to(sys.executable)
    env = dict(os.environ)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def pyenv(tmp_path, monkeypatch):
    env = _python_env(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    return env


@pytest.fixture
def seed_repo(repo_dir, pyenv):
    """The seed example as a pipeline, committed (no outputs yet)."""
    (repo_dir / "get_data.py").write_text(GET_DATA)
    (repo_dir / "train.py").write_text(TRAIN)
    (repo_dir / "params.yaml").write_text("train:\n  depth: 5\n  unused: 1\n")
    (repo_dir / "dvc.yaml").write_text(SEED_DVC_YAML.lstrip())
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "seed pipeline")
    return repo_dir


@pytest.fixture
def matrix_repo(repo_dir, pyenv):
    # YAML 1.2 scalars as dvc reads them: 1e-5 is a float, yes/off are strings
    (repo_dir / "params.yaml").write_text("seed: 7\nmodels: [a, b]\nopts: {scale: 1e-5, mode: yes, log: off}\n")
    (repo_dir / "dvc.yaml").write_text(MATRIX_DVC_YAML.lstrip())
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "matrix pipeline")
    return repo_dir


def clone_to(src: Path, dst: Path) -> Path:
    """A copy of a repository's committed and untracked files, without its cache or outputs."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("cache", "tmp"))
    return dst
