"""The experiment queue: ``exp run --queue`` stores each experiment as a commit (the workspace's changes
and its ``-S`` overrides on top of HEAD) under ``refs/tide/queue/<id>`` (outside ``refs/exps``, where
dvc would read any ref as an experiment) with its state in ``.dvc/tmp/tide-queue/entries/<id>.json``.

``queue start -j N`` starts N worker processes. A worker claims the oldest queued entry (an
``O_EXCL`` claim file: two workers never take the same one), runs it in a child process of its own
session whose output goes to ``logs/<id>.log``; the child builds an isolated copy of the repository
(``git worktree`` at the entry's commit, HEAD moved back to the baseline), points it at the shared
cache (so the run cache restores stages already seen), reproduces there and records the experiment
ref as a workspace run does. A child that dies (killed, crashed) leaves its entry failed with its log;
the worker takes the next entry. An entry marked running whose processes are all gone (its worker was
killed too) reads as failed. ``exp clean`` removes copies left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from tide.core.errors import UsageError
from tide.ops.exp_refs import ExperimentError
from tide.workspace.repo import Repo

QUEUE_REFS = "refs/tide/queue/"


@dataclass(frozen=True)
class QueueRequest:
    name: str | None = None
    params: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    force: bool = False
    message: str | None = None
    run_cache: bool = True


@dataclass
class Entry:
    id: str
    name: str
    baseline: str
    commit: str
    created: float
    status: str = "queued"  # queued | running | success | failed
    overrides: str = ""
    targets: list[str] = field(default_factory=list)
    force: bool = False
    message: str | None = None
    run_cache: bool = True
    worker: int | None = None  # pid of the worker that claimed it
    pid: int | None = None  # pid (and process group) of the run
    returncode: int | None = None
    exp_ref: str | None = None
    exp_rev: str | None = None
    error: str | None = None
    copy: str | None = None  # the isolated copy's directory


def qdir(repo: Repo, *parts: str) -> str:
    return os.path.join(repo.tmp_dir, "tide-queue", *parts)


def _save(repo: Repo, e: Entry) -> None:
    path = qdir(repo, "entries", f"{e.id}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(asdict(e), f)
    os.replace(tmp, path)


def _load(repo: Repo, eid: str) -> Entry | None:
    try:
        with open(qdir(repo, "entries", f"{eid}.json"), encoding="utf-8") as f:
            return Entry(**json.load(f))
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def entries(repo: Repo) -> list[Entry]:
    """Every entry, oldest first; a running entry whose processes are gone is marked failed."""
    d = qdir(repo, "entries")
    out = []
    for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if fn.endswith(".json"):
            e = _load(repo, fn[:-5])
            if e is None:
                continue
            if e.status == "running" and not _alive(e.pid) and not _alive(e.worker):
                e.status, e.error = "failed", e.error or "its worker and run were killed"
                _save(repo, e)
            out.append(e)
    return sorted(out, key=lambda e: (e.created, e.id))


def find(repo: Repo, name: str) -> Entry:
    found = [e for e in entries(repo) if name in (e.name, e.id) or (len(name) >= 4 and e.id.startswith(name))]
    if not found:
        raise ExperimentError(f"no queued experiment named '{name}'")
    return found[-1]


def enqueue(repo: Repo, req: QueueRequest) -> list[Entry]:
    """One entry per point of the ``-S`` sweep (dvc names them NAME-1, NAME-2... when -n is given)."""
    from tide.ops import exp_params
    from tide.ops.exp_run import baseline, experiment_paths, overrides_paths, pick_name

    git = repo.git
    base = baseline(repo)
    overrides = exp_params.parse_all(list(req.params))
    points = exp_params.expand(overrides) if overrides else [{}]
    sweep = len(points) > 1 or exp_params.is_sweep(overrides)
    paths = experiment_paths(repo)
    made: list[Entry] = []
    taken: set[str] = {e.name for e in entries(repo) if e.baseline == base and e.status in ("queued", "running")}
    for i, point in enumerate(points):
        want = f"{req.name}-{i + 1}" if (req.name and sweep) else req.name
        name = pick_name(repo, base, want, req.force, taken)
        if name in taken:
            raise ExperimentError(f"an experiment named '{name}' is already queued")
        taken.add(name)
        files = exp_params.apply_to_files(repo.root, point)
        groot = os.path.realpath(git.root)
        files = {os.path.relpath(os.path.join(repo.root, k), groot).replace(os.sep, "/"): v for k, v in files.items()}
        extra = sorted(overrides_paths(repo, point))
        commit = git.commit_worktree(base, sorted(set(paths) | set(extra) - set(files)),
                                     f"tide-exp-queue:{base}:{name}", files=files, allow_empty=True)
        eid = os.urandom(6).hex()  # 12 hex digits (uuid's import costs exp show ~10 ms)
        git.update_ref(QUEUE_REFS + eid, commit)
        shown = {p: [_point_text(o) for o in ovs] for p, ovs in point.items()}
        e = Entry(eid, name, base, commit, time.time(), overrides=str(shown) if point else "",
                  targets=list(req.targets), force=req.force, message=req.message, run_cache=req.run_cache)
        _save(repo, e)
        made.append(e)
    return made


def _point_text(o) -> str:
    prefix = {"add": "+", "force": "++", "delete": "~"}.get(o.op, "")
    if o.op == "delete":
        return f"~{o.key}"
    return f"{prefix}{o.key}={json.dumps(o.values[0]) if isinstance(o.values[0], str) else o.values[0]}"


# ---- workers ----------------------------------------------------------------------------------------


def _tide_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "tide", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def start(repo: Repo, jobs: int = 1) -> list[int]:
    """Start ``jobs`` detached workers; returns their pids."""
    if jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    stop_flag = qdir(repo, "stop")
    if os.path.exists(stop_flag):
        os.unlink(stop_flag)
    clean(repo)
    os.makedirs(qdir(repo, "workers"), exist_ok=True)
    pids = []
    for _ in range(jobs):
        p = subprocess.Popen(_tide_argv("queue", "_worker"), cwd=repo.root, env=_env(), start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pids.append(p.pid)
        with open(qdir(repo, "workers", str(p.pid)), "w") as f:
            f.write(str(time.time()))
    return pids


def workers(repo: Repo) -> list[int]:
    d = qdir(repo, "workers")
    alive = []
    for fn in os.listdir(d) if os.path.isdir(d) else []:
        if fn.isdigit() and _alive(int(fn)):
            alive.append(int(fn))
        else:
            try:
                os.unlink(os.path.join(d, fn))
            except OSError:
                pass
    return alive


def _claim(repo: Repo) -> Entry | None:
    os.makedirs(qdir(repo, "claims"), exist_ok=True)
    for e in entries(repo):
        if e.status != "queued":
            continue
        try:
            fd = os.open(qdir(repo, "claims", e.id), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        fresh = _load(repo, e.id)
        if fresh is None or fresh.status != "queued":
            continue
        return fresh
    return None


def work(repo: Repo) -> None:
    """A worker's loop: claim, run in a child process of its own session, record; until none is left
    or ``queue stop``."""
    try:
        while not os.path.exists(qdir(repo, "stop")):
            e = _claim(repo)
            if e is None:
                return
            os.makedirs(qdir(repo, "logs"), exist_ok=True)
            e.status, e.worker = "running", os.getpid()
            _save(repo, e)
            with open(qdir(repo, "logs", f"{e.id}.log"), "ab") as log:
                child = subprocess.Popen(_tide_argv("queue", "_exec", e.id), cwd=repo.root, env=_env(),
                                         start_new_session=True, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
                e.pid = child.pid
                _save(repo, e)
                rc = child.wait()
                done = _load(repo, e.id) or e
                if done.status == "running":  # the run died before recording its end (killed, crashed)
                    done.status, done.returncode = "failed", rc
                    done.error = done.error or (f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}")
                    _save(repo, done)
                    log.write(f"\nERROR: experiment '{done.name}' failed: {done.error}\n".encode())
            _drop_copy(repo, done)
    finally:
        try:
            os.unlink(qdir(repo, "workers", str(os.getpid())))
        except OSError:
            pass


def execute(repo: Repo, eid: str, say=lambda line: None) -> int:
    """Run one claimed entry in an isolated copy (the child process a worker starts)."""
    from tide.ops.checkout import checkout
    from tide.ops.exp_run import record
    from tide.ops.repro import ReproRequest, plan, reproduce
    from tide.pipeline.project import load_project

    e = _load(repo, eid)
    if e is None:
        raise ExperimentError(f"no queued experiment '{eid}'")
    git = repo.git
    copy = qdir(repo, "copies", e.id)
    e.copy = copy
    _save(repo, e)
    say(f"Reproducing experiment '{e.name}' in {copy}")
    try:
        if os.path.exists(copy):
            _drop_copy(repo, e)
        git.run("worktree", "add", "--detach", copy, e.commit)
        sub = _git_of(copy)
        sub.run("reset", "--soft", e.baseline)  # HEAD = baseline; files = the queued commit's
        rel = os.path.relpath(repo.root, git.root)
        wroot = os.path.normpath(os.path.join(copy, rel))
        _share_config(repo, wroot)
        wrepo = Repo(wroot, repo.env)
        try:
            checkout(wrepo, force=True, cwd=wroot)
        except Exception as exc:  # missing data only means stages run
            say(f"WARNING: checkout: {exc}")
        rr = ReproRequest(targets=tuple(e.targets), force=e.force, run_cache=e.run_cache)
        res = reproduce(wrepo, rr, cwd=wroot, say=say)
        project = load_project(wrepo, check=False)
        stages = [project.stages[i] for i in plan(project, rr, wroot)]
        ref, sha = record(wrepo, e.baseline, e.name, stages, e.force, e.message)
        e = _load(repo, eid) or e
        e.status, e.exp_ref, e.exp_rev, e.returncode = "success", ref, sha, 0
        _save(repo, e)
        say(f"Ran experiment '{e.name}' ({len(res.ran)} stage(s) ran): {ref}")
        return 0
    except BaseException as exc:
        e = _load(repo, eid) or e
        e.status, e.returncode, e.error = "failed", 1, str(exc) or type(exc).__name__
        _save(repo, e)
        say(f"ERROR: {exc}")
        return 1


def _git_of(root: str):  # a Git of the isolated copy
    from tide.core.git import Git

    return Git(root)


def _share_config(repo: Repo, wroot: str) -> None:
    """The copy uses the main repository's cache (and so its run cache) and its local config."""
    from configobj import ConfigObj

    dvc = os.path.join(wroot, ".dvc")
    os.makedirs(dvc, exist_ok=True)
    src = os.path.join(repo.dvc_dir, "config.local")
    conf = ConfigObj(src if os.path.exists(src) else None, list_values=False)
    conf.setdefault("cache", {})["dir"] = repo.cache_dir
    conf.filename = os.path.join(dvc, "config.local")
    conf.write()


def _drop_copy(repo: Repo, e: Entry) -> None:
    import shutil

    copy = e.copy or qdir(repo, "copies", e.id)
    if os.path.exists(copy):
        repo.git.run("worktree", "remove", "--force", copy, check=False)
        shutil.rmtree(copy, ignore_errors=True)
    repo.git.run("worktree", "prune", check=False)


def run_all(repo: Repo, jobs: int = 1, say=lambda line: None, tick=None) -> list[Entry]:
    """Run every queued entry on ``jobs`` workers and wait for them (``exp run --run-all``).
    ``tick(entries)`` is called with the entries of this run about twice a second while they run."""
    before = {e.id for e in entries(repo) if e.status == "queued"}
    if not before:
        say("No experiments in the queue.")
        return []
    procs = [subprocess.Popen(_tide_argv("queue", "_worker"), cwd=repo.root, env=_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
             for _ in range(max(1, jobs))]
    while any(p.poll() is None for p in procs):
        if tick is not None:
            tick([e for e in entries(repo) if e.id in before])
        time.sleep(0.5)
    done = [e for e in entries(repo) if e.id in before]
    for e in done:
        say(f"{'Ran' if e.status == 'success' else 'Failed'} experiment '{e.name}'"
            + (f": {e.error}" if e.error and e.status != "success" else ""))
    return done


def kill(repo: Repo, names: list[str], force: bool = False) -> list[str]:
    """Kill running experiments (their whole process group); their workers go on with the queue."""
    out = []
    for n in names:
        e = find(repo, n)
        if e.status != "running" or not e.pid:
            raise ExperimentError(f"experiment '{e.name}' is not running ({e.status})")
        try:
            os.killpg(e.pid, signal.SIGKILL if force else signal.SIGTERM)
        except ProcessLookupError:
            pass
        out.append(e.name)
    return out


def stop(repo: Repo, kill_running: bool = False) -> None:
    os.makedirs(qdir(repo), exist_ok=True)
    with open(qdir(repo, "stop"), "w") as f:
        f.write(str(time.time()))
    if kill_running:
        running = [e.name for e in entries(repo) if e.status == "running"]
        if running:
            kill(repo, running)


def remove(repo: Repo, names: list[str], queued: bool = False, failed: bool = False, success: bool = False,
           all_entries: bool = False) -> list[str]:
    """Drop entries (never a running one): by name, or every queued/failed/successful one."""
    chosen = []
    for e in entries(repo):
        if e.status == "running":
            continue
        if (all_entries or (queued and e.status == "queued") or (failed and e.status == "failed")
                or (success and e.status == "success") or e.name in names or e.id in names):
            chosen.append(e)
    for e in chosen:
        for p in (qdir(repo, "entries", f"{e.id}.json"), qdir(repo, "logs", f"{e.id}.log"), qdir(repo, "claims", e.id)):
            if os.path.exists(p):
                os.unlink(p)
        repo.git.run("update-ref", "-d", QUEUE_REFS + e.id, check=False)
    return [e.name for e in chosen]


def clean(repo: Repo) -> int:
    """Remove isolated copies no running entry uses (left by killed workers)."""
    import shutil

    d = qdir(repo, "copies")
    busy = {e.id for e in entries(repo) if e.status == "running"}
    n = 0
    for name in os.listdir(d) if os.path.isdir(d) else []:
        if name not in busy:
            repo.git.run("worktree", "remove", "--force", os.path.join(d, name), check=False)
            shutil.rmtree(os.path.join(d, name), ignore_errors=True)
            n += 1
    if repo.git is not None:
        repo.git.run("worktree", "prune", check=False)
    return n


def logs(repo: Repo, name: str) -> str:
    e = find(repo, name)
    try:
        with open(qdir(repo, "logs", f"{e.id}.log"), encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def follow(repo: Repo, name: str, poll: float = 0.5):
    """The log of ``name`` in chunks as it grows, until its run is over."""
    e = find(repo, name)
    path = qdir(repo, "logs", f"{e.id}.log")
    pos = 0
    while True:
        done = (_load(repo, e.id) or e).status not in ("queued", "running") or not any(
            x.id == e.id and x.status in ("queued", "running") for x in entries(repo))
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            pos += len(data)
            yield data.decode("utf-8", errors="replace")
        if done:
            return
        time.sleep(poll)


def show_ranges(repo: Repo, hide_queued: bool = False, hide_failed: bool = False) -> dict[str, list[dict]]:
    """Queue entries as ``exp show`` ranges under their baselines (queued ones without metrics, as dvc)."""
    from tide.ops.exp_show import _collect_rev

    out: dict[str, list[dict]] = {}
    for e in entries(repo):
        if e.status == "success" or (hide_queued and e.status == "queued") or (hide_failed and e.status == "failed"):
            continue
        state = _collect_rev(repo, e.commit, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(e.created)))
        state["name"] = e.name
        if state.get("data"):
            state["data"]["metrics"] = {}
        out.setdefault(e.baseline, []).append({
            "revs": [state], "name": e.name,
            "executor": {"state": e.status, "name": "tide-queue",
                         "local": {"root": e.copy, "log": qdir(repo, "logs", f"{e.id}.log"), "pid": e.pid,
                                   "returncode": e.returncode, "task_id": e.id}}})
    return out
