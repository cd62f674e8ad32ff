"""Issue 18: `tide retrain --check` / `tide doctor` list every missing piece at once with the line that
fixes it; `tide ci init` refuses an unready project; the gate reads every metrics format `tide metrics
show` reads; an undecided gate still posts its report; `--json` prints only JSON; and the proof: the
seed's project, built as the guide builds it, made ready by exactly the lines the check prints."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, git
from tests.retrain.test_retrain import DVC_YAML, TIDE_YAML, TRAIN


def env_with(**extra):
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"], **extra)


def run(ws, *args, env=None, check=False):
    proc = subprocess.run([sys.executable, "-m", "tide", *map(str, args)], cwd=ws, env=env or env_with(),
                          capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def with_python(line: str) -> str:
    """A printed command line, its tide commands run by this interpreter."""
    return re.sub(r"(^|&& )tide ", lambda m: f"{m.group(1)}{sys.executable} -m tide ", line)


def findings(ws, env=None) -> dict:
    proc = run(ws, "retrain", "--check", "--json", env=env)
    data = json.loads(proc.stdout)
    assert proc.returncode == (0 if data["ready"] else 1), proc.stderr
    return data


TINY_YAML = TIDE_YAML.replace("RUNNER", "")


def tiny(tmp_path, tide, tide_yaml=TINY_YAML, push=True) -> Path:
    """tests/retrain/test_retrain.py's tiny project: local forge and local storage, committed."""
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    tide("init", cwd=ws)
    (ws / "train.py").write_text(TRAIN)
    (ws / "dvc.yaml").write_text(DVC_YAML)
    (ws / "params.yaml").write_text("lr: 0.1\nwrong_every: 4\n")
    (ws / "tide.yaml").write_text(tide_yaml)
    (ws / ".gitignore").write_text("/deployed\n/promotions\n")
    tide("forge", "init", tmp_path / "forge.git", "--add-remote", "origin", cwd=ws)
    tide("remote", "add", "-d", "storage", tmp_path / "storage", cwd=ws)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "project")
    if push:
        git(ws, "push", "-q", "origin", "main")
    return ws


# --- the check ---------------------------------------------------------------------------------------
def test_issue18_check_lists_every_missing_piece_at_once(git_dir, tide):
    """A repository with nothing: all findings in one run, each with a fix line; nothing changed."""
    ws = git_dir
    tide("init", cwd=ws)
    (ws / "train.py").write_text('open("out/metrics.txt", "w").write("Accuracy: 0.9")\n'
                                 'open("out/model.pkl", "wb").write(b"m")\n')
    before = sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*") if ".git/" not in p.as_posix())
    data = findings(ws)
    keys = [f["key"] for f in data["findings"]]
    assert keys == ["registry.model", "stage", "gate.metrics", "gate.primary", "remote", "forge", "commit"]
    by = {f["key"]: f for f in data["findings"]}
    assert all(f["fix"] for f in data["findings"])
    assert by["registry.model"]["set"] == {"registry": {"model": "model", "path": "out/model.pkl"}}
    assert by["stage"]["fix"] == "tide stage add -n train -d train.py -o out/model.pkl -M out/metrics.txt " \
                                 "python train.py"
    assert data["tide_yaml"]["gate"] == {"metrics": "out/metrics.txt",
                                         "primary": {"metric": "Accuracy", "direction": "higher"}}
    assert by["commit"]["fix"].startswith("git add -A && git commit") and by["commit"]["blocks"]
    text = run(ws, "retrain", "--check")
    assert text.returncode == 1 and text.stdout.startswith("Not ready for tide retrain: 7 things to fix")
    assert "gate: {metrics: out/metrics.txt, primary: {metric: Accuracy, direction: higher}}" in text.stdout
    after = sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*") if ".git/" not in p.as_posix())
    assert after == before  # the check changes nothing
    # tide retrain itself refuses before changing anything, with every blocking piece listed
    res = run(ws, "retrain")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: not ready for tide retrain: 5 things to fix")
    for key in ("registry.model", "stage", "gate.metrics", "forge", "commit"):
        assert f". {key}: " in res.stderr


def test_issue18_check_validates_sections_and_credentials(tmp_path, tide, monkeypatch):
    ws = tiny(tmp_path, tide)
    assert findings(ws)["ready"]
    (ws / "tide.yaml").write_text(TINY_YAML + "schedule:\n  cron: 5\n")
    tide("remote", "add", "-d", "-f", "storage", "gdrive://folder-id", cwd=ws)
    data = findings(ws)
    by = {f["key"]: f for f in data["findings"]}
    assert "'schedule.cron' must be a str" in by["tide.yaml:schedule"]["problem"]
    cred = by["credentials.remote.storage"]
    assert cred["kind"] == "env" and not cred["blocks"] and "GDRIVE_CREDENTIALS_DATA=" in cred["fix"]
    env = env_with(GDRIVE_CREDENTIALS_DATA="{}")
    assert "credentials.remote.storage" not in {f["key"] for f in findings(ws, env)["findings"]}
    # a hosted forge without a token: retrain cannot open its PR
    git(ws, "remote", "set-url", "origin", "https://github.com/acme/project.git")
    keys = {f["key"]: f for f in findings(ws, env)["findings"]}
    assert keys["credentials.forge"]["blocks"] and "REPO_TOKEN" in keys["credentials.forge"]["fix"]


def test_issue18_retrain_before_the_first_commit_says_what_to_do(tmp_path, tide):
    tide("init", "--example", tmp_path / "ex")
    res = run(tmp_path / "ex", "retrain")
    assert res.returncode == 1 and "usage: git" not in res.stderr and "fatal:" not in res.stderr
    assert ". commit: no commit yet" in res.stderr and "git add -A && git commit" in res.stderr


def test_issue18_init_example_next_steps_make_retrain_ready(tmp_path, tide):
    out = tide("init", "--example", tmp_path / "ex", cwd=tmp_path).stdout
    steps = [ln.strip() for ln in out.split("Next", 1)[1].splitlines()[1:] if ln.strip()]
    assert steps[0] == f"cd {tmp_path / 'ex'}" and steps[-1] == "tide retrain"
    keys = {f["key"] for f in findings(tmp_path / "ex")["findings"]}
    assert keys == {"remote", "forge", "commit"}
    script = " && ".join(with_python(s) for s in steps[:-1] if not s.startswith("pip "))
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True, capture_output=True, env=env_with())
    assert findings(tmp_path / "ex")["ready"]


# --- ci init -------------------------------------------------------------------------------------------
def test_issue18_ci_init_refuses_an_unready_project_and_force_warns(git_dir, tide):
    ws = git_dir
    tide("init", cwd=ws)
    res = run(ws, "ci", "init", "github")
    assert res.returncode == 1 and not (ws / ".github").exists()
    assert ". registry.model: " in res.stderr and ". stage: " in res.stderr and ". remote: " in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ERROR: not ready for tide ci init") and "--force" in last
    forced = run(ws, "ci", "init", "github", "--force", check=True)
    assert (ws / ".github" / "workflows" / "tide-retrain.yml").exists()
    assert forced.stderr.startswith("WARNING: written anyway (--force)") and ". registry.model: " in forced.stderr
    assert forced.stdout.startswith("Wrote .github/workflows/tide-retrain.yml")


def test_issue18_ci_init_writes_for_a_ready_project(tmp_path, tide):
    ws = tiny(tmp_path, tide)
    tide("remote", "add", "-d", "-f", "storage", "s3://bucket/cache", cwd=ws)  # this machine has no AWS keys
    git(ws, "commit", "-qam", "s3 remote")
    res = run(ws, "ci", "init", "gitlab", check=True)   # the job gets its own credentials: not a finding here
    assert res.stderr == "" and "AWS_ACCESS_KEY_ID" in res.stdout


def test_issue18_ops_take_typed_arguments_and_never_print():
    """ops/workflows.py (ci init), ops/readiness.py and ops/doctor.py: no argparse, no print, no input,
    no sys.stdout; the CLI parses and prints (issue 21 item 3, for these ops)."""
    for name in ("workflows", "readiness", "doctor"):
        tree = ast.parse((ROOT / "src" / "tide" / "ops" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "argparse" not in mods, name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "input"), (name, node.lineno)
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
                assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), (name, node.lineno)


# --- doctor ----------------------------------------------------------------------------------------------
def test_issue18_doctor_prints_the_environment_then_the_check(tmp_path, tide):
    outside = run(tmp_path, "doctor")
    assert outside.returncode == 0 and outside.stdout.startswith("tide version: ")
    assert "Platform: Python " in outside.stdout and "not in a tide repository" in outside.stdout
    ws = tiny(tmp_path, tide)
    res = run(ws, "doctor")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("tide version: ") and set(lines[1]) == {"-"} and lines[2].startswith("Platform:")
    assert "Supports:" in lines and "Remotes: local" in lines and "Repo: dvc, git" in lines
    assert lines[-1].startswith("Ready: tide retrain can run")
    data = json.loads(run(ws, "doctor", "--json").stdout)
    assert data["readiness"]["ready"] and data["repo"] == ["dvc", "git"] and data["remotes"] == ["local"]
    (ws / "tide.yaml").write_text("retrain: {base: main}\n")
    bad = run(ws, "doctor")
    assert bad.returncode == 1 and "registry.model: " in bad.stdout


# --- the gate: one metrics reader --------------------------------------------------------------------------
FORMATS = {
    "metrics.json": '{"Accuracy": 0.868, "loss": {"train": 0.2}}\n',
    "metrics.yaml": "Accuracy: 0.868\nloss:\n  train: 0.2\n",
    "metrics.toml": "Accuracy = 0.868\n[loss]\ntrain = 0.2\n",
    "metrics.txt": "Accuracy: 0.868\n",
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_issue18_gate_reads_what_metrics_show_reads(repo_dir, tide, name):
    from tide.core import settings as S
    from tide.ops.promote import gather
    from tide.workspace.repo import Repo

    (repo_dir / name).write_text(FORMATS[name])
    (repo_dir / "dvc.yaml").write_text(f"metrics:\n- {name}\n")
    (repo_dir / "tide.yaml").write_text(f"gate:\n  metrics: {name}\n  primary: Accuracy\n")
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "m")
    shown = json.loads(tide("metrics", "show", "--json", cwd=repo_dir).stdout)
    data = next(iter(shown.values()))["data"][name]["data"]
    flat = {"Accuracy": data["Accuracy"], **({"loss.train": data["loss"]["train"]} if "loss" in data else {})}
    repo = Repo(str(repo_dir))
    try:
        st = S.load(str(repo_dir))
        ev = gather(repo, git(repo_dir, "rev-parse", "HEAD").strip(), S.gate_settings(st), S.registry_settings(st))
    finally:
        repo.close()
    assert ev.metrics == flat and ev.metrics["Accuracy"] == 0.868


def test_issue18_undecided_gate_still_posts_the_report(tmp_path, tide):
    """An unreadable metrics file: the PR is open and the version registered, so the report says why the
    gate could not decide; the run fails naming the gate; a re-run after the fix promotes that version."""
    ws = tiny(tmp_path, tide)
    (ws / "train.py").write_text(TRAIN + 'open("model/metrics.json", "w").write("{not json")\n')
    git(ws, "commit", "-qam", "broken metrics")
    git(ws, "push", "-q", "origin", "main")
    res = run(ws, "retrain", "--day", "2026-03-01", "--json")
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: retrain: step 'gate' failed:")
    assert "registered, not promoted" in res.stderr
    cdir = tmp_path / "forge.git" / "tide-forge" / "comments" / "pr" / "1"
    bodies = [json.loads(p.read_text())["body"] for p in cdir.glob("*.json")]
    assert len(bodies) == 1 and "The gate could not decide:" in bodies[0] and "invalid JSON" in bodies[0]
    assert "was not promoted" in bodies[0]
    tags = git(ws, "ls-remote", "--tags", "origin").split()
    assert "refs/tags/tiny@v0.0.1" in tags and not any("#prod" in t for t in tags)


# --- --json: stdout holds JSON only; local forge pages; (edited) ---------------------------------------------
JSON_ARGS = {
    "status": [], "diff": [], "fsck": [], "metrics show": [], "metrics diff": [], "params diff": [],
    "plots show": ["model/preds.csv"], "plots diff": ["--targets", "model/preds.csv"],
    "runner list": [], "model show": [], "model history": ["tiny"],
    "model promote": ["tiny", "--stage", "staging", "--dry-run"], "retrain": ["--day", "2026-03-02"],
    "doctor": [], "data status": [], "ls": ["."], "list": ["."],
    "model check-ref": ["tiny@v0.0.1"], "model stages": [], "exp show": [], "exp diff": [],
}


def json_commands() -> list[str]:
    import argparse
    import importlib

    from tide.cli.main import COMMANDS, available, build_parser

    def walk(p, path):
        found = [path] if any("--json" in a.option_strings for a in p._actions) else []
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    found += walk(sp, f"{path} {name}")
        return found

    out = []
    for name, (mod, _) in COMMANDS.items():
        if available(mod):
            out += walk(build_parser(name, importlib.import_module(f"tide.cli.cmd_{mod}")), name)
    return out


def test_issue18_every_json_command_prints_only_json(tmp_path, tide):
    missing = sorted(set(json_commands()) - set(JSON_ARGS))
    assert not missing, f"add these commands with --json to JSON_ARGS: {missing}"
    ws = tiny(tmp_path, tide)
    order = ["retrain"] + sorted(c for c in JSON_ARGS if c != "retrain")  # retrain first: the rest has data
    for cmd in order:
        res = run(ws, *cmd.split(), "--json", *JSON_ARGS[cmd])
        assert res.returncode == 0, (cmd, res.stderr)
        try:
            json.loads(res.stdout)  # nothing but JSON
        except ValueError:
            pytest.fail(f"tide {cmd} --json: stdout is not one JSON document: {res.stdout[:300]!r}")
        if cmd == "retrain":
            assert "[prepare]" in res.stderr and "[report]" in res.stderr
    check = run(ws, "retrain", "--check", "--json")
    assert json.loads(check.stdout)["findings"] is not None


def test_issue18_local_forge_pages_exist_when_their_urls_are_printed(tmp_path, tide):
    ws = tiny(tmp_path, tide)
    out = json.loads(run(ws, "retrain", "--day", "2026-03-03", "--json", check=True).stdout)
    for url in (out["pr_url"], out["comment_url"]):
        page = Path(url.split("#")[0].removeprefix("file://"))
        assert page.is_file(), url
    html = Path(out["comment_url"].split("#")[0].removeprefix("file://")).read_text()
    assert "tide retrain" in html and "(edited)" not in html  # a comment posted once was never edited
    (ws / "report.md").write_text("again\n")
    tide("comment", "create", "--target", f"pr#{out['pr_number']}", "--update",
         "--watermark-title", "tide retrain tiny", "report.md", cwd=ws)
    assert "(edited)" in Path(out["comment_url"].split("#")[0].removeprefix("file://")).read_text()


# --- the proof: the seed's project as the guide builds it --------------------------------------------------
SEED_GET_DATA = """\
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
import numpy as np
import os

# Generate data
X, y = make_classification(n_samples=1000, random_state=42)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=42)

# Save data
os.makedirs("data", exist_ok=True)
np.savetxt("data/train_features.csv", X_train)
np.savetxt("data/test_features.csv", X_test)
np.savetxt("data/train_labels.csv", y_train)
np.savetxt("data/test_labels.csv", y_test)
"""

SEED_TRAIN = """\
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import ConfusionMatrixDisplay
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import json
import os
import numpy as np
import joblib

# Read in data
X_train = np.genfromtxt("data/train_features.csv")
y_train = np.genfromtxt("data/train_labels.csv")
X_test = np.genfromtxt("data/test_features.csv")
y_test = np.genfromtxt("data/test_labels.csv")

# Fit a model
depth = 5
clf = RandomForestClassifier(max_depth=depth)
clf.fit(X_train, y_train)

acc = clf.score(X_test, y_test)
print(acc)
os.makedirs("model", exist_ok=True)  # the seed's repository had model/ committed already
with open("model/metrics.txt", "w") as outfile:
    outfile.write("Accuracy: " + str(acc) + "\\n")

# Plot it
disp = ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test, cmap=plt.cm.Blues)
plt.savefig("model/confusion_matrix.png")

joblib.dump(clf, "model/random_forest.joblib")
"""


def apply_fixes(ws: Path, data: dict, env: dict, values: dict[str, str]) -> None:
    """Apply exactly what the check asked for, as a user would: the tide.yaml lines merged into tide.yaml,
    each command run as printed (a local forge where it offers one), each variable exported."""
    if data["tide_yaml"]:
        path = ws / "tide.yaml"
        current = yaml.safe_load(path.read_text()) if path.exists() else {}

        def merge(a, b):
            for k, v in b.items():
                a[k] = merge(a.get(k) or {}, v) if isinstance(v, dict) else v
            return a

        path.write_text(yaml.safe_dump(merge(current or {}, data["tide_yaml"]), sort_keys=False))
    for f in data["findings"]:
        fix = f["fix"]
        if f["kind"] == "env":
            for name in re.findall(r"\b([A-Z][A-Z0-9_]+)=", fix.split("#")[0]):
                env[name] = values[name]
        elif f["kind"] == "command":
            cmd = fix.split("# or a local forge: ")[1] if "# or a local forge: " in fix else fix.split("   #")[0]
            cmd = with_python(cmd)
            subprocess.run(["bash", "-c", cmd], cwd=ws, env=env, check=True, capture_output=True)


def test_issue18_seed_project_from_the_guide_made_ready_by_the_check(tmp_path, tide):
    """The guide: get_data.py, train.py (metrics.txt with "Accuracy: ...", the confusion matrix, no
    metrics.json), requirements.txt, `dvc init` committed, a Google Drive remote with a service account
    (here the Drive fake). `tide retrain --check` lists what is missing; only those changes are applied;
    then `tide retrain` succeeds on the local forge and the model reaches the Drive remote."""
    from tests.fakes.gdrive import FakeDrive

    drive = FakeDrive()
    try:
        ws = tmp_path / "example_model_export_cml"
        ws.mkdir()
        git(ws, "init", "-q", "-b", "main")
        (ws / "get_data.py").write_text(SEED_GET_DATA)
        (ws / "train.py").write_text(SEED_TRAIN)
        (ws / "requirements.txt").write_text("scikit-learn>=1.0.2\nmatplotlib>=3.5.1\ndvc[gdrive]>=2.10.2\n")
        (ws / ".gitignore").write_text("__pycache__/\n*.py[cod]\n")
        tide("init", cwd=ws)
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "Initialize DVC")
        folder = drive.new_folder()
        tide("remote", "add", "-d", "-f", "myremote", f"gdrive://{folder}", cwd=ws)
        tide("remote", "modify", "myremote", "gdrive_use_service_account", "true", cwd=ws)
        git(ws, "commit", "-qam", "Google Drive remote")
        key = Path(drive.service_account_file(str(tmp_path / "sa.json"))).read_text()
        env = env_with(TIDE_GDRIVE_API_URL=drive.base)

        data = findings(ws, env)
        keys = [f["key"] for f in data["findings"]]
        assert keys == ["registry.model", "stage", "gate.metrics", "gate.primary", "forge",
                        "credentials.remote.myremote", "commit"], keys
        assert data["tide_yaml"] == {
            "registry": {"model": "random-forest", "path": "model/random_forest.joblib"},
            "gate": {"metrics": "model/metrics.txt", "primary": {"metric": "Accuracy", "direction": "higher"}}}
        apply_fixes(ws, data, env, {"GDRIVE_CREDENTIALS_DATA": key})
        assert not (ws / "model" / "metrics.json").exists()

        again = findings(ws, env)
        assert again["ready"], again["findings"]
        res = run(ws, "retrain", "--json", env=env)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["outcome"] == "promoted" and out["version"] == "v0.0.1" and out["pr_number"] == 1
        comment = next((tmp_path / "forge.git" / "tide-forge" / "comments" / "pr" / "1").glob("*.json"))
        body = json.loads(comment.read_text())["body"]
        assert "Accuracy" in body and "promoted" in body.lower()
        assert any("/files/md5/" in p for p in drive.paths())  # model and data on the Drive remote
        assert "refs/tags/random-forest@v0.0.1" in git(ws, "ls-remote", "--tags", "origin")
    finally:
        drive.stop()
