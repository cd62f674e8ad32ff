"""Issue 22's experiment rows: ``exp show`` over 200 experiments on 20 commits, ``exp run`` of a
two-stage pipeline (overhead above the stages' own time), and a 12-point ``-S`` sweep run through
the queue on 2 workers.

The repositories are built once per work directory as templates and copied for each tool (and
before each run that changes them), so both tools start from the same bytes:

- ``show``: ``git init`` + real ``dvc init``, then the 20 commits and the 200 experiment commits
  written by two ``git fast-import`` streams (under a second). Each experiment commit is what
  ``exp run`` leaves: the baseline's tree with new params.yaml, dvc.lock (true md5s) and
  metrics.json, parent the baseline, message ``dvc: commit experiment <hash>``, ref
  ``refs/exps/<sha[:2]>/<sha[2:]>/<name>``. After the timed runs both tools' ``--json`` output is
  compared (``same JSON`` in the row's note, or where it differs).
- ``pipe``: a two-stage pipeline (``prep`` -> ``train``, each sleeping ``STAGE_S``) reproduced by
  real ``dvc repro`` and committed: the baseline of the run and sweep rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable

from harness import BenchError, OpResult, Tool, run_pairs, sh
from workloads import _done, _mark

BASELINES = 20
EXPS_PER_BASELINE = 10
T0 = 1_767_225_600  # 2026-01-01 00:00 UTC: commit times of the generated history
STAGE_S = 0.5  # each stage of the pipeline sleeps this long (its "own time")
SWEEP = ("train.lr=0.1,0.2,0.3", "train.n=1,2,3,4")  # 12 points
SWEEP_JOBS = 2
EXP_OPS = ("exp-show", "exp-show-cold", "exp-run", "exp-sweep")

SHOW_DVC_YAML = """stages:
  train:
    cmd: python3 train.py
    deps:
    - train.py
    params:
    - train
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
"""
SHOW_TRAIN_PY = """import json, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
open("model.txt", "w").write(f"{p['lr']} {p['n']}\\n")
json.dump({"score": p["lr"] * p["n"], "loss": 1 - p["lr"]}, open("metrics.json", "w"))
"""

PIPE_DVC_YAML = """stages:
  prep:
    cmd: python3 prep.py
    deps:
    - prep.py
    params:
    - prep
    outs:
    - data.txt
  train:
    cmd: python3 train.py
    deps:
    - train.py
    - data.txt
    params:
    - train
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
"""
PIPE_PARAMS = "prep:\n  seed: 1\n  rows: 1000\ntrain:\n  lr: 0.05\n  n: 1\n"
PIPE_PREP_PY = f"""import random, time, yaml
p = yaml.safe_load(open("params.yaml"))["prep"]
rng = random.Random(p["seed"])
with open("data.txt", "w") as f:
    for _ in range(p["rows"]):
        f.write(f"{{rng.random():.6f}}\\n")
time.sleep({STAGE_S})
"""
PIPE_TRAIN_PY = f"""import json, time, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
xs = [float(x) for x in open("data.txt")]
score = sum(x * p["lr"] for x in xs[: 100 * p["n"]])
open("model.txt", "w").write(f"{{score:.6f}}\\n")
json.dump({{"score": round(score, 6), "n": len(xs)}}, open("metrics.json", "w"))
time.sleep({STAGE_S})
"""


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def _data(b: bytes) -> bytes:
    return b"data %d\n" % len(b) + b + b"\n"


def _show_files(lr: float, n: int, train_py: bytes) -> dict[str, bytes]:
    """params.yaml, dvc.lock and metrics.json as a run of train.py with these params leaves them."""
    params = f"train:\n  lr: {lr}\n  n: {n}\n".encode()
    model = f"{lr} {n}\n".encode()
    metrics = json.dumps({"score": lr * n, "loss": 1 - lr}).encode()
    lock = (
        "schema: '2.0'\nstages:\n  train:\n    cmd: python3 train.py\n    deps:\n    - path: train.py\n"
        f"      hash: md5\n      md5: {_md5(train_py)}\n      size: {len(train_py)}\n    params:\n"
        f"      params.yaml:\n        train:\n          lr: {lr}\n          n: {n}\n    outs:\n"
        f"    - path: metrics.json\n      hash: md5\n      md5: {_md5(metrics)}\n      size: {len(metrics)}\n"
        f"    - path: model.txt\n      hash: md5\n      md5: {_md5(model)}\n      size: {len(model)}\n"
    ).encode()
    return {"params.yaml": params, "dvc.lock": lock, "metrics.json": metrics}


def _commit(ref: str, when: int, msg: str, parent: str | None, files: dict[str, bytes], mark: int = 0) -> bytes:
    out = [f"commit {ref}\n".encode(), f"mark :{mark}\n".encode() if mark else b"",
           f"committer bench <bench@example.com> {when} +0000\n".encode(), _data(msg.encode())]
    if parent:
        out.append(f"from {parent}\n".encode())
    for path, body in files.items():
        out.append(f"M 100644 inline {path}\n".encode() + _data(body))
    return b"".join(out) + b"\n"


def _fast_import(repo: str, stream: bytes, marks: str | None = None) -> dict[str, str]:
    args = ["git", "fast-import", "--quiet"] + ([f"--export-marks={marks}"] if marks else [])
    proc = subprocess.run(args, cwd=repo, input=stream, capture_output=True)
    if proc.returncode != 0:
        raise BenchError(f"git fast-import failed in {repo}: {proc.stderr.decode()[-2000:]}")
    if not marks:
        return {}
    with open(marks) as f:
        return dict(line.split() for line in f if line.strip())


def _init(repo: str, dvc: Tool, env: dict[str, str]) -> None:
    os.makedirs(repo)
    sh(["git", "init", "-q", "-b", "main"], cwd=repo)
    sh(dvc.command("init", "-q"), cwd=repo, env=env)


def show_template(work: str, dvc: Tool, env: dict[str, str]) -> str:
    """A repository with BASELINES commits on main, each with EXPS_PER_BASELINE experiments."""
    src = os.path.join(work, "data", f"exps-{BASELINES}x{EXPS_PER_BASELINE}")
    params = {"baselines": BASELINES, "exps": EXPS_PER_BASELINE, "v": 1}
    if _done(src + ".json", params):
        return src
    shutil.rmtree(src, ignore_errors=True)
    _init(src, dvc, env)
    train_py = SHOW_TRAIN_PY.encode()
    sh(["git", "add", "-A"], cwd=src)
    sh(["git", "commit", "-q", "-m", "init"], cwd=src, env={**env, "GIT_COMMITTER_DATE": f"{T0} +0000",
                                                           "GIT_AUTHOR_DATE": f"{T0} +0000"})
    # the baselines: a new lr each, n = 1
    stream = []
    for i in range(BASELINES):
        files = _show_files(round(0.01 * (i + 1), 2), 1, train_py)
        if i == 0:
            files = {"dvc.yaml": SHOW_DVC_YAML.encode(), "train.py": train_py, **files}
        parent = "refs/heads/main^0" if i == 0 else None  # then each continues the branch
        stream.append(_commit("refs/heads/main", T0 + 1000 * (i + 1), f"baseline {i}", parent, files, i + 1))
    marks = os.path.join(src, ".git", "bench-marks")
    shas = _fast_import(src, b"".join(stream), marks)
    # the experiments: n = 2 .. EXPS_PER_BASELINE + 1 on each baseline, one second apart
    stream = []
    for i in range(BASELINES):
        base = shas[f":{i + 1}"]
        lr = round(0.01 * (i + 1), 2)
        for j in range(EXPS_PER_BASELINE):
            files = _show_files(lr, j + 2, train_py)
            digest = hashlib.sha256(files["dvc.lock"]).hexdigest()
            ref = f"refs/exps/{base[:2]}/{base[2:]}/exp-{i:02d}-{j:02d}"
            stream.append(_commit(ref, T0 + 1000 * (i + 1) + 10 + j, f"dvc: commit experiment {digest}", base, files))
    _fast_import(src, b"".join(stream))
    os.unlink(marks)
    sh(["git", "checkout", "-q", "-f", "main"], cwd=src)
    _mark(src + ".json", params)
    return src


def pipe_template(work: str, dvc: Tool, env: dict[str, str]) -> str:
    """The two-stage pipeline, reproduced by dvc and committed (outputs in the cache, run cache filled)."""
    src = os.path.join(work, "data", "exps-pipeline")
    params = {"stage_s": STAGE_S, "v": 1}
    if _done(src + ".json", params):
        return src
    shutil.rmtree(src, ignore_errors=True)
    _init(src, dvc, env)
    for name, text in (("dvc.yaml", PIPE_DVC_YAML), ("params.yaml", PIPE_PARAMS), ("prep.py", PIPE_PREP_PY),
                       ("train.py", PIPE_TRAIN_PY)):
        with open(os.path.join(src, name), "w") as f:
            f.write(text)
    sh(dvc.command("repro", "-q"), cwd=src, env=env)
    sh(["git", "add", "-A"], cwd=src)
    sh(["git", "commit", "-q", "-m", "pipeline"], cwd=src, env=env)
    _mark(src + ".json", params)
    return src


def stages_alone(repo: str) -> tuple[float, float]:
    """Wall time of the pipeline's two commands run directly in ``repo``, each: (prep, train)."""
    times = []
    for script in ("prep.py", "train.py"):
        t0 = time.perf_counter()
        subprocess.run(["python3", script], cwd=repo, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times[0], times[1]


def _exp_count(repo: str) -> int:
    """Experiments in ``repo``: refs/exps/<2>/<38>/<name> (dvc's bookkeeping refs have other shapes)."""
    out = sh(["git", "for-each-ref", "--format=%(refname)", "refs/exps/"], cwd=repo)
    return sum(1 for r in out.split() if len(r.split("/")) == 5 and len(r.split("/")[2]) == 2)


class ExpSuite:
    """Issue 22's rows, for all tools: each tool gets copies of the templates under
    ``<work>/runs/exps/<tool>/``; the same argv for both."""

    def __init__(self, lab, want: set[str]) -> None:
        self.lab = lab
        self.want = want
        self.base = os.path.join(lab.work, "runs", "exps")
        self.dvc = next((t for t in lab.tools if t.name == "dvc"), None)  # builds the workloads

    def env(self, t: Tool) -> dict[str, str]:
        env = self.lab.env(t)
        # dvc's queue workers start `dvc` from PATH: its own environment's first
        env["PATH"] = os.path.dirname(os.path.abspath(t.argv[0])) + os.pathsep + env.get("PATH", os.defpath)
        return env

    def repo(self, t: Tool, kind: str) -> str:
        return os.path.join(self.base, t.name, kind)

    def _fresh(self, template: str, kind: str, alone: list | None = None) -> Callable[[Tool], None]:
        """A reset: a new copy of ``template``; with ``alone``, before each pair, the stages run directly
        in a copy of their own (appended to it: the stages' own time, measured among the pairs)."""
        def reset(t: Tool) -> None:
            self.lab.discard(self.repo(t, kind))
            os.makedirs(os.path.dirname(self.repo(t, kind)), exist_ok=True)
            sh(["cp", "-a", template, self.repo(t, kind)])
            if alone is not None and t is self.lab.tools[0]:
                scratch = os.path.join(self.base, "alone")
                if not os.path.isdir(scratch):
                    sh(["cp", "-a", template, scratch])
                alone.append(stages_alone(scratch))
        return reset

    def _measure(self, op: str, reset, argv_for, kind: str, pairs: int | None = None,
                 after: Callable[[Tool], None] | None = None) -> OpResult:
        from scenarios import OPS

        label = OPS[op][0]
        res = OpResult("exps", op)
        missing = [t.name for t in self.lab.tools if not self.lab.has(t, "exp")]
        if missing:
            res.pending = f"pending: `{' '.join(missing)} exp` does not exist yet"
            return res
        self.lab.log(f"  {label} ...")
        t0 = time.perf_counter()
        try:
            res.samples = run_pairs(self.lab.tools, reset, lambda t: (argv_for(t), self.repo(t, kind)), self.env,
                                    pairs or self.lab.pairs, warmup=0 if pairs else 1, after=after)
        except BenchError as exc:
            res.pending = "failed: " + " ".join(str(exc).split())[:300]
            self.lab.log(f"  {label}: {res.pending}")
            return res
        res.note = f"{pairs} pairs, no warm-up" if pairs else ""
        meds = ", ".join(f"{t.name} {res.median(t.name):.3f}s" for t in self.lab.tools)
        self.lab.log(f"  {label}: {meds} ({time.perf_counter() - t0:.0f}s)")
        return res

    def run(self) -> list[OpResult]:
        lab = self.lab
        out: list[OpResult] = []
        if self.dvc is None:
            lab.log("experiment rows: skipped (they compare with dvc, which builds their repositories)")
            return out
        dvc_env = self.env(self.dvc)
        if self.want & {"exp-show", "exp-show-cold"}:
            lab.log(f"experiments: {BASELINES} commits x {EXPS_PER_BASELINE} experiments ...")
            template = show_template(lab.work, self.dvc, dvc_env)
            for t in lab.tools:
                self._fresh(template, "show")(t)
            show = ["exp", "show", "-A"]
            if "exp-show-cold" in self.want:
                out.append(self._measure("exp-show-cold", self._forget_shown, lambda t: t.command(*show), "show"))
            if "exp-show" in self.want:
                out.append(self._measure("exp-show", lambda t: None, lambda t: t.command(*show), "show"))
            if any(r.samples for r in out):
                self._compare_json(out, show)
        if self.want & {"exp-run", "exp-sweep"}:
            template = pipe_template(lab.work, self.dvc, dvc_env)
            if "exp-run" in self.want:
                alone: list[tuple[float, float]] = []
                r = self._measure("exp-run", self._fresh(template, "pipe", alone),
                                  lambda t: t.command("exp", "run", "-S", "prep.seed=2"), "pipe",
                                  after=lambda t: self._expect(t, 1))
                if r.samples:
                    own = statistics.median(a + b for a, b in alone)
                    r.limit, r.limit_name = own, "the two stages run directly"
                    r.note = "overhead above the stages: " + ", ".join(
                        f"{t.name} {r.median(t.name) - own:.2f} s" for t in lab.tools)
                out.append(r)
            if "exp-sweep" in self.want:
                sets = " ".join(f"-S '{s}'" for s in SWEEP)

                def sweep(t: Tool) -> list[str]:
                    exe = " ".join(f"'{a}'" for a in t.argv)
                    return ["timeout", "1800", "sh", "-c",
                            f"{exe} exp run --queue {sets} && {exe} exp run --run-all -j {SWEEP_JOBS}"]

                alone = []
                r = self._measure("exp-sweep", self._fresh(template, "pipe", alone), sweep, "pipe",
                                  pairs=min(2, lab.pairs), after=lambda t: self._expect(t, 12))
                if r.samples:
                    rounds = -(-12 // SWEEP_JOBS)
                    r.limit = rounds * statistics.median(b for _, b in alone)
                    r.limit_name = f"{rounds} train runs back to back"
                    r.note = (f"`exp run --queue {sets}` then `exp run --run-all -j {SWEEP_JOBS}`; {r.note}; "
                              f"each stage sleeps {STAGE_S} s; CPU: tide's counts its workers, dvc's celery "
                              "workers are detached and not counted")
                out.append(r)
        return out

    def _forget_shown(self, t: Tool) -> None:
        """Each tool's cache of what it showed: dvc's ``.dvc/tmp/exps/cache``, tide's own."""
        for sub in (("exps", "cache"), ("tide-exps-cache",)):
            self.lab.discard(os.path.join(self.repo(t, "show"), ".dvc", "tmp", *sub))

    def _expect(self, t: Tool, n: int) -> None:
        got = _exp_count(self.repo(t, "pipe"))
        if got != n:
            raise BenchError(f"{t.name}: {got} experiments after the run, expected {n}")

    def _compare_json(self, results: list[OpResult], show: list[str]) -> None:
        """Whether both tools print the same ``--json`` (untimed, caches warm): fidelity of the rows."""
        outs = {}
        for t in self.lab.tools:
            proc = subprocess.run(t.command(*show, "--json"), cwd=self.repo(t, "show"), env=self.env(t),
                                  capture_output=True)
            outs[t.name] = json.loads(proc.stdout) if proc.returncode == 0 else None
        vals = list(outs.values())
        n = sum(len(s.get("experiments") or []) for s in vals[0] or [])
        same = f"same --json from both, {n} experiments" if all(v == vals[0] for v in vals) and n else \
            "the tools' --json differ"
        for r in results:
            r.note = "; ".join(x for x in (r.note, same) if x)
        self.lab.log(f"  exp show --json: {same}")
