"""tide retrain end to end on a small pure-Python pipeline: local forge, local storage, real dvc and GTO."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import git

TRAIN = """\
import json, os
wrong = int(open("params.yaml").read().split("wrong_every:")[1].split()[0])
if os.environ.get("FAIL_TRAINING"):
    raise SystemExit("training blew up")
os.makedirs("model", exist_ok=True)
open("model/model.bin", "w").write(f"model wrong_every={wrong}")
rows, correct = ["row,label,prediction"], 0
for i in range(300):
    y = i % 2
    p = 1 - y if (wrong and i % wrong == 0) else y
    correct += p == y
    rows.append(f"{i},{y},{p}")
open("model/preds.csv", "w").write("\\n".join(rows) + "\\n")
json.dump({"accuracy": round(correct / 300, 4), "recall": 0.8}, open("model/metrics.json", "w"))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    params:
    - lr
    - wrong_every
    outs:
    - model/model.bin
    - model/preds.csv:
        cache: false
    metrics:
    - model/metrics.json:
        cache: false
"""

TIDE_YAML = """\
registry:
  model: tiny
  path: model/model.bin
gate:
  metrics: model/metrics.json
  primary: {metric: accuracy, direction: higher, min_improvement: 0.0}
  predictions: model/preds.csv
  bootstrap: {samples: 200, seed: 0}
deploy:
  copy_to: deployed
retrain:
  base: main
  pr_files: [dvc.lock, params.yaml, model/metrics.json, model/preds.csv, model/.gitignore]
RUNNER"""


@pytest.fixture
def loop(tmp_path, tide):
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    tide("init", cwd=ws)
    (ws / "train.py").write_text(TRAIN)
    (ws / "dvc.yaml").write_text(DVC_YAML)
    (ws / "params.yaml").write_text("lr: 0.1\nwrong_every: 4\n")
    (ws / "tide.yaml").write_text(TIDE_YAML.replace("RUNNER", ""))
    (ws / ".gitignore").write_text("/deployed\n/promotions\n")
    tide("forge", "init", tmp_path / "forge.git", "--add-remote", "origin", cwd=ws)
    tide("remote", "add", "-d", "storage", tmp_path / "storage", cwd=ws)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "project")
    git(ws, "push", "-q", "origin", "main")
    return ws


def retrain(ws, *args, wrong=4, check=True, **extra):
    (ws / "params.yaml").write_text(f"lr: 0.1\nwrong_every: {wrong}\n")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ["PATH"], **extra)
    proc = subprocess.run([sys.executable, "-m", "tide", "retrain", "--json", *args], cwd=ws, env=env,
                          capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def comments(tmp_path, pr):
    d = tmp_path / "forge.git" / "tide-forge" / "comments" / "pr" / str(pr)
    return [json.loads(p.read_text())["body"] for p in sorted(d.glob("*.json"))] if d.exists() else []


def test_retrain_opens_pr_promotes_and_is_idempotent(loop, tmp_path, gto, dvc):
    ws = loop
    res = json.loads(retrain(ws, "--day", "2026-02-01").stdout.splitlines()[-1])
    assert res["outcome"] == "promoted" and res["version"] == "v0.0.1" and res["pr_number"] == 1
    assert [s for s, _ in res["steps"]] == ["prepare", "repro", "push", "pr", "register", "gate", "report"]
    body = comments(tmp_path, 1)
    assert len(body) == 1 and "Metrics vs `main`" in body[0] and "promoted" in body[0]
    # the local forge's report links into tide ui at its default address: this run's base against its candidate
    base = git(ws, "rev-parse", "main").strip()
    assert f"(http://127.0.0.1:8765/runs?a={base}&b=" in body[0]
    tags = git(tmp_path / "forge.git", "tag", "-l").split()
    assert tags == ["tiny#prod#1", "tiny@v0.0.1"]  # pushed to the forge
    assert json.loads((ws / "deployed" / "deployed.json").read_text())["version"] == "v0.0.1"
    # the same day and base commit again: the same PR and comment, nothing registered or promoted twice
    again = json.loads(retrain(ws, "--day", "2026-02-01").stdout.splitlines()[-1])
    assert again["pr_number"] == 1 and again["version"] == "v0.0.1" and again["outcome"] == "already-promoted"
    body = comments(tmp_path, 1)
    assert len(body) == 1 and "promoted" in body[0]
    assert git(tmp_path / "forge.git", "tag", "-l").split() == tags
    # the next day, a worse model: rejected with its evidence, production unchanged
    res = json.loads(retrain(ws, "--day", "2026-02-02", wrong=3, TIDE_UI_URL="https://ui.example:9000/tide/"
                             ).stdout.splitlines()[-1])
    assert res["outcome"] == "rejected" and res["version"] == "v0.0.2" and res["pr_number"] == 2
    body = comments(tmp_path, 2)[0]
    prod_commit = git(ws, "rev-list", "-n1", "tiny@v0.0.1").strip()
    assert "https://ui.example:9000/tide/runs?a=" in body and "127.0.0.1:8765" not in body  # TIDE_UI_URL wins
    assert f"[compare with production](https://ui.example:9000/tide/runs?a={prod_commit}&b=" in body
    assert "Metrics vs production (prod: v0.0.1)" in body and "rejected" in body and "interval" in body
    assert "| wrong_every | 4" in body  # the params diff against main
    assert json.loads(gto("show", "--json", cwd=ws).stdout)["tiny"]["stage"] == {"prod": "v0.0.1"}
    rec = json.loads((ws / "promotions" / "tiny" / "v0.0.2.json").read_text())
    assert rec["outcome"] == "rejected" and rec["metrics"][0]["interval"]["high"] < 0
    assert rec["extra"]["pr_url"] == res["pr_url"] and rec["extra"]["pr_url"].endswith("pr-2.html")  # tide ui links it
    # the PR branch is complete for real dvc: a clone of it pulls the model from the storage
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "-b", "main-tide-retrain-2026-02-02-" + git(ws, "rev-parse", "HEAD")[:8],
        tmp_path / "forge.git", clone)
    dvc("pull", cwd=clone)
    assert (clone / "model" / "model.bin").read_text() == "model wrong_every=3"


def test_failures_name_the_step_and_open_nothing(loop, tmp_path, tide):
    ws = loop
    res = retrain(ws, check=False, FAIL_TRAINING="1")
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ERROR: retrain: step 'repro' failed") and "Traceback" not in res.stderr
    assert not (tmp_path / "forge.git" / "tide-forge" / "pulls").exists() or not list(
        (tmp_path / "forge.git" / "tide-forge" / "pulls").glob("*.json"))
    git(ws, "checkout", "-q", "-b", "feature")
    res = retrain(ws, check=False)
    # refused up front, with the line that fixes it (issue 18: tide retrain runs the readiness check first)
    assert "retrain.base: HEAD is on 'feature'" in res.stderr and "git checkout main" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: not ready for tide retrain: 1 thing to fix")
    git(ws, "checkout", "-q", "main")
    (ws / "tide.yaml").write_text((ws / "tide.yaml").read_text() + "  get_data: 'exit 7'\n")
    res = retrain(ws, check=False)
    assert "step 'get-data' failed: 'exit 7' exited with 7" in res.stderr
    (ws / "tide.yaml").write_text("retrain:\n  base: main\n")
    res = retrain(ws, check=False)
    assert "registry.model: no registry.model" in res.stderr and "add to tide.yaml: registry: {model:" in res.stderr
    assert "gate.metrics: gate.metrics is 'metrics.json' (the default)" in res.stderr  # every piece at once
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: not ready for tide retrain: 2 things to fix")


def test_retrain_on_local_runner(loop, tmp_path):
    ws = loop
    (ws / "tide.yaml").write_text(TIDE_YAML.replace("RUNNER", "  runner: local\n  get_data: 'exit 5'\n"))
    failed = retrain(ws, check=False)
    assert "ERROR: retrain: step 'runner' failed:" in failed.stderr and "ended with 5" in failed.stderr
    (ws / "tide.yaml").write_text(TIDE_YAML.replace("RUNNER", "  runner: local\n  get_data: 'echo fetched'\n"))
    git(ws, "commit", "-q", "-am", "runner")
    git(ws, "push", "-q", "origin", "main")
    res = json.loads(retrain(ws, "--day", "2026-03-01").stdout.splitlines()[-1])
    assert [s for s, _ in res["steps"]][:3] == ["prepare", "runner", "push"]
    assert res["outcome"] == "promoted"
    runner_note = dict(res["steps"])["runner"]
    assert "torn down" in runner_note
    assert not [b for b in git(ws, "branch").split() if b.startswith("tide-run/")]
    assert (ws / "model" / "model.bin").read_text() == "model wrong_every=4"


def test_failed_deploy_is_reported_and_keeps_production(loop, tmp_path, gto):
    ws = loop
    (ws / "tide.yaml").write_text(TIDE_YAML.replace("copy_to: deployed", "command: 'echo no space left >&2; exit 9'")
                                  .replace("RUNNER", ""))
    git(ws, "commit", "-q", "-am", "deploy by command")
    git(ws, "push", "-q", "origin", "main")
    res = retrain(ws, "--day", "2026-04-01", check=False)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: retrain: step 'deploy' failed: ")
    assert "exited with 9: no space left" in res.stderr
    body = comments(tmp_path, 1)[0]
    assert "deploy-failed" in body and "FAILED" in body
    assert "prod" not in json.loads(gto("show", "--json", cwd=ws).stdout)["tiny"]["stage"]
