"""Issue 22: experiments as dvc 3.67 stores them (refs/exps/<base[:2]>/<base[2:]>/<name>), proved with
real dvc in both directions, the -S grammar, the queue on two workers with killed runs, and exp push/pull."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time

import pytest

from tests.conftest import git

TRAIN = textwrap.dedent('''
    import json, time, yaml
    p = yaml.safe_load(open("params.yaml"))
    time.sleep(p["train"]["sleep"])
    open("model.txt", "w").write(str(p["train"]["lr"] * p["train"]["n"]))
    json.dump({"score": p["train"]["lr"] * p["train"]["n"], "loss": 1 - p["train"]["lr"]},
              open("metrics.json", "w"))
''')


def _project(d, tide):
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    (d / "train.py").write_text(TRAIN)
    (d / "params.yaml").write_text("# tuned by hand\ntrain:\n  lr: 0.1  # learning rate\n  n: 3\n  sleep: 0\nseed: 1\n")
    (d / "dvc.yaml").write_text(textwrap.dedent(f'''
        stages:
          train:
            cmd: {sys.executable} train.py
            deps: [train.py]
            params: [train]
            outs: [model.txt]
            metrics:
            - metrics.json:
                cache: false
    '''))
    tide("init", cwd=d)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "pipeline")
    return d


def _refs(d):
    """Experiment refs only (dvc also keeps refs/exps/apply/..., refs/exps/exec/...)."""
    from tide.ops.exp_refs import ExpRef

    pairs = (line.split()[::-1] for line in git(d, "for-each-ref", "--format=%(objectname) %(refname)",
                                                 "refs/exps/").splitlines())
    return {ref: sha for ref, sha in pairs if ExpRef.parse(ref)}


def _same_states(a, b):
    """tide's and dvc's ``exp show --json`` agree (error messages aside: the type is what tools read)."""
    def norm(x):
        if isinstance(x, dict):
            return {k: ("<msg>" if k == "msg" else norm(v)) for k, v in x.items()}
        if isinstance(x, list):
            return [norm(v) for v in x]
        return x
    assert norm(a) == norm(b)


def test_issue22_tide_exp_run_is_dvcs_experiment(tmp_path, tide, dvc):
    d = _project(tmp_path / "p", tide)
    head, branch = git(d, "rev-parse", "HEAD").strip(), git(d, "symbolic-ref", "HEAD").strip()
    out = tide("exp", "run", "-n", "fast", "-S", "train.lr=0.2", cwd=d).stdout
    assert "Ran experiment(s): fast" in out
    # HEAD, the branch and the index stay; the workspace keeps the results (as dvc leaves them)
    assert git(d, "rev-parse", "HEAD").strip() == head and git(d, "symbolic-ref", "HEAD").strip() == branch
    assert git(d, "diff", "--cached", "--name-only") == ""
    assert "lr: 0.2  # learning rate" in (d / "params.yaml").read_text()  # comments kept
    refs = _refs(d)
    ref = f"refs/exps/{head[:2]}/{head[2:]}/fast"
    assert list(refs) == [ref]
    exp = refs[ref]
    assert git(d, "rev-parse", f"{exp}^").strip() == head
    assert git(d, "log", "-1", "--format=%s", exp).startswith("dvc: commit experiment ")
    files = set(git(d, "diff", "--name-only", head, exp).split())
    assert files == {"params.yaml", "dvc.lock", "metrics.json"}  # cached model.txt is not in git
    # dvc reads it as its own: the same exp show JSON, and it applies, branches and removes it
    t = json.loads(tide("exp", "show", "--json", cwd=d).stdout)
    _same_states(t, json.loads(dvc("exp", "show", "--json", cwd=d).stdout))
    assert t[1]["experiments"][0]["revs"][0]["data"]["metrics"]["metrics.json"]["data"]["loss"] == 0.8
    # tide's csv is dvc's csv
    assert tide("exp", "show", "--csv", cwd=d).stdout == dvc("exp", "show", "--csv", cwd=d).stdout
    (d / "model.txt").unlink()
    dvc("exp", "apply", "fast", cwd=d)
    assert "lr: 0.2" in (d / "params.yaml").read_text() and (d / "model.txt").read_text() == str(0.2 * 3)
    # a name already used is refused unless -f, and a sweep needs --queue
    again = tide("exp", "run", "-n", "fast", cwd=d, check=False)
    assert again.returncode != 0 and "conflicts with existing experiment 'fast'" in again.stderr
    sweep = tide("exp", "run", "-S", "train.lr=0.1,0.2", cwd=d, check=False)
    assert sweep.returncode != 0 and "--queue" in sweep.stderr and "Traceback" not in sweep.stderr
    # exp save: the workspace as it is (a changed dependency committed to the cache and dvc.lock)
    with open(d / "train.py", "a") as f:
        f.write("# tweak\n")
    tide("exp", "save", "-n", "saved", cwd=d)
    saved = _refs(d)[f"refs/exps/{head[:2]}/{head[2:]}/saved"]
    assert "train.py" in git(d, "diff", "--name-only", head, saved).split()
    dvc("exp", "remove", "fast", "saved", cwd=d)
    assert _refs(d) == {}


def test_issue22_dvc_exp_run_is_tides_experiment(tmp_path, tide, dvc):
    d = _project(tmp_path / "p", tide)
    head = git(d, "rev-parse", "HEAD").strip()
    dvc("exp", "run", "-n", "by-dvc", "-S", "train.lr=0.3", cwd=d)
    time.sleep(1.1)  # commit times have 1 s resolution: dvc orders experiments made in one second arbitrarily
    tide("exp", "run", "-S", "train.n=5", cwd=d)  # a random name; dvc left lr=0.3 in the workspace
    dvc_json = json.loads(dvc("exp", "show", "--json", cwd=d).stdout)
    _same_states(json.loads(tide("exp", "show", "--json", cwd=d).stdout), dvc_json)
    names = [r["name"] for r in dvc_json[1]["experiments"]]
    assert names[1] == "by-dvc" and len(names) == 2 and len(names[0].split("-")) == 2  # newest first
    table = tide("exp", "show", "--sort-by", "score", "--sort-order", "asc", "--only-changed", cwd=d).stdout
    lines = table.splitlines()
    assert "by-dvc" in lines[3] and names[0] in lines[4] and "seed" not in lines[0]  # 0.9 < 1.5; seed unchanged
    diff = json.loads(tide("exp", "diff", "main", "by-dvc", "--json", cwd=d).stdout)
    assert diff["params"]["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.3, "diff": pytest.approx(0.2)}
    (d / "model.txt").unlink()
    out = tide("exp", "apply", "by-dvc", cwd=d).stdout
    assert "lr: 0.3" in (d / "params.yaml").read_text() and (d / "model.txt").read_text() == str(0.3 * 3)
    # what the workspace held before (the last run's params) is kept, not lost
    assert "refs/tide/apply/workspace" in out
    assert "n: 5" in git(d, "show", "refs/tide/apply/workspace:params.yaml")
    assert git(d, "rev-parse", "HEAD").strip() == head
    tide("exp", "branch", "by-dvc", cwd=d)
    assert git(d, "rev-parse", "by-dvc-branch").strip() == _refs(d)[f"refs/exps/{head[:2]}/{head[2:]}/by-dvc"]
    tide("exp", "rename", "by-dvc", "renamed", cwd=d)
    assert "renamed" in dvc("exp", "list", "--name-only", cwd=d).stdout
    tide("exp", "remove", "--all", cwd=d)
    assert _refs(d) == {}


def test_issue22_set_param_grammar_and_sweeps():
    from tide.core.errors import UsageError
    from tide.ops import exp_params as ep

    ovs = ep.parse_all(["train.lr=0.1,0.2", "train.n=range(10,30,10)", "other.yaml:+a.b=choice(x, 'y,z')"])
    points = ep.expand(ovs)
    got = [(p["params.yaml"][0].values[0], p["params.yaml"][1].values[0], p["other.yaml"][0].values[0])
           for p in points]
    assert got == [(0.1, 10, "x"), (0.1, 10, "y,z"), (0.1, 20, "x"), (0.1, 20, "y,z"),
                   (0.2, 10, "x"), (0.2, 10, "y,z"), (0.2, 20, "x"), (0.2, 20, "y,z")]
    text = "train:\n  lr: 0.1  # keep\n  layers: [1, 2]\n"
    out = ep.apply_text(text, "params.yaml", [ep.parse("train.lr=0.5"), ep.parse("+train.new=true"),
                                               ep.parse("~train.layers"), ep.parse("train.lr=0.3")])
    assert out == "train:\n  lr: 0.3  # keep\n  new: true\n"
    for bad in (["train.missing=1"], ["+train.lr=1"], ["~nope"], ["noequals"]):
        with pytest.raises(UsageError):
            ep.apply_text(text, "params.yaml", [ep.parse(b) for b in bad])
    assert json.loads(ep.apply_text('{"a": {"b": 1}}', "p.json", [ep.parse("a.b=[1, 2]")])) == {"a": {"b": [1, 2]}}


def _status(d):
    """name -> entry, as ``tide queue status`` reads them (runs whose processes are gone become failed)."""
    from dataclasses import asdict

    from tide.ops.exp_queue import entries
    from tide.workspace.repo import Repo

    return {e.name: asdict(e) for e in entries(Repo(str(d)))}


def _wait(d, tide, cond, what, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        st = _status(d)
        if cond(st):
            return st
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: {st}")


def test_issue22_queue_two_workers_killed_runs_fail_queue_goes_on(tmp_path, tide, dvc):
    d = _project(tmp_path / "p", tide)
    tide("exp", "run", "--queue", "-n", "slow", "-S", "train.sleep=60", cwd=d)
    tide("exp", "run", "--queue", "-n", "dead", "-S", "train.sleep=60", cwd=d)
    out = tide("exp", "run", "--queue", "-n", "grid", "-S", "train.lr=0.2,0.4", "-S", "train.n=range(2,3)",
               cwd=d).stdout
    assert "Queued experiment 'grid-1'" in out and "'grid-2'" in out and "grid-3" not in out
    assert _refs(d) == {} and git(d, "status", "--porcelain") == ""  # queueing leaves the workspace alone
    tide("queue", "start", "-j", "2", cwd=d)
    logs = d / ".dvc" / "tmp" / "tide-queue" / "logs"

    def started(s, name):
        log = logs / f"{s[name]['id']}.log"
        return s[name]["status"] == "running" and log.exists() and "Running stage" in log.read_text()

    st = _wait(d, tide, lambda s: started(s, "slow") and started(s, "dead"), "both slow runs")
    # one run is killed through the queue; the other loses its worker and its run (a machine gone)
    tide("queue", "kill", "slow", cwd=d)
    os.kill(st["dead"]["worker"], signal.SIGKILL)
    os.killpg(st["dead"]["pid"], signal.SIGKILL)
    st = _wait(d, tide, lambda s: all(e["status"] in ("success", "failed") for e in s.values()), "the queue")
    assert "Failed" in tide("queue", "status", cwd=d).stdout
    assert {n: e["status"] for n, e in st.items()} == {
        "slow": "failed", "dead": "failed", "grid-1": "success", "grid-2": "success"}
    log = tide("queue", "logs", "slow", cwd=d).stdout
    assert "Running stage 'train'" in log and "failed: killed by signal 15" in log
    assert "Running stage 'train'" in tide("queue", "logs", "dead", cwd=d).stdout
    # the successful ones are experiments dvc reads, with the sweep's values
    shown = json.loads(dvc("exp", "show", "--json", cwd=d).stdout)[1]["experiments"]
    params = {r["name"]: r["revs"][0]["data"]["params"]["params.yaml"]["data"]["train"] for r in shown}
    assert {(p["lr"], p["n"]) for p in params.values()} == {(0.2, 2), (0.4, 2)}
    ours = json.loads(tide("exp", "show", "--json", cwd=d).stdout)[1]["experiments"]
    assert {r["name"]: r["executor"] and r["executor"]["state"] for r in ours} == {
        "grid-1": None, "grid-2": None, "slow": "failed", "dead": "failed"}
    # the dead worker's copy is left behind until exp clean; nothing else is
    tide("exp", "clean", cwd=d)
    assert len(git(d, "worktree", "list").splitlines()) == 1
    assert not any((d / ".dvc" / "tmp" / "tide-queue" / "copies").iterdir())
    tide("queue", "remove", "--failed", cwd=d)
    assert set(_status(d)) == {"grid-1", "grid-2"}
    assert git(d, "for-each-ref", "refs/tide/queue/").count("\n") == 2


def test_issue22_exp_push_then_dvc_pulls_and_applies_it(tmp_path, tide, dvc):
    d = _project(tmp_path / "p", tide)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    tide("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=d)
    git(d, "commit", "-qam", "remote")
    git(d, "remote", "add", "origin", str(origin))
    git(d, "push", "-q", "origin", "main")
    tide("exp", "run", "-n", "shared", "-S", "train.lr=0.7", cwd=d)
    bad = tide("exp", "push", "nowhere", "shared", cwd=d, check=False)
    assert bad.returncode != 0 and bad.stderr.strip().splitlines() == [
        "ERROR: git remote 'nowhere': 'nowhere' does not appear to be a git repository"]
    assert "Pushed experiment shared" in tide("exp", "push", "origin", "shared", cwd=d).stdout
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    dvc("exp", "pull", "origin", "shared", cwd=clone)  # the refs and the data tide pushed
    dvc("exp", "apply", "shared", cwd=clone)
    assert (clone / "model.txt").read_text() == str(0.7 * 3)
    # and back: tide pulls what dvc's clone has, data included
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    assert "Pulled experiment shared" in tide("exp", "pull", "origin", "shared", cwd=other).stdout
    tide("exp", "apply", "shared", cwd=other)
    assert (other / "model.txt").read_text() == str(0.7 * 3)
