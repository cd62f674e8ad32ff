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
from tide.ops.exp_refs import QUEUE_DIR, ExperimentError
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
    copy_paths: tuple[str, ...] = ()  # -C: untracked/ignored workspace paths copied into the run's copy
    cwd: str | None = None  # where -C paths are relative to (default: the repository root)
    no_hydra: bool = False  # --no-hydra: params.yaml is not composed even with hydra.enabled


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
    on: str | None = None  # the runner spec it runs on (queue start --on), None: this machine
    runner: str | None = None  # the runner's name (clouds tag the machine with it)
    copy_paths: list[str] = field(default_factory=list)  # relative to the repository root


def qdir(repo: Repo, *parts: str) -> str:
    return os.path.join(repo.tmp_dir, QUEUE_DIR, *parts)


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


def on_runner(repo: Repo, eid: str) -> bool:
    e = _load(repo, eid)
    return bool(e and e.on)


def find(repo: Repo, name: str) -> Entry:
    found = [e for e in entries(repo) if name in (e.name, e.id) or (len(name) >= 4 and e.id.startswith(name))]
    if not found:
        raise ExperimentError(f"no queued experiment named '{name}'")
    return found[-1]


def enqueue(repo: Repo, req: QueueRequest) -> list[Entry]:
    """One entry per point of the ``-S`` sweep (dvc names them NAME-1, NAME-2... when -n is given)."""
    from tide.ops import exp_hydra
    from tide.ops.exp_run import baseline, experiment_paths, overrides_paths, pick_name

    git = repo.git
    base = baseline(repo)
    copy_paths = _check_copy_paths(repo, req.copy_paths, req.cwd or repo.root)
    plan = exp_hydra.plan(repo, list(req.params), req.no_hydra)
    points = plan.points
    sweep = len(points) > 1 or plan.sweep
    paths = experiment_paths(repo)
    made: list[Entry] = []
    taken: set[str] = {e.name for e in entries(repo) if e.baseline == base and e.status in ("queued", "running")}
    contents = [exp_hydra.files(repo, plan, point) for point in points]  # every point composes, or none is queued
    for i, point in enumerate(points):
        want = f"{req.name}-{i + 1}" if (req.name and sweep) else req.name
        name = pick_name(repo, base, want, req.force, taken)
        if name in taken:
            raise ExperimentError(f"an experiment named '{name}' is already queued")
        taken.add(name)
        files = contents[i]
        groot = os.path.realpath(git.root)
        files = {os.path.relpath(os.path.join(repo.root, k), groot).replace(os.sep, "/"): v for k, v in files.items()}
        extra = sorted(overrides_paths(repo, point))
        commit = git.commit_worktree(base, sorted(set(paths) | set(extra) - set(files)),
                                     f"tide-exp-queue:{base}:{name}", files=files, allow_empty=True)
        eid = os.urandom(6).hex()  # 12 hex digits (uuid's import costs exp show ~10 ms)
        git.update_ref(QUEUE_REFS + eid, commit)
        shown = {p: [o if isinstance(o, str) else _point_text(o) for o in ovs] for p, ovs in point.items()}
        e = Entry(eid, name, base, commit, time.time(), overrides=str(shown) if point else "",
                  targets=list(req.targets), force=req.force, message=req.message, run_cache=req.run_cache,
                  copy_paths=copy_paths)
        _save(repo, e)
        made.append(e)
    return made


def _check_copy_paths(repo: Repo, paths, cwd: str) -> list[str]:
    """``-C`` paths as paths relative to the repository root; one inside it that exists, or refused."""
    root = os.path.realpath(repo.root)
    out = []
    for p in paths:
        full = os.path.realpath(os.path.join(cwd, p))
        rel = os.path.relpath(full, root)
        if rel == "." or rel.startswith(".." + os.sep) or rel == ".." or os.path.isabs(rel):
            raise UsageError(f"-C/--copy-paths '{p}': not a path inside the repository")
        if rel.split(os.sep)[0] in (".git", ".dvc"):
            raise UsageError(f"-C/--copy-paths '{p}': tide's and git's own directories are not copied")
        if not os.path.lexists(full):
            raise UsageError(f"-C/--copy-paths '{p}': no such file or directory")
        out.append(rel.replace(os.sep, "/"))
    return out


def _copy_into(repo: Repo, wroot: str, paths: list[str], say) -> None:
    """Copy the ``-C`` paths from the workspace into the run's copy (files, directories, symlinks as
    symlinks); the copy's own files of the same name are replaced."""
    import shutil

    for rel in paths:
        src, dst = os.path.join(repo.root, rel), os.path.join(wroot, rel)
        if not os.path.lexists(src):
            raise ExperimentError(f"-C/--copy-paths '{rel}': no longer in the workspace")
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        else:
            if os.path.lexists(dst) and not os.path.isdir(dst):
                os.unlink(dst)
            shutil.copy2(src, dst, follow_symlinks=False)
        say(f"Copied '{rel}' into the experiment's copy")


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


def check_on(repo: Repo, on: str | None) -> None:
    """A runner spec is refused before any worker starts (one line, as ``tide run --on``)."""
    if on is not None:
        from tide.ops.run import parse_on

        parse_on(on, _profiles(repo))


def _profiles(repo: Repo) -> dict:
    from tide.core.settings import load as load_settings

    return load_settings(repo.root).section("runners")


def _worker_argv(on: str | None) -> list[str]:
    return _tide_argv("queue", "_worker", *(("--on", on) if on is not None else ()))


def start(repo: Repo, jobs: int = 1, on: str | None = None) -> list[int]:
    """Start ``jobs`` detached workers (each runs its experiments on a runner of ``on`` when given);
    returns their pids."""
    if jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    check_on(repo, on)
    stop_flag = qdir(repo, "stop")
    if os.path.exists(stop_flag):
        os.unlink(stop_flag)
    clean(repo)
    os.makedirs(qdir(repo, "workers"), exist_ok=True)
    pids = []
    for _ in range(jobs):
        p = subprocess.Popen(_worker_argv(on), cwd=repo.root, env=_env(), start_new_session=True,
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


def work(repo: Repo, on: str | None = None) -> None:
    """A worker's loop: claim, run in a child process of its own session, record; until none is left,
    ``queue stop``, or the worker is interrupted (SIGINT, or SIGTERM turned into one by the CLI): then
    its run gets SIGTERM (a runner is torn down by it), is waited for and marked failed. With ``on``
    each experiment runs on its own runner of that spec, named ``tide-q-<id>``; after the run the
    provider is asked for machines still carrying that name (a run killed before its teardown) and
    they are terminated."""
    interrupted = False
    try:
        while not interrupted and not os.path.exists(qdir(repo, "stop")):
            e = _claim(repo)
            if e is None:
                return
            os.makedirs(qdir(repo, "logs"), exist_ok=True)
            e.status, e.worker = "running", os.getpid()
            if on is not None:
                e.on, e.runner = on, f"tide-q-{e.id}"
            _save(repo, e)
            with open(qdir(repo, "logs", f"{e.id}.log"), "ab") as log:
                child = subprocess.Popen(_tide_argv("queue", "_exec", e.id), cwd=repo.root, env=_env(),
                                         start_new_session=True, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
                rc, interrupted = _wait_child(child)
                done = _load(repo, e.id) or e
                died = done.status == "running"
                if died:  # the run died before recording its end (killed, crashed)
                    done.status, done.returncode = "failed", rc
                    done.error = done.error or ("interrupted: the queue was stopped" if interrupted else
                                                f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}")
                    _save(repo, done)
                    log.write(f"\nERROR: experiment '{done.name}' failed: {done.error}\n".encode())
                if done.on and done.runner:
                    _sweep(repo, done, died, lambda m: log.write(f"{m}\n".encode()))
            _drop_copy(repo, done)
    finally:
        try:
            os.unlink(qdir(repo, "workers", str(os.getpid())))
        except OSError:
            pass


def _wait_child(child: subprocess.Popen) -> tuple[int, bool]:
    """(exit code, interrupted). Interrupted: the run's group gets one SIGTERM and is waited for
    (its runner's teardown); further interrupts do not cut that short (``queue kill -f`` does)."""
    try:
        return child.wait(), False
    except KeyboardInterrupt:
        pass
    _signal_group(child.pid, signal.SIGTERM)
    while True:
        try:
            return child.wait(), True
        except KeyboardInterrupt:
            continue


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _sweep(repo: Repo, e: Entry, died: bool, note) -> None:
    """Ask the provider for machines still named after the entry's runner and terminate them; after a
    run that died, also stop and remove its job on a host runner."""
    from tide.core.errors import TideError
    from tide.ops.run import sweep

    try:
        left = sweep(e.on or "", e.runner or "", _profiles(repo), repo.env, hosts=died)
    except (TideError, OSError) as exc:
        note(f"WARNING: could not check runner {e.runner} for leftovers: {exc}")
        return
    if left:
        note(f"Terminated machine(s) left by runner {e.runner}: {', '.join(left)}")


def execute(repo: Repo, eid: str, say=lambda line: None, write=lambda data: None, say_error: bool = True) -> int:
    """Run one claimed entry in an isolated copy (the child process a worker starts). An entry with a
    runner (``on``) is reproduced there: the copy is shipped, ``tide repro`` runs on the runner, the
    changed files come back into the copy and the new objects into the cache; ``write`` gets the
    runner's output. The experiment is then recorded from the copy as a local run is. A failure is
    recorded in the entry (and said unless not ``say_error``); an interrupt is recorded, then re-raised."""
    from tide.ops.checkout import checkout
    from tide.ops.exp_run import record
    from tide.ops.repro import ReproRequest, plan, reproduce
    from tide.pipeline.project import load_project

    e = _load(repo, eid)
    if e is None:
        raise ExperimentError(f"no queued experiment '{eid}'")
    git = repo.git
    copy = qdir(repo, "copies", e.id)
    e.copy, e.pid = copy, os.getpid()
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
        _copy_into(repo, wroot, e.copy_paths, say)
        rr = ReproRequest(targets=tuple(e.targets), force=e.force, run_cache=e.run_cache)
        if e.on:
            _reproduce_on(repo, wroot, e, say, write)
            ran = f"ran on {e.on}"
        else:
            ran = f"{len(reproduce(wrepo, rr, cwd=wroot, say=say).ran)} stage(s) ran"
        project = load_project(wrepo, check=False)
        stages = [project.stages[i] for i in plan(project, rr, wroot)]
        ref, sha = record(wrepo, e.baseline, e.name, stages, e.force, e.message)
        e = _load(repo, eid) or e
        e.status, e.exp_ref, e.exp_rev, e.returncode = "success", ref, sha, 0
        _save(repo, e)
        say(f"Ran experiment '{e.name}' ({ran}): {ref}")
        if e.on:
            _push_outputs(repo, sha, say)
        return 0
    except BaseException as exc:
        e = _load(repo, eid) or e
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, KeyboardInterrupt):
            msg = "interrupted (SIGTERM/Ctrl-C)" + ("; its runner was torn down" if e.on else "")
        elif e.on and not msg.startswith(f"on {e.on}"):
            msg = f"on {e.on}: {msg}"
        e.status, e.returncode, e.error = "failed", 1, msg
        _save(repo, e)
        if say_error:
            say(f"ERROR: {msg}")
        if isinstance(exc, KeyboardInterrupt):
            raise
        return 1


def _reproduce_on(repo: Repo, wroot: str, e: Entry, say, write) -> None:
    """``tide repro`` of the copy ``wroot`` on a runner of ``e.on`` (the runner layer's whole lifetime:
    launch, ship, run, bring back, tear down on every path)."""
    import shlex

    from tide.core.fsutil import atomic_write_bytes
    from tide.ops.run import collect_results, parse_on, run_on

    profiles = _profiles(repo)
    target = parse_on(e.on or "", profiles)
    prof = profiles.get(e.on)
    if isinstance(prof, dict) and prof.get("tide"):
        tide = str(prof["tide"])  # how tide runs on that runner (default: 'tide', from requirements.txt)
    else:
        tide = shlex.join([sys.executable, "-m", "tide"]) if target.kind == "local" else "tide"
    args = ["repro", *(["--force"] if e.force else []), *([] if e.run_cache else ["--no-run-cache"]), *e.targets]
    tail = bytearray()

    def keep(data: bytes) -> None:  # the runner's output goes to the log; its end names the error
        write(data)
        tail.extend(data)
        del tail[:-8192]

    say(f"Running experiment '{e.name}' on {e.on} (runner {e.runner})")
    out = run_on(wroot, e.on or "", [f"{tide} {shlex.join(args)}"], sync=True, setup=target.kind != "local",
                 push=False, env=repo.env, name=e.runner or "", profiles=profiles, write=keep, log=say,
                 collect=collect_results(wroot, say), extra=tuple(e.copy_paths))
    if out.exit_code != 0:
        errors = [x[len("ERROR:"):].strip() for x in tail.decode(errors="replace").splitlines()
                  if x.startswith("ERROR:")]
        raise ExperimentError(f"on {e.on}: 'tide repro' ended with "
                              + (f"exit code {out.exit_code}" if out.exit_code is not None else "no exit code")
                              + (f" ({out.reason})" if out.reason and out.reason != "single" else "")
                              + (f": {errors[-1]}" if errors else "")
                              + ("; is tide installed there? (requirements.txt, or 'tide: COMMAND' in the "
                                 "runners profile)" if out.exit_code == 127 and not errors else ""))
    for rel, data in out.files.items():  # paths checked by collect_results: inside the copy
        dest = os.path.join(wroot, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        atomic_write_bytes(dest, data)


def _push_outputs(repo: Repo, sha: str, say) -> None:
    """A runner's results go to the default remote too (when one is set); a failure is a warning: the
    experiment is recorded and its objects are in the cache (``tide exp push`` later)."""
    from tide.core.errors import TideError

    if not repo.option("core.remote"):
        return
    from tide.ops.data_scope import Scope
    from tide.ops.push import run_push

    try:
        run_push(repo, Scope(revisions=(sha,)))
        say("Pushed the experiment's outputs to the default remote")
    except TideError as exc:
        say(f"WARNING: could not push the experiment's outputs: {exc}")


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


def run_all(repo: Repo, jobs: int = 1, say=lambda line: None, tick=None, on: str | None = None) -> list[Entry]:
    """Run every queued entry on ``jobs`` workers (on runners of ``on`` when given) and wait for them
    (``exp run --run-all``). ``tick(entries)`` is called with the entries of this run about twice a
    second while they run. Ctrl-C: the workers (same process group) stop their runs, tear their runners
    down and mark them failed; this waits for that, then re-raises."""
    check_on(repo, on)
    before = {e.id for e in entries(repo) if e.status == "queued"}
    if not before:
        say("No experiments in the queue.")
        return []
    procs = [subprocess.Popen(_worker_argv(on), cwd=repo.root, env=_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
             for _ in range(max(1, jobs))]
    try:
        while any(p.poll() is None for p in procs):
            if tick is not None:
                tick([e for e in entries(repo) if e.id in before])
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("Interrupted: stopping the running experiments" + (" and tearing their runners down" if on else ""))
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # a SIGINT from a terminal reached them already; a kill did not
        for p in procs:
            p.wait()
        raise
    done = [e for e in entries(repo) if e.id in before]
    for e in done:
        say(f"{'Ran' if e.status == 'success' else 'Failed'} experiment '{e.name}'"
            + (f": {e.error}" if e.error and e.status != "success" else ""))
    return done


def run_temp(repo: Repo, req: QueueRequest, say=lambda line: None, write=lambda data: None,
             on: str | None = None) -> Entry:
    """``exp run --temp``: the experiment (workspace changes + ``-S``) runs now, in the foreground, in an
    isolated copy as a queued one does (on a runner of ``on`` when given), and is recorded; the
    workspace is left as it was. Its queue entry and copy are removed afterwards, whatever happened.
    Returns the finished entry (``status`` success or failed with its ``error``)."""
    from tide.ops import exp_hydra

    check_on(repo, on)
    if exp_hydra.plan(repo, list(req.params), req.no_hydra).sweep:
        raise UsageError("sweep overrides (a=1,2, range(), choice()) can't be used without --queue")
    e = enqueue(repo, req)[0]
    try:
        os.makedirs(qdir(repo, "claims"), exist_ok=True)
        fd = os.open(qdir(repo, "claims", e.id), os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # no worker takes it
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        e.status, e.worker = "running", os.getpid()
        if on is not None:
            e.on, e.runner = on, f"tide-q-{e.id}"
        _save(repo, e)
        execute(repo, e.id, say=say, write=write, say_error=False)
    finally:
        done = _load(repo, e.id) or e
        try:
            if done.on and done.runner:
                _sweep(repo, done, done.status == "running", say)
            _drop_copy(repo, done)
        finally:
            for p in (qdir(repo, "entries", f"{e.id}.json"), qdir(repo, "logs", f"{e.id}.log"),
                      qdir(repo, "claims", e.id)):
                if os.path.exists(p):
                    os.unlink(p)
            repo.git.run("update-ref", "-d", QUEUE_REFS + e.id, check=False)
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
    from tide.ops.exp_show import collect_rev

    out: dict[str, list[dict]] = {}
    for e in entries(repo):
        if e.status == "success" or (hide_queued and e.status == "queued") or (hide_failed and e.status == "failed"):
            continue
        state = collect_rev(repo, e.commit, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(e.created)))
        state["name"] = e.name
        if state.get("data"):
            state["data"]["metrics"] = {}
        out.setdefault(e.baseline, []).append({
            "revs": [state], "name": e.name,
            "executor": {"state": e.status, "name": "tide-queue",
                         "local": {"root": e.copy, "log": qdir(repo, "logs", f"{e.id}.log"), "pid": e.pid,
                                   "returncode": e.returncode, "task_id": e.id}}})
    return out
