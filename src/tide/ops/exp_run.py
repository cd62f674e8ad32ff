"""``tide exp run`` in the workspace and ``tide exp save``: reproduce, then record the result as an
experiment commit under ``refs/exps/...`` without moving HEAD, the branch or the index.

The commit is built as dvc's executor builds it: on top of the baseline (HEAD), with every tracked file
changed in the workspace (``git add -u``), each reproduced stage's dvc.yaml and dvc.lock, its outputs
that git keeps (``cache: false``), and the metrics, params and plots files the pipelines name (new ones
included, unless git ignores them). Its message is ``dvc: commit experiment <hash>``, the hash being the
sha256 of the reproduced stages' lock entries. The workspace keeps the experiment's results afterwards,
as dvc leaves them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from tide.core.errors import UsageError
from tide.ops.exp_refs import ExperimentError, ExpRef, check_name, random_name
from tide.workspace.repo import Repo


@dataclass(frozen=True)
class RunRequest:
    name: str | None = None
    params: tuple[str, ...] = ()  # -S items
    targets: tuple[str, ...] = ()
    force: bool = False
    message: str | None = None
    run_cache: bool = True
    single_item: bool = False
    recursive: bool = False
    pipeline: bool = False
    downstream: bool = False
    keep_going: bool = False
    no_hydra: bool = False  # --no-hydra: params.yaml is not composed even with hydra.enabled


@dataclass
class RunResult:
    name: str
    ref: str
    sha: str
    ran: list[str] = field(default_factory=list)


def baseline(repo: Repo) -> str:
    git = repo.git
    if git is None:
        raise UsageError("experiments need git (the repository was initialised with --no-scm)")
    if not git.has_commits():
        raise UsageError("experiments need a commit to start from: commit your pipeline first")
    return git.resolve("HEAD")


def pick_name(repo: Repo, base: str, name: str | None, force: bool, taken: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    git = repo.git
    assert git is not None
    if not name:
        return random_name(git, base, taken)
    check_name(git, name)
    if not force and git.refs(ExpRef(base, name).ref):
        raise ExperimentError(f"experiment conflicts with existing experiment '{name}'; to overwrite it run "
                              f"tide exp run -f -n {name} ...")
    return name


def exp_hash(repo: Repo, stages) -> str:
    """sha256 of the stages' dvc.lock entries (dvc's ``dict_sha256`` of ``to_lockfile``)."""
    from tide.pipeline.lockfile import read_entries

    data: dict = {}
    for s in stages:
        entry = read_entries(s.lockfile, repo.root).get(s.name)
        if entry is not None:
            data[s.name] = entry
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def experiment_paths(repo: Repo, stages=None) -> list[str]:
    """Paths (relative to the git root) that go into an experiment commit (see the module's notes)."""
    from tide.pipeline import metrics as m
    from tide.pipeline.project import load_project
    from tide.pipeline.revfs import reader_for

    git = repo.git
    assert git is not None
    project = load_project(repo, check=False)
    chosen = project.stages if stages is None else stages
    cand: list[str] = []
    for s in chosen:
        cand += [s.dvcfile, s.lockfile]
        cand += [o.abspath for o in s.outs if not o.cache]
    files = reader_for(repo, "workspace")
    cand += m.metrics_files(files) + list(m.params_files(files)) + _plot_files(project)
    groot = os.path.realpath(git.root)
    rels = []
    for p in dict.fromkeys(cand):
        real = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
        rel = os.path.relpath(real, groot)
        if rel.startswith("..") or not os.path.isfile(real):
            continue
        rels.append(rel.replace(os.sep, "/"))
    ignored = git.ignored(rels)
    tracked_changes = [p for p in _tracked_changes(git)]
    return sorted(set(tracked_changes) | {r for r in rels if r not in ignored})


def _plot_files(project) -> list[str]:
    out = []
    for p in project.pipelines:
        base = os.path.dirname(p.path)
        for pid, spec in p.plots:
            ys = spec.get("y") if isinstance(spec, dict) else None
            names = list(ys) if isinstance(ys, dict) else [pid]
            out += [os.path.join(base, n) for n in names if isinstance(n, str)]
    return out


def _tracked_changes(git) -> list[str]:
    raw = git.run("diff", "--name-only", "-z", "HEAD").stdout
    return [p for p in raw.decode("utf-8", "surrogateescape").split("\0") if p]


def record(repo: Repo, base: str, name: str, stages, force: bool, message: str | None = None,
           paths: list[str] | None = None, extra: list[str] = ()) -> tuple[str, str]:  # type: ignore[assignment]
    """Commit the workspace as experiment ``name`` of ``base``; returns (ref, commit)."""
    git = repo.git
    assert git is not None
    h = exp_hash(repo, stages)
    want = sorted(set(paths if paths is not None else experiment_paths(repo, stages)) | set(extra))
    sha = git.commit_worktree(base, want, message or f"dvc: commit experiment {h}", allow_empty=True)
    assert sha is not None
    ref = ExpRef(base, name).ref
    old = git.refs(ref).get(ref)
    if old and not force:
        same = git.out("rev-parse", f"{old}^{{tree}}").strip() == git.out("rev-parse", f"{sha}^{{tree}}").strip()
        if not same:
            raise ExperimentError(f"experiment conflicts with existing experiment '{name}'; to overwrite it "
                                  f"use -f")
        return ref, old
    git.update_ref(ref, sha)
    return ref, sha


def run(repo: Repo, req: RunRequest, say=lambda line: None, warn=None) -> RunResult:
    """Apply ``-S`` overrides to the workspace's params files, reproduce there, record the experiment."""
    from tide.ops import exp_hydra
    from tide.ops.repro import ReproRequest, reproduce
    from tide.pipeline.project import load_project

    base = baseline(repo)
    plan = exp_hydra.plan(repo, list(req.params), req.no_hydra)
    if plan.sweep:
        raise UsageError("sweep overrides (a=1,2, range(), choice()) can't be used without --queue")
    overrides = plan.points[0]
    name = pick_name(repo, base, req.name, req.force)
    for rel, data in exp_hydra.files(repo, plan, overrides).items():
        _write(os.path.join(repo.root, rel), data)
    if req.name:
        say(f"Reproducing experiment '{name}'")
    rr = ReproRequest(targets=req.targets, force=req.force, run_cache=req.run_cache, single_item=req.single_item,
                      recursive=req.recursive, pipeline=req.pipeline, downstream=req.downstream,
                      keep_going=req.keep_going)
    cwd = os.getcwd()
    res = reproduce(repo, rr, cwd=cwd, say=say, warn=warn)
    project = load_project(repo, check=False)
    from tide.ops.repro import plan

    steps = plan(project, rr, cwd)
    stages = [project.stages[i] for i in steps]
    ref, sha = record(repo, base, name, stages, req.force, req.message,
                      extra=sorted(overrides_paths(repo, overrides)))
    return RunResult(name, ref, sha, res.ran)


def overrides_paths(repo: Repo, overrides) -> set[str]:
    git = repo.git
    assert git is not None
    groot = os.path.realpath(git.root)
    out = set()
    for rel in overrides:
        p = os.path.realpath(os.path.join(repo.root, rel))
        out.add(os.path.relpath(p, groot).replace(os.sep, "/"))
    return out


def save(repo: Repo, name: str | None = None, force: bool = False, include_untracked: tuple[str, ...] = (),
         message: str | None = None, targets: tuple[str, ...] = ()) -> RunResult:
    """``tide exp save``: the workspace as it is (outputs committed to the cache) becomes an experiment."""
    from tide.ops.commit import commit
    from tide.pipeline.project import load_project

    base = baseline(repo)
    name = pick_name(repo, base, name, force)
    commit(repo, list(targets) or None, cwd=repo.root, force=True)
    project = load_project(repo, check=False)
    git = repo.git
    assert git is not None
    groot = os.path.realpath(git.root)
    extra = [os.path.relpath(os.path.realpath(os.path.join(os.getcwd(), p)), groot).replace(os.sep, "/")
             for p in include_untracked]
    ref, sha = record(repo, base, name, list(project.stages), force, message, extra=extra)
    return RunResult(name, ref, sha)


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.tide-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
