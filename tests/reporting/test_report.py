"""tide report: metrics and params against a base revision, plots as linked images, user markdown."""

from __future__ import annotations

import sys

from tests.conftest import git

DVC_YAML = f"""stages:
  train:
    cmd: {sys.executable} train.py
    deps: [train.py]
    params: [lr]
    metrics: [{{metrics.json: {{cache: false}}}}]
    plots: [{{loss.csv: {{cache: false, x: step, y: loss}}}}]
"""
TRAIN = """import json, yaml
p = yaml.safe_load(open("params.yaml"))
json.dump({"acc": round(p["lr"] * 2, 3)}, open("metrics.json", "w"))
open("loss.csv", "w").write(f"step,loss\\n1,{p['lr']}\\n2,0.1\\n")
"""


def test_report_against_base(repo_dir, tide):
    (repo_dir / "dvc.yaml").write_text(DVC_YAML)
    (repo_dir / "train.py").write_text(TRAIN)
    (repo_dir / "params.yaml").write_text("lr: 0.3\n")
    tide("repro", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "base")
    (repo_dir / "params.yaml").write_text("lr: 0.4\n")
    tide("repro", cwd=repo_dir)
    (repo_dir / "intro.md").write_text("Retrained on today's data.\n")
    out = tide("report", "--base", "main", "--title", "nightly", "--md", "intro.md", cwd=repo_dir).stdout
    assert "Wrote report.md (1 image(s))" in out
    text = (repo_dir / "report.md").read_text()
    assert text.startswith("## nightly\n\nRetrained on today's data.\n")
    assert "| metrics.json | acc      | 0.6    | 0.8         | 0.2      |" in text
    assert "| params.yaml | lr      | 0.3    | 0.4         |" in text
    assert "![loss.csv.png](report_plots/loss.csv.png)" in text
    png = repo_dir / "report_plots/loss.csv.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_pipeline_and_bad_include(repo_dir, tide):
    out = tide("report", "--no-plots", "-o", "out/r.md", cwd=repo_dir).stdout
    assert "Wrote out/r.md" in out
    text = (repo_dir / "out/r.md").read_text()
    assert "_no metrics_" in text and "_no parameter changed_" in text
    p = tide("report", "--md", "missing.md", cwd=repo_dir, check=False)
    assert p.returncode == 1 and p.stderr.strip() == "ERROR: 'missing.md' does not exist"
