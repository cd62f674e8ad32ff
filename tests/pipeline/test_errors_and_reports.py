"""CLI behaviour on bad pipelines (one line, non-zero, no traceback), metrics at revisions, plots."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import git


def run_err(tide, cwd, *args):
    res = tide(*args, cwd=cwd, check=False)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), res.stderr
    return lines[0]


@pytest.mark.parametrize("yaml_text, expected", [
    ("stages:\n  a:\n    cmd: x\n    deps: [q]\n    outs: [p]\n  b:\n    cmd: y\n    deps: [p]\n    outs: [q]\n",
     "ERROR: dvc.yaml: the pipeline has a cycle:"),
    ("stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n",
     "ERROR: dvc.yaml: output 'o' of stage 'b' is also an output of stage 'a'"),
    ("stages:\n  a:\n    cmd: x\n    outs: [d]\n  b:\n    cmd: y\n    outs: [d/f]\n",
     "ERROR: dvc.yaml: output 'd/f' of stage 'b' is inside output 'd' of stage 'a'"),
    ("stages:\n  a:\n    cmd: echo ${nope.x}\n", "ERROR: dvc.yaml: stage 'a': 'nope' is not defined"),
    ("stages:\n  a:\n    cmd: x\n    typo: 1\n", "ERROR: dvc.yaml: stages > a: unknown key 'typo'"),
    ("stages:\n  a:\n    cmd: cat missing.txt\n    deps: [missing.txt]\n    outs: [o]\n",
     "ERROR: failed to reproduce 'a': dependency 'missing.txt' does not exist"),
    ("stages:\n  a:\n    cmd: 'true'\n    outs: [never.txt]\n",
     "ERROR: failed to reproduce 'a': output 'never.txt' does not exist"),
])
def test_bad_pipelines(repo_dir, tide, yaml_text, expected):
    (repo_dir / "dvc.yaml").write_text(yaml_text)
    line = run_err(tide, repo_dir, "repro")
    assert line.startswith(expected), line
    assert not (repo_dir / "dvc.lock").exists()


def test_bad_targets_and_params(repo_dir, tide):
    (repo_dir / "dvc.yaml").write_text("stages:\n  a:\n    cmd: 'true'\n    params: [lr]\n    outs: [o]\n")
    assert "'nope' is not a stage" in run_err(tide, repo_dir, "repro", "nope")
    assert "parameters file 'params.yaml' does not exist" in run_err(tide, repo_dir, "repro")
    (repo_dir / "params.yaml").write_text("other: 1\n")
    assert "parameters 'lr' are missing from 'params.yaml'" in run_err(tide, repo_dir, "repro")
    assert "already exists" in run_err(tide, repo_dir, "stage", "add", "-n", "a", "echo")
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "c")
    assert "unknown revision" in run_err(tide, repo_dir, "metrics", "diff", "no-such-rev")


def test_stage_output_overlapping_dvc_file(repo_dir, tide):
    (repo_dir / "data").mkdir()
    (repo_dir / "data" / "x").write_text("x")
    tide("add", "data", cwd=repo_dir)
    line = run_err(tide, repo_dir, "stage", "add", "-n", "s", "-o", "data", "echo")
    assert "already tracked by 'data.dvc'" in line
    assert not (repo_dir / "dvc.yaml").exists()


def test_metrics_at_revisions_from_git_and_cache(repo_dir, tide):
    (repo_dir / "dvc.yaml").write_text(textwrap.dedent("""
        stages:
          train:
            cmd: cp next.txt model/metrics.txt && cp next.json scores.json
            deps: [next.txt, next.json]
            outs:
            - model/metrics.txt
            metrics:
            - scores.json:
                cache: false
        metrics:
        - model/metrics.txt
    """).lstrip())
    (repo_dir / "model").mkdir()
    (repo_dir / "next.txt").write_text("Accuracy: 0.8\n")
    (repo_dir / "next.json").write_text('{"f1": 0.5}')
    tide("repro", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v1")
    git(repo_dir, "tag", "v1")
    (repo_dir / "next.txt").write_text("Accuracy: 0.868\n")
    (repo_dir / "next.json").write_text('{"f1": 0.75}')
    tide("repro", cwd=repo_dir)
    # model/metrics.txt is a cached output: at v1 it is read from the cache, not from git
    d = json.loads(tide("metrics", "diff", "v1", "--json", cwd=repo_dir).stdout)
    assert d["model/metrics.txt"]["Accuracy"]["old"] == 0.8
    assert d["model/metrics.txt"]["Accuracy"]["new"] == 0.868
    assert d["scores.json"]["f1"] == {"old": 0.5, "new": 0.75, "diff": 0.25}
    md = tide("metrics", "diff", "v1", "--md", cwd=repo_dir).stdout
    row = next(line for line in md.splitlines() if "Accuracy" in line)
    assert [c.strip() for c in row.strip("|").split("|")] == ["model/metrics.txt", "Accuracy", "0.8", "0.868", "0.068"]
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v2")
    shown = tide("metrics", "show", "-T", cwd=repo_dir).stdout
    assert "v1" in shown and "0.8" in shown and "0.868" in shown


def test_plots_show_and_diff(repo_dir, tide):
    (repo_dir / "loss.csv").write_text("step,loss\n0,1.0\n1,0.5\n")
    (repo_dir / "cm.json").write_text(json.dumps([{"actual": a, "predicted": p} for a, p in
                                                  ((0, 0), (1, 1), (1, 0), (0, 0))]))
    (repo_dir / "img.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (repo_dir / "dvc.yaml").write_text(textwrap.dedent("""
        plots:
        - loss.csv:
            x: step
            y: loss
            template: smooth
        - cm.json:
            template: confusion_normalized
            x: actual
            y: predicted
        - img.png
        - both:
            y:
              loss.csv: loss
            template: scatter
    """).lstrip())
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "plots")
    (repo_dir / "loss.csv").write_text("step,loss\n0,0.9\n1,0.4\n2,0.2\n")
    out = json.loads(tide("plots", "diff", "-o", "report", "--png", "--json", cwd=repo_dir).stdout)
    assert out["errors"] == []
    names = sorted(p.rsplit("/", 1)[-1] for p in out["images"])
    assert names == ["HEAD_img.png", "both.png", "cm.json.png", "loss.csv.png", "workspace_img.png"]
    for p in out["images"]:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    page = (repo_dir / "report" / "index.html").read_text()
    assert page.count("<section>") == 4 and 'src="HEAD_img.png"' in page and "<figcaption>workspace" in page
    show = tide("plots", "show", "loss.csv", "-t", "bar_horizontal", "--png", cwd=repo_dir).stdout
    assert show.strip().endswith("dvc_plots/index.html")
    assert "unknown template" in run_err(tide, repo_dir, "plots", "show", "loss.csv", "-t", "pie", "--png")
    assert "Template 'pie' not found" in run_err(tide, repo_dir, "plots", "show", "loss.csv", "-t", "pie")


def test_add_refuses_a_declared_stage_output(repo_dir, tide):
    (repo_dir / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo x > out.txt\n    outs: [out.txt]\n")
    (repo_dir / "out.txt").write_text("manual\n")
    assert "already an output of pipeline stage 's'" in run_err(tide, repo_dir, "add", "out.txt")
