"""The promotion gate (paired bootstrap, guards), promotion records and deploy."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import git
from tide.core.settings import GateSettings, MetricRule
from tide.registry.gate import evaluate, paired_bootstrap

RULE = MetricRule("accuracy", "higher", 0.0)


def rows(n, wrong, seed):
    rng = random.Random(seed)
    labels = [str(rng.randrange(2)) for _ in range(n)]
    bad = set(rng.sample(range(n), wrong))
    return {str(i): (y, (str(1 - int(y)) if i in bad else y)) for i, y in enumerate(labels)}


def test_bootstrap_identical_models_interval_is_zero():
    r = list(rows(200, 30, 1).values())
    iv = paired_bootstrap("accuracy", r, r, RULE, 200, 0.95, 0)
    assert iv.low == iv.high == 0.0 and iv.rows == 200


def _bootstrap_with_randrange(metric, cand, prod, rule, samples, confidence, seed):
    from tide.registry.gate import METRICS, Interval, improvement

    rng, n, diffs = random.Random(seed), len(cand), []
    for _ in range(samples):
        idx = [rng.randrange(n) for _ in range(n)]
        diffs.append(improvement(rule, METRICS[metric]([cand[i] for i in idx], "1"),
                                 METRICS[metric]([prod[i] for i in idx], "1")))
    diffs.sort()
    alpha = (1 - confidence) / 2
    return Interval(round(diffs[max(0, int(alpha * samples))], 6),
                    round(diffs[min(samples - 1, int((1 - alpha) * samples) - 1)], 6), confidence, samples, n)


@pytest.mark.parametrize("n", [1, 7, 300])
def test_issue24_bootstrap_draws_the_rows_randrange_draws(n):
    # the soak's speed-up of the bootstrap (one getrandbits loop instead of randrange) decides exactly
    # as before: same intervals for every metric and size
    a, b = list(rows(n, n // 5, 3).values()), list(rows(n, n // 3, 3).values())
    for metric in ("accuracy", "error", "precision", "recall", "f1"):
        for seed in (0, 5):
            assert paired_bootstrap(metric, a, b, RULE, 101, 0.9, seed) == \
                _bootstrap_with_randrange(metric, a, b, RULE, 101, 0.9, seed)


def test_bootstrap_clearly_better_candidate_clears_zero():
    labels = rows(400, 0, 2)
    prod = {k: (y, p if int(k) % 4 else str(1 - int(y))) for k, (y, p) in labels.items()}  # 25 % wrong
    cand = {k: (y, p if int(k) % 10 else str(1 - int(y))) for k, (y, p) in labels.items()}  # 10 % wrong
    cfg = GateSettings(primary=RULE, samples=300)
    d = evaluate(cfg, {"accuracy": 0.9}, {"accuracy": 0.75}, cand, prod, "v0.0.1")
    primary = d.results[0]
    assert d.promote and primary.interval is not None
    assert 0.05 < primary.interval.low < primary.improvement < primary.interval.high
    # a minimum improvement above the interval blocks it
    strict = GateSettings(primary=MetricRule("accuracy", "higher", 0.3), samples=300)
    assert not evaluate(strict, {"accuracy": 0.9}, {"accuracy": 0.75}, cand, prod, "v0.0.1").promote


def test_small_noisy_gain_is_not_promoted_but_point_estimate_would_be():
    labels = rows(100, 0, 3)
    prod = {k: (y, p if int(k) % 5 else str(1 - int(y))) for k, (y, p) in labels.items()}
    cand = dict(prod)
    cand["0"] = (labels["0"][0], labels["0"][0])  # one row fixed: +1 %
    cfg = GateSettings(primary=RULE, samples=500)
    paired = evaluate(cfg, {"accuracy": 0.81}, {"accuracy": 0.80}, cand, prod, "v1")
    assert not paired.promote and "does not clear" in paired.reasons[0]
    unpaired = evaluate(cfg, {"accuracy": 0.81}, {"accuracy": 0.80}, None, None, "v1")
    assert unpaired.promote


def test_guards_and_lower_is_better():
    cfg = GateSettings(primary=MetricRule("loss", "lower", 0.01), guards=(MetricRule("recall", max_worsening=0.02),))
    assert evaluate(cfg, {"loss": 0.30, "recall": 0.80}, {"loss": 0.35, "recall": 0.81}).promote
    d = evaluate(cfg, {"loss": 0.30, "recall": 0.70}, {"loss": 0.35, "recall": 0.81})
    assert not d.promote and any("guard recall" in r for r in d.reasons)
    assert not evaluate(cfg, {"loss": 0.345, "recall": 0.9}, {"loss": 0.35, "recall": 0.81}).promote


TIDE_YAML = """\
registry:
  model: clf
  path: model.bin
  data: data.csv
gate:
  metrics: metrics.json
  primary: {metric: accuracy, direction: higher, min_improvement: 0.0}
  guards: [{metric: recall, max_worsening: 0.05}]
  predictions: preds.csv
  bootstrap: {samples: 300, confidence: 0.9, seed: 1}
deploy:
  DEPLOY
"""


def make_version(tide, d, day, wrong_every, recall):
    n = 300
    (d / "model.bin").write_bytes(f"model of day {day}".encode())
    (d / "data.csv").write_text(f"rows of day {day}\n")
    lines = ["row,label,prediction"]
    correct = 0
    for i in range(n):
        y = i % 2
        p = 1 - y if (wrong_every and i % wrong_every == 0) else y
        correct += p == y
        lines.append(f"{i},{y},{p}")
    (d / "preds.csv").write_text("\n".join(lines) + "\n")
    (d / "metrics.json").write_text(json.dumps({"accuracy": correct / n, "recall": recall}))
    tide("add", "model.bin", "data.csv", cwd=d)
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", f"day {day}")
    tide("model", "register", "clf", cwd=d)


@pytest.fixture
def gate_repo(repo_dir):
    def setup(deploy):
        (repo_dir / "tide.yaml").write_text(TIDE_YAML.replace("DEPLOY", deploy))
        (repo_dir / ".gitignore").write_text("/deployed\n/promotions\n")
        return repo_dir
    return setup


def test_promote_reject_force_and_records(gate_repo, tide, gto):
    d = gate_repo("copy_to: deployed")
    make_version(tide, d, 1, 4, 0.80)            # accuracy 0.75
    out = tide("model", "promote", "clf", cwd=d).stdout
    assert "promoted" in out and "no model in production" in out
    assert json.loads((d / "deployed" / "deployed.json").read_text())["version"] == "v0.0.1"
    assert (d / "deployed" / "model.bin").read_bytes() == b"model of day 1"

    make_version(tide, d, 2, 3, 0.80)            # worse: accuracy 0.667
    res = tide("model", "promote", "clf", cwd=d, check=False)
    assert res.returncode == 1 and "rejected" in res.stdout
    rec = json.loads((d / "promotions" / "clf" / "v0.0.2.json").read_text())
    assert rec["outcome"] == "rejected" and rec["production"] == "v0.0.1"
    assert rec["metrics"][0]["interval"]["high"] < 0
    assert json.loads((d / "deployed" / "deployed.json").read_text())["version"] == "v0.0.1"

    make_version(tide, d, 3, 10, 0.79)           # better: accuracy 0.9, recall within the guard
    dry = tide("model", "promote", "clf", "--dry-run", "--json", cwd=d).stdout
    assert json.loads(dry)["extra"]["would_promote"] is True
    assert json.loads(gto("show", "--json", cwd=d).stdout)["clf"]["stage"] == {"prod": "v0.0.1"}
    rec = json.loads(tide("model", "promote", "clf", "--json", cwd=d).stdout)
    assert rec["outcome"] == "promoted" and rec["production"] == "v0.0.1" and rec["tag"] == "clf#prod#2"
    assert rec["metrics"][0]["interval"]["low"] > 0
    assert rec["model_hash"] and rec["data_hash"] and rec["eval_hash"] and len(rec["code_commit"]) == 40
    assert json.loads((d / "deployed" / "deployed.json").read_text())["version"] == "v0.0.3"
    assert json.loads(gto("show", "--json", cwd=d).stdout)["clf"]["stage"] == {"prod": "v0.0.3"}
    # the assignment tag carries the record, GTO's first line unchanged
    msg = git(d, "tag", "-l", "--format=%(contents)", "clf#prod#2")
    assert msg.startswith("Assigning stage prod to artifact clf version v0.0.3")
    hist = json.loads(tide("model", "history", "clf", "--json", cwd=d).stdout)  # gto history's shape
    line = next(x for x in hist[0]["message"].splitlines() if x.startswith("tide-promotion: "))
    assert json.loads(line.removeprefix("tide-promotion: "))["outcome"] == "promoted"

    # --force promotes a worse model, and says so
    make_version(tide, d, 4, 2, 0.5)
    rec = json.loads(tide("model", "promote", "clf", "--force", "--json", cwd=d).stdout)
    assert rec["outcome"] == "forced" and rec["forced"] is True
    assert json.loads(gto("show", "--json", cwd=d).stdout)["clf"]["stage"] == {"prod": "v0.0.4"}


def test_failed_deploy_keeps_production(gate_repo, tide, gto):
    d = gate_repo("command: 'echo deploying $TIDE_MODEL_VERSION; test \"$TIDE_MODEL_VERSION\" = v0.0.1 || exit 3'")
    make_version(tide, d, 1, 4, 0.8)
    assert "deploying v0.0.1" in tide("model", "promote", "clf", cwd=d).stdout
    make_version(tide, d, 2, 10, 0.8)
    res = tide("model", "promote", "clf", "--json", cwd=d, check=False)
    assert res.returncode == 1
    rec = json.loads(res.stdout)
    assert rec["outcome"] == "deploy-failed" and not rec["deploy"]["ok"] and "exited with 3" in rec["deploy"]["detail"]
    assert json.loads(gto("show", "--json", cwd=d).stdout)["clf"]["stage"] == {"prod": "v0.0.1"}


@pytest.mark.parametrize("bad, needle", [
    ("gate:\n  primary: {metric: accuracy, direction: up}\n", "'gate.primary.direction' must be 'higher' or 'lower'"),
    ("gate:\n  primary: accuracy\n  bootstrap: {samples: 5}\n", "samples >= 100"),
    ("gate:\n  primaryy: accuracy\n", "unknown key 'gate.primaryy'"),
    ("gate: [1, 2]\n", "'gate' must be a mapping"),
    ("gate:\n  primary: {metric: accuracy\n", "invalid YAML"),
    ("deploy:\n  command: x\n  copy_to: y\n", "either 'command' or 'copy_to'"),
])
def test_bad_tide_yaml_is_one_clear_line(repo_dir, tide, bad, needle):
    git(repo_dir, "commit", "-q", "-m", "init")
    (repo_dir / "m").write_text("x")
    git(repo_dir, "add", "m")
    git(repo_dir, "commit", "-q", "-m", "m")
    tide("model", "register", "clf", cwd=repo_dir)
    (repo_dir / "tide.yaml").write_text(bad)
    res = tide("model", "promote", "clf", cwd=repo_dir, check=False)
    assert res.returncode != 0
    assert res.stderr.startswith("ERROR: ") and needle in res.stderr and res.stderr.count("\n") == 1, res.stderr
