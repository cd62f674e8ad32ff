"""Retrain kill torture: ``tide retrain`` SIGKILLed (whole process group) at random points of its steps,
with the forge refusing or dropping pushes and API calls on some trials; then one healthy re-run
must converge.

    run(trials, seed, work) -> {"counts": {...}, "failures": [str, ...]}

Each trial copies a template (a small pure-Python pipeline, the embedded local forge as a bare
repository, local remote storage), optionally first completes a day (so production holds a model)
and optionally trains on the embedded local runner, then runs ``tide retrain`` under
retrainrun.py in a new process group and kills the group either

* at a named point (entering a step: prepare, runner, repro, push, pr, register, gate, report; or
  around a call inside them: the PR push, the local forge's writes, register, assign, deploy, the
  promotion record, the tag push, the comment), or
* after a random delay within the run's calibrated duration (wherever it is);

on some trials the forge's pre-receive hook refuses tag pushes, refuses every push, or drops the
connection, or a forge API call is refused or its answer lost. A run that met a fault must fail
(non-zero), never report success. After one healthy re-run (exit 0 required):

1. the local and the forge's registry tags agree (same names, same tag objects);
2. the deployed model is the forge's production version (deployed.json and the model bytes,
   checked against dvc.lock at the production commit);
3. exactly one PR per day run, and exactly one report comment on it;
4. ``tide fsck`` is clean and ``tide model show --check`` agrees;
5. every object in the cache and in the remote storage hashes to its name.

Used by tests/reliability/test_retrain_kills.py (a few trials) and scripts/torture.py (60+).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.crashlib import isolated_env
from tests.retrain import test_retrain as retrain_project

HERE = Path(__file__).resolve().parent
RETRAINRUN = str(HERE / "retrainrun.py")
DAYS = ("2026-08-01", "2026-08-02")

TRAIN = retrain_project.TRAIN  # the same training script as tests/retrain's (one copy)
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [wrong_every]
    outs:
    - model/model.bin
    - model/preds.csv:
        cache: false
    metrics:
    - model/metrics.json:
        cache: false
"""
TIDE_YAML = """\
registry: {model: tiny, path: model/model.bin}
gate:
  metrics: model/metrics.json
  primary: {metric: accuracy, direction: higher, min_improvement: 0.0}
  predictions: model/preds.csv
  bootstrap: {samples: 200, seed: 0}
deploy: {copy_to: deployed}
retrain:
  base: main
  pr_files: [dvc.lock, params.yaml, model/metrics.json, model/preds.csv, model/.gitignore]
"""
HOOK = """#!/bin/sh
while read old new ref; do
  case "$ref" in
    PATTERN) echo "$ref ACTION" >> "LOG"; ACTIONCMD ;;
  esac
done
exit 0
"""
PUSH_FAULTS = {  # name -> (refs matched, what the hook does)
    "refuse-tags": ("refs/tags/*", "echo 'protected tag' >&2; exit 1"),
    "refuse-all": ("*", "echo 'push refused' >&2; exit 1"),
    "drop-push": ("*", "kill -9 $PPID; exit 1"),
}
API_FAULTS = ("refuse:create_pr", "drop:create_pr", "refuse:create_comment", "drop:create_comment",
              "drop:update_comment", "refuse:list_comments", "refuse:find_pr")
STEP_POINTS = tuple(f"step:{s}" for s in ("prepare", "repro", "push", "pr", "register", "gate", "report"))
CALL_POINTS = ("after:reproduce", "after:run_push", "before:create_pr", "after:LocalForge.create_pr",
               "after:LocalForge._reserve", "after:create_pr", "after:Registry.register", "before:sync.converge",
               "before:Registry.assign", "after:Registry.assign", "after:deploy", "before:records.write",
               "after:records.write", "after:LocalForge.create_comment", "after:create_comment")
RUNNER_POINTS = ("step:runner", "after:run_on")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sh(cmd: list[str], cwd: Path, env: dict[str, str], check: bool = True,
        timeout: float = 300) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def _tide(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return _sh([sys.executable, "-m", "tide", *args], cwd, env, check)


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return _sh(["git", *args], cwd, env).stdout


def make_template(top: Path, env: dict[str, str]) -> Path:
    ws = top / "ws"
    ws.mkdir(parents=True)
    _git(ws, env, "init", "-q", "-b", "main")
    _tide(["init", "-q"], ws, env)
    (ws / "train.py").write_text(TRAIN)
    (ws / "dvc.yaml").write_text(DVC_YAML)
    (ws / "params.yaml").write_text("wrong_every: 4\n")
    (ws / "tide.yaml").write_text(TIDE_YAML)
    (ws / ".gitignore").write_text("/deployed\n/promotions\n")
    _tide(["forge", "init", str(top / "forge.git")], ws, env)
    _git(ws, env, "remote", "add", "origin", "../forge.git")
    _tide(["remote", "add", "-d", "storage", "../storage"], ws, env)  # kept relative: copies move along
    _git(ws, env, "add", "-A")
    _git(ws, env, "commit", "-q", "-m", "project")
    _git(ws, env, "push", "-q", "origin", "main")
    return top


class Harness:
    def __init__(self, work: Path, seed: int) -> None:
        self.work = work
        self.rng = random.Random(seed)
        work.mkdir(parents=True, exist_ok=True)
        self.home = work / "home"
        self.home.mkdir(exist_ok=True)
        self.env = isolated_env(str(self.home), {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            "GIT_TERMINAL_PROMPT": "0"})
        self.env.pop("TIDE_RK_KILL", None)
        self.template = make_template(work / "template", self.env)
        self.durations: dict[bool, float] = {}
        self.counts: dict[str, int] = {"trials": 0, "killed": 0, "completed": 0, "failed_on_fault": 0,
                                       "faults_met": 0, "repairs": 0, "with_runner": 0, "second_day": 0}
        self.failures: list[str] = []
        self.point_share = 0.6  # the share of trials killed at a named point (the others: after a delay)

    # --- one trial ---------------------------------------------------------------------------
    def trial(self, n: int, runner: bool) -> None:
        rng = self.rng
        top = self.work / f"trial-{n}"
        shutil.copytree(self.template, top, symlinks=True)
        ws, forge = top / "ws", top / "forge.git"
        env = dict(self.env, HOME=str(top / "home"))
        (top / "home").mkdir()
        days = [DAYS[0]]
        try:
            if runner:
                self.counts["with_runner"] += 1
                (ws / "tide.yaml").write_text(TIDE_YAML + "  runner: local\n")
                _git(ws, env, "commit", "-q", "-am", "runner")
                _git(ws, env, "push", "-q", "origin", "main")
            if rng.random() < 0.4:  # production holds a model already: the trial is the second day
                self.counts["second_day"] += 1
                self._retrain(ws, env, DAYS[0], 4)
                days.append(DAYS[1])
            day, wrong = days[-1], rng.choice([0, 2, 4, 8]) if len(days) > 1 else 4
            kill, delay = self._kill_plan(runner)
            push_fault = rng.choice([None, None, None, *PUSH_FAULTS])
            api_fault = rng.choice([None, None, None, *API_FAULTS]) if push_fault is None else None
            faults_log = top / "faults.log"
            if push_fault:
                pattern, action = PUSH_FAULTS[push_fault]
                hook = forge / "hooks" / "pre-receive"
                hook.write_text(HOOK.replace("PATTERN", pattern).replace("ACTIONCMD", action)
                                .replace("ACTION", push_fault).replace("LOG", str(faults_log)))
                hook.chmod(0o755)
            what = (f"trial {n} (day {day}, wrong_every={wrong}{', runner' if runner else ''}): kill "
                    f"{kill or f'after {delay:.2f}s'}, fault {push_fault or api_fault or 'none'}")
            (ws / "params.yaml").write_text(f"wrong_every: {wrong}\n")
            e = dict(env, TIDE_RK_KILL=kill, TIDE_RK_FAULT=api_fault or "", TIDE_RK_LOG=str(faults_log))
            rc, out = self._run_killable(ws, e, day, delay)
            met = faults_log.exists() and any(not ln.startswith("killed") for ln in faults_log.read_text().splitlines())
            self.counts["faults_met"] += met
            if rc == -signal.SIGKILL:
                self.counts["killed"] += 1
            elif rc == 0:
                self.counts["completed"] += 1
                if met:
                    self.failures.append(f"{what}: exited 0 although the fault happened:\n{out[-1500:]}")
            else:
                self.counts["failed_on_fault"] += 1
                if not met:
                    self.failures.append(f"{what}: failed without a kill or a fault ({rc}):\n{out[-1500:]}")
            (forge / "hooks" / "pre-receive").unlink(missing_ok=True)
            self._reap(top)
            rerun = self._retrain(ws, env, day, wrong, check=False)
            if rerun.returncode != 0:
                self.failures.append(f"{what}: the healthy re-run failed ({rerun.returncode}):\n"
                                     f"{(rerun.stdout + rerun.stderr)[-2000:]}")
                return
            self.counts["repairs"] += (rerun.stdout + rerun.stderr).count("] repaired: ")  # --json: logs on stderr
            problems = self.check(ws, forge, env, days)
            self.failures += [f"{what}: {p}" for p in problems]
        except (AssertionError, subprocess.TimeoutExpired, OSError) as exc:
            self.failures.append(f"trial {n}: {exc}")
        finally:
            self._reap(top)
            if not any(f.startswith(f"trial {n} ") or f.startswith(f"trial {n}:") for f in self.failures):
                shutil.rmtree(top, ignore_errors=True)

    def _kill_plan(self, runner: bool) -> tuple[str, float]:
        rng = self.rng
        if rng.random() < self.point_share:
            points = STEP_POINTS + CALL_POINTS + (RUNNER_POINTS if runner else ())
            if runner:
                points = tuple(p for p in points if p not in ("step:repro", "after:reproduce"))
            return rng.choice(points), 0.0
        return "", rng.uniform(0.05, self.durations.get(runner, 4.0))

    def _run_killable(self, ws: Path, env: dict[str, str], day: str, delay: float) -> tuple[int, str]:
        proc = subprocess.Popen([sys.executable, RETRAINRUN, "retrain", "--day", day, "--json"], cwd=ws, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=delay if delay else 300)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: git, stages, the runner's helpers
            except ProcessLookupError:
                pass
            out, _ = proc.communicate(timeout=60)
        return proc.returncode, out or ""

    def _retrain(self, ws: Path, env: dict[str, str], day: str, wrong: int,
                 check: bool = True) -> subprocess.CompletedProcess:
        (ws / "params.yaml").write_text(f"wrong_every: {wrong}\n")
        return _tide(["retrain", "--day", day, "--json"], ws, env, check)

    def _reap(self, top: Path) -> None:
        """SIGKILL, by id, the processes a killed run left behind (a detached local-runner job) that
        live in this trial's directories."""
        mark = str(top).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
                cwd = os.readlink(f"/proc/{pid}/cwd").encode()
            except OSError:
                continue
            if mark in cmd or cwd.startswith(mark):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass

    # --- the invariants after the healthy re-run -----------------------------------------------
    def check(self, ws: Path, forge: Path, env: dict[str, str], days: list[str]) -> list[str]:
        from tide.core.git import Git
        from tide.registry import state as S

        problems = []
        loc, rem = _tags(ws, env), _tags(forge, env)
        if loc != rem:
            problems.append(f"local and forge tags differ: local {sorted(loc)}, forge {sorted(rem)}")
        art = S.load(Git(str(forge))).get("tiny")
        prod = art.stage("prod") if art else None
        problems += self._deployed(ws, forge, env, art, prod)
        pulls = [json.loads(p.read_text()) for p in (forge / "tide-forge" / "pulls").glob("*.json")]
        for day in days:
            mine = [p for p in pulls if f"-tide-retrain-{day}-" in p["source"]]
            if len(mine) != 1:
                problems.append(f"{len(mine)} PRs for {day} (want 1)")
                continue
            cdir = forge / "tide-forge" / "comments" / "pr" / str(mine[0]["number"])
            bodies = [json.loads(p.read_text())["body"] for p in cdir.glob("*.json")] if cdir.is_dir() else []
            reports = [b for b in bodies if "tide retrain tiny" in b]
            if len(reports) != 1:
                problems.append(f"{len(reports)} report comments on PR #{mine[0]['number']} for {day} (want 1)")
        fsck = _tide(["fsck"], ws, env, check=False)
        if fsck.returncode != 0:
            problems.append(f"tide fsck: {(fsck.stdout + fsck.stderr).strip()[-500:]}")
        chk = _tide(["model", "show", "--check"], ws, env, check=False)
        if chk.returncode != 0:
            problems.append(f"tide model show --check: {chk.stdout.strip()[-500:]}")
        for where in (ws / ".dvc" / "cache" / "files" / "md5", ws.parent / "storage" / "files" / "md5"):
            problems += _unverified(where)
        return problems

    def _deployed(self, ws: Path, forge: Path, env: dict[str, str], art, prod: str | None) -> list[str]:
        info_path = ws / "deployed" / "deployed.json"
        if prod is None:
            return [f"nothing in production on the forge, yet {info_path} exists"] if info_path.exists() else []
        if not info_path.exists():
            return [f"the forge's production is {prod}, nothing is deployed"]
        info = json.loads(info_path.read_text())
        if info.get("version") != prod:
            return [f"the forge's production is {prod}, deployed.json says {info.get('version')}"]
        import yaml

        lock = yaml.safe_load(_git(forge, env, "show", f"{art.versions[prod].commit}:dvc.lock"))
        want = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "model/model.bin")
        have = _md5((ws / "deployed" / info.get("file", "model.bin")).read_bytes())
        return [] if have == want else [f"the deployed model's bytes ({have}) are not {prod}'s ({want})"]

    def calibrate(self, runner: bool) -> None:
        top = self.work / f"calibrate-{int(runner)}"
        shutil.copytree(self.template, top, symlinks=True)
        env = dict(self.env, HOME=str(top / "home"))
        (top / "home").mkdir()
        ws = top / "ws"
        if runner:
            (ws / "tide.yaml").write_text(TIDE_YAML + "  runner: local\n")
            _git(ws, env, "commit", "-q", "-am", "runner")
            _git(ws, env, "push", "-q", "origin", "main")
        t0 = time.monotonic()
        self._retrain(ws, env, DAYS[0], 4)
        self.durations[runner] = time.monotonic() - t0
        self._reap(top)
        shutil.rmtree(top, ignore_errors=True)


def _tags(repo: Path, env: dict[str, str]) -> dict[str, str]:
    out = _git(repo, env, "for-each-ref", "refs/tags", "--format=%(refname:strip=2) %(objectname)")
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def _unverified(where: Path) -> list[str]:
    out = []
    for p in where.glob("*/*") if where.is_dir() else []:
        if p.name.startswith(".") or not p.is_file():
            continue  # a temporary of a killed write: not an object (fsck and gc deal with them)
        oid = p.parent.name + p.name.removesuffix(".dir")
        if _md5(p.read_bytes()) != oid:
            out.append(f"{p} does not hash to its name")
    return out


def run(trials: int, seed: int, work: Path, runner_share: float = 0.25, point_share: float = 0.6) -> dict:
    """``trials`` kill trials of ``tide retrain`` (seeded); {"counts": {...}, "failures": [...]}.
    ``runner_share``: trials that train on the local runner; ``point_share``: trials killed at a named
    point rather than after a random delay."""
    h = Harness(Path(work), seed)
    h.point_share = point_share
    h.calibrate(False)
    plan = [h.rng.random() < runner_share for _ in range(trials)]
    if any(plan):
        h.calibrate(True)
    for n, runner in enumerate(plan):
        h.counts["trials"] += 1
        h.trial(n, runner)
    h.counts["failures"] = len(h.failures)
    return {"counts": h.counts, "failures": h.failures}


if __name__ == "__main__":
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tide-retrainkill-") as d:
        res = run(args.trials, args.seed, Path(d))
    print(json.dumps(res["counts"]))
    for f in res["failures"]:
        print("FAIL:", f)
    raise SystemExit(1 if res["failures"] else 0)
