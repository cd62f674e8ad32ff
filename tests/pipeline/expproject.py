"""The one-stage training project the experiment tests run (``train.py`` reading ``params.yaml``'s ``train``,
writing ``model.txt`` and an uncached ``metrics.json``), committed on ``main``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tests.conftest import git

DVC_YAML = textwrap.dedent(f'''
    stages:
      train:
        cmd: {sys.executable} train.py
        deps: [train.py]
        params: [train]
        outs: [model.txt]
        metrics:
        - metrics.json:
            cache: false
''')


def train_project(d: Path, tide, train: str, params: str, files: dict[str, str] | None = None) -> Path:
    """``d`` made a git repository with tide initialised, the stage above, and ``files`` (path -> text)."""
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    (d / "train.py").write_text(train)
    (d / "params.yaml").write_text(params)
    (d / "dvc.yaml").write_text(DVC_YAML)
    tide("init", cwd=d)
    for rel, text in (files or {}).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "pipeline")
    return d
