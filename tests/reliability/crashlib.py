"""Crash injection: run tide in real subprocesses on generated repositories, SIGKILL it, check the damage.

A *template* repository is generated once (two git commits of tracked data, E0 then E1, workspace at
E1) and copied for every trial. A *scenario* prepares the copy (changes data, moves git) and names
the tide command to run. A *trial* runs that command and kills it with SIGKILL either

* ``point``: just before its N-th filesystem mutation (an audit hook, see crashrun.py), or
* ``time``: after a random delay (the kernel kills it wherever it is, mid-write included),

then checks the invariants:

1. ``tide fsck`` finds no corrupt object, no bad manifest, and no tracked object missing;
2. no tracked file is lost: every file content the user had (committed in git or present in the
   workspace before the command) is still in the cache or still in the workspace;
3. re-running the command completes, after which fsck is clean, ``tide status`` is clean and the
   workspace holds exactly what the scenario expects.

Used by tests/reliability/test_crash.py (a few trials) and scripts/torture.py (hundreds).
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hermetic import hermetic

HERE = Path(__file__).resolve().parent
CRASHRUN = str(HERE / "crashrun.py")
TOPS = ("data", "model.bin")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "tide-torture", "GIT_AUTHOR_EMAIL": "torture@example.com",
    "GIT_COMMITTER_NAME": "tide-torture", "GIT_COMMITTER_EMAIL": "torture@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

State = dict[str, bytes]  # workspace path (posix, relative to the repo) -> content


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def isolated_env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a trial: the caller's without credentials, CI markers or tide/dvc knobs
    (tests/hermetic.py, the list every test starts from), its own HOME, then ``extra``."""
    env = hermetic(os.environ)
    env.update(GIT_ENV)
    env.update({
        "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "DVC_GLOBAL_CONFIG_DIR": os.path.join(home, ".config", "dvc"),
        "DVC_SYSTEM_CONFIG_DIR": os.path.join(home, "etc-dvc"), "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": os.path.join(home, "dvc-site-cache"),
    })
    env.update(extra or {})
    return env


def tide(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"tide {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


# --- generated data --------------------------------------------------------------------------------
def gen_state(rng: random.Random, scale: float = 1.0) -> State:
    st: State = {}
    dirs = ["data", "data/a", "data/a/b", "data/c"]
    for i in range(rng.randint(12, 24)):
        size = rng.choice([0, 17, 300, 4096, 20_000, 70_000, int(400_000 * scale)])
        st[f"{rng.choice(dirs)}/f{i}.bin"] = rng.randbytes(size)
    st["model.bin"] = rng.randbytes(int(2_000_000 * scale))
    return st


def mutate(rng: random.Random, old: State, scale: float = 1.0) -> State:
    new = dict(old)
    files = sorted(p for p in old if p.startswith("data/"))
    for p in rng.sample(files, k=max(1, len(files) // 3)):
        if rng.random() < 0.3 and len([q for q in new if q.startswith("data/")]) > 2:
            del new[p]
        else:
            new[p] = rng.randbytes(rng.choice([1, 999, 30_000, int(300_000 * scale)]))
    for i in range(rng.randint(1, 4)):
        new[f"data/new{rng.randrange(10**6)}_{i}.bin"] = rng.randbytes(rng.choice([5, 5000, 90_000]))
    if files and rng.random() < 0.3:  # a duplicate content under another name (dedup in the cache)
        new[f"data/c/dup{rng.randrange(1000)}.bin"] = new.get(files[0], b"dup")
    new["model.bin"] = rng.randbytes(int(2_000_000 * scale))
    return new


def write_state(root: Path, old: State, new: State) -> None:
    """Make the workspace hold ``new`` (never writing in place: cache links stay intact)."""
    for p in old:
        if p not in new:
            (root / p).unlink(missing_ok=True)
    for p, data in new.items():
        if old.get(p) == data and (root / p).exists():
            continue
        dst = root / p
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.parent / f".gen-{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, dst)


def read_state(root: Path) -> State:
    st: State = {}
    for top in TOPS:
        p = root / top
        if p.is_file():
            st[top] = p.read_bytes()
        elif p.is_dir():
            for d, _, files in os.walk(p):
                for f in files:
                    full = Path(d) / f
                    st[full.relative_to(root).as_posix()] = full.read_bytes()
    return st


# --- template -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    path: Path
    e0: State
    e1: State
    c0: str
    cache_type: str
    remote: Path | None = None  # a local remote holding every object of E0 and E1
    pipeline: bool = False  # dvc.yaml stage `copy`: model.bin -> model.copy


PIPELINE = ("stages:\n  copy:\n    cmd: cp model.bin model.copy\n    deps:\n    - model.bin\n"
            "    outs:\n    - model.copy\n")


def make_template(where: Path, env: dict[str, str], seed: int, scale: float = 1.0,
                  cache_type: str = "") -> Template:
    rng = random.Random(seed)
    root = where / "template"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main", env=env)
    tide(["init", "-q"], root, env)
    if cache_type:
        tide(["config", "cache.type", cache_type], root, env)
    e0 = gen_state(rng, scale)
    write_state(root, {}, e0)
    tide(["add", "-q", *TOPS], root, env)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "E0", env=env)
    c0 = git(root, "rev-parse", "HEAD", env=env).strip()
    e1 = mutate(rng, e0, scale)
    write_state(root, e0, e1)
    tide(["add", "-q", *TOPS], root, env)
    remote = where / "template-remote"
    cli = _cli_dir()
    if (cli / "cmd_push.py").exists():
        tide(["remote", "add", "-d", "store", str(remote)], root, env)
    pipeline = (cli / "cmd_repro.py").exists()
    if pipeline:
        (root / "dvc.yaml").write_text(PIPELINE)
        tide(["repro", "-q"], root, env)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "E1", env=env)
    git(root, "branch", "old", c0, env=env)
    if (cli / "cmd_push.py").exists():
        tide(["push", "-q", "-a"], root, env)
    return Template(root, e0, e1, c0, cache_type, remote if remote.exists() else None, pipeline)


def _cli_dir() -> Path:
    return Path(__import__("tide.cli.main", fromlist=["x"]).__file__).parent


# --- scenarios ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    final: State  # the workspace after a successful run
    keep: State  # contents that must stay recoverable (cache or workspace) even after a crash
    before: State  # the workspace just before the command
    remote: Path | None = None  # the trial's own remote
    remote_keep: frozenset[str] = frozenset()  # objects that must be on the remote, intact, at all times
    remote_final: frozenset[str] = frozenset()  # objects that must be on the remote after the re-run
    after: tuple[str, ...] = ()  # a tide command run after the re-run, before comparing the workspace
    extra_final: tuple[tuple[str, bytes], ...] = ()  # other files the re-run must produce
    cache_complete: bool = True  # False: the cache starts without the tracked objects (pull, fetch)


@dataclass(frozen=True)
class Scenario:
    name: str
    argv: tuple[str, ...]
    prepare: Callable[[Path, random.Random, Template, dict[str, str]], Expect]
    needs: tuple[str, ...] = ()  # cli modules this scenario needs (cmd_<name>.py)
    env: tuple[tuple[str, str], ...] = ()  # extra environment of the command
    pipeline: bool = False  # needs the template's pipeline


def _prep_change(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    e2 = mutate(rng, t.e1, 0.5)
    write_state(root, t.e1, e2)
    return Expect(final=e2, keep={**_prefixed(t.e0), **_prefixed(t.e1), **e2}, before=e2)


def _prep_checkout_old(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    git(root, "checkout", "-q", t.c0, "--", "data.dvc", "model.bin.dvc", env=env)
    return Expect(final=t.e0, keep={**_prefixed(t.e0), **t.e1}, before=t.e1)


def _prep_checkout_damaged(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    damaged = dict(t.e1)
    for p in rng.sample(sorted(damaged), k=max(1, len(damaged) // 2)):
        if rng.random() < 0.5:
            del damaged[p]
        else:
            damaged[p] = b"scribbled over " + rng.randbytes(10)
    write_state(root, t.e1, damaged)
    return Expect(final=t.e1, keep=_prefixed(t.e1), before=damaged)


def _prep_gc_workspace(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    return Expect(final=t.e1, keep=t.e1, before=t.e1)


def _prep_gc_all(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    return Expect(final=t.e1, keep={**_prefixed(t.e0), **t.e1}, before=t.e1)


def _own_remote(root: Path, t: Template, env: dict[str, str], objects: str = "all") -> Path:
    """A copy of the template's remote for this trial only ("all", "half" or "none" of its objects)."""
    assert t.remote is not None, "the template has no remote (push is not built)"
    remote = root.parent / f"{root.name}-remote"
    shutil.copytree(t.remote, remote)
    if objects != "all":  # "half": what an interrupted push leaves (files first, manifests last)
        for i, p in enumerate(sorted(remote.rglob("*"))):
            if p.is_file() and (objects == "none" or i % 2 == 0 or p.name.endswith(".dir")):
                p.unlink()
    tide(["remote", "modify", "store", "url", str(remote)], root, env)
    return remote


def _oids(st: State) -> frozenset[str]:
    return frozenset(md5(v) for v in st.values())


def _prep_push(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    remote = _own_remote(root, t, env, rng.choice(["none", "half"]))
    return Expect(final=t.e1, keep=_prefixed(t.e1), before=t.e1, remote=remote, remote_final=_oids(t.e1))


def _prep_pull(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    remote = _own_remote(root, t, env)
    shutil.rmtree(root / ".dvc" / "cache")
    write_state(root, t.e1, {})
    shutil.rmtree(root / "data", ignore_errors=True)
    return Expect(final=t.e1, keep={}, before={}, remote=remote, remote_keep=_oids(t.e1) | _oids(t.e0),
                  cache_complete=False)


def _prep_fetch(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    exp = _prep_pull(root, rng, t, env)
    return Expect(final=t.e1, keep={}, before={}, remote=exp.remote, remote_keep=exp.remote_keep,
                  after=("checkout", "-q"), cache_complete=False)


def _prep_gc_cloud(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    remote = _own_remote(root, t, env)
    return Expect(final=t.e1, keep=t.e1, before=t.e1, remote=remote, remote_keep=_oids(t.e1),
                  remote_final=_oids(t.e1))


def _prep_repro(root: Path, rng: random.Random, t: Template, env: dict[str, str]) -> Expect:
    new = dict(t.e1, **{"model.bin": rng.randbytes(len(t.e1["model.bin"]))})
    write_state(root, t.e1, new)
    tide(["add", "-q", "model.bin"], root, env)
    return Expect(final=new, keep={**_prefixed(t.e1), **new}, before=new,
                  extra_final=(("model.copy", new["model.bin"]),))


def _prefixed(st: State) -> State:
    """Contents only required to be in the cache (keys made unique so they never match a workspace path)."""
    return {f"\0{p}": v for p, v in st.items()}


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("add", ("add", "-q", *TOPS), _prep_change),
    Scenario("commit", ("commit", "-q", "-f"), _prep_change),
    Scenario("checkout", ("checkout", "-q"), _prep_checkout_old),
    Scenario("checkout-force", ("checkout", "-q", "-f"), _prep_checkout_damaged),
    Scenario("gc-workspace", ("gc", "-q", "-w", "-f"), _prep_gc_workspace),
    Scenario("gc-all-branches", ("gc", "-q", "-a", "-f"), _prep_gc_all),
    Scenario("push", ("push", "-q"), _prep_push, needs=("remote",)),
    Scenario("pull", ("pull", "-q"), _prep_pull, needs=("remote",)),
    Scenario("fetch", ("fetch", "-q"), _prep_fetch, needs=("remote", "checkout")),
    Scenario("gc-cloud", ("gc", "-q", "-c", "-w", "-f"), _prep_gc_cloud, needs=("remote",),
             env=(("TIDE_GC_GRACE", "0"),)),
    Scenario("repro", ("repro", "-q"), _prep_repro, pipeline=True),
)}


def available(scenario: Scenario) -> bool:
    cli = _cli_dir()
    return all((cli / f"cmd_{m}.py").exists() for m in (scenario.argv[0], *scenario.needs))


# --- trials ---------------------------------------------------------------------------------------
@dataclass
class Trial:
    scenario: str
    mode: str  # "point" or "time"
    at: float  # mutation number or delay in seconds
    killed: bool = False
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        how = f"mutation #{int(self.at)}" if self.mode == "point" else f"{self.at:.3f}s"
        return f"{self.scenario} killed at {how}: " + "; ".join(self.problems)


def _copy(t: Template, dst: Path) -> Path:
    shutil.copytree(t.path, dst, symlinks=True)
    return dst


def calibrate(s: Scenario, t: Template, work: Path, env: dict[str, str], seed: int) -> tuple[int, float]:
    """Run the scenario once without a crash: the number of mutations and the duration."""
    root = _copy(t, work / f"cal-{s.name}")
    s.prepare(root, random.Random(seed), t, env)
    count_file = work / f"cal-{s.name}.count"
    e = dict(env, **dict(s.env), TIDE_CRASH_ROOTS=_roots(root), TIDE_CRASH_COUNT=str(count_file))
    start = time.monotonic()
    p = subprocess.run([sys.executable, CRASHRUN, *s.argv], cwd=root, env=e, capture_output=True, text=True)
    took = time.monotonic() - start
    if p.returncode != 0:
        raise AssertionError(f"calibration run of {s.name} failed:\n{p.stdout}\n{p.stderr}")
    n = int(count_file.read_text())
    shutil.rmtree(root, ignore_errors=True)
    return n, took


def run_trial(s: Scenario, t: Template, work: Path, env: dict[str, str], rng: random.Random,
              mode: str, at: float, keep_dir: bool = False) -> Trial:
    root = _copy(t, work / f"trial-{s.name}-{mode}-{rng.randrange(10**9)}")
    exp = s.prepare(root, rng, t, env)
    tr = Trial(s.name, mode, at)
    e = dict(env, **dict(s.env), TIDE_CRASH_ROOTS=_roots(root))
    if mode == "point":
        e["TIDE_CRASH_AT"] = str(int(at))
    proc = subprocess.Popen([sys.executable, CRASHRUN, *s.argv], cwd=root, env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if mode == "time":
        try:
            proc.wait(timeout=at)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    tr.killed = proc.returncode == -signal.SIGKILL
    if not tr.killed and proc.returncode != 0:
        tr.problems.append(f"the command failed without a crash ({proc.returncode}): {err.strip()[-300:]}")
    check_after_crash(root, env, exp, tr)
    check_rerun(root, dict(env, **dict(s.env)), s, exp, tr)
    if not keep_dir and not tr.problems:
        shutil.rmtree(root, ignore_errors=True)
        if exp.remote is not None:
            shutil.rmtree(exp.remote, ignore_errors=True)
    elif tr.problems:
        tr.problems.append(f"(repository kept at {root})")
    return tr


def _roots(root: Path) -> str:
    return os.pathsep.join([str(root), str(root.parent / f"{root.name}-remote")])


def remote_problems(remote: Path | None, want: frozenset[str], when: str) -> list[str]:
    """Corrupt objects on a local remote, and wanted ones that are absent."""
    if remote is None:
        return []
    out = []
    have = set()
    base = remote / "files" / "md5"
    for p in base.glob("*/*") if base.is_dir() else []:
        if p.name.startswith("."):
            continue
        oid = p.parent.name + p.name
        have.add(oid)
        if md5(p.read_bytes()) != oid.removesuffix(".dir"):
            out.append(f"{when}: corrupt object on the remote: {oid}")
    missing = sorted(want - have)
    if missing:
        out.append(f"{when}: {len(missing)} objects missing on the remote, e.g. {missing[0]}")
    return out


def _fsck(root: Path, env: dict[str, str]) -> tuple[dict | None, str]:
    p = tide(["fsck", "--json"], root, env, check=False)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr
    except (ValueError, IndexError):
        return None, p.stderr


def cached_oids(root: Path) -> set[str]:
    base = root / ".dvc" / "cache" / "files" / "md5"
    if not base.is_dir():
        return set()
    return {pre.name + f.name for pre in base.iterdir() if pre.is_dir()
            for f in pre.iterdir() if not f.name.endswith(".tmp")}


def check_after_crash(root: Path, env: dict[str, str], exp: Expect, tr: Trial) -> None:
    rep, err = _fsck(root, env)
    if rep is None:
        tr.problems.append(f"fsck after the crash did not report: {err.strip()[-300:]}")
    else:
        for k in ("corrupt", "missing", "bad_manifests") if exp.cache_complete else ("corrupt",):
            if rep[k]:
                tr.problems.append(f"fsck after the crash: {k} {rep[k][:3]}")
    tr.problems += remote_problems(exp.remote, exp.remote_keep, "after the crash")
    have = cached_oids(root)
    ws = read_state(root)
    for p, data in exp.keep.items():
        if md5(data) not in have and ws.get(p) != data:
            tr.problems.append(f"lost: {p.lstrip(chr(0))} ({md5(data)}) is neither in the cache nor in the workspace")


def check_rerun(root: Path, env: dict[str, str], s: Scenario, exp: Expect, tr: Trial) -> None:
    p = tide(list(s.argv), root, env, check=False)
    if p.returncode != 0:
        tr.problems.append(f"re-run failed ({p.returncode}): {p.stderr.strip()[-300:]}")
        return
    for cmd in [exp.after] if exp.after else []:
        p = tide(list(cmd), root, env, check=False)
        if p.returncode != 0:
            tr.problems.append(f"tide {' '.join(cmd)} after the re-run failed: {p.stderr.strip()[-300:]}")
    tr.problems += remote_problems(exp.remote, exp.remote_keep | exp.remote_final, "after the re-run")
    for rel, data in exp.extra_final:
        if not (root / rel).is_file() or (root / rel).read_bytes() != data:
            tr.problems.append(f"after the re-run, {rel} does not hold what the command produces")
    rep, err = _fsck(root, env)
    if rep is None or any(rep[k] for k in ("corrupt", "missing", "bad_manifests")):
        tr.problems.append(f"fsck after the re-run: {rep or err.strip()[-300:]}")
    st = tide(["status", "--json"], root, env, check=False)
    changed = json.loads(st.stdout or "null") if st.returncode == 0 else None
    if isinstance(changed, dict) and not s.pipeline:  # stages are stale when a scenario moves model.bin
        changed = {k: v for k, v in changed.items() if k.endswith(".dvc")}
    if changed not in ({}, []):
        tr.problems.append(f"status after the re-run is not clean: {st.stdout.strip()[:300]} {st.stderr.strip()}")
    ws = read_state(root)
    if ws != exp.final:
        diff = sorted(set(ws) ^ set(exp.final)) + sorted(p for p in ws if p in exp.final and ws[p] != exp.final[p])
        tr.problems.append(f"workspace after the re-run differs from the expected data: {diff[:5]}")


def new_workdir(prefix: str = "tide-crash-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
