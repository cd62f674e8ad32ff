"""``tide repro``: plan the stages to check (dvc's order), reproduce them, report failures."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, PipelineError, TideError, UsageError
from tide.core.values import Value
from tide.pipeline import engine
from tide.pipeline.definition import YAML_NAME
from tide.pipeline.graph import Graph
from tide.pipeline.project import Project, load_project
from tide.workspace import gitignore
from tide.workspace.repo import Repo


class ReproRequest(Value):
    """``ignore_errors``: dvc's --ignore-errors, a failure is a warning, its dependents still run. ``glob``:
    TARGET is [FILE:]PATTERN, a wildcard over the stage names of FILE (dvc.yaml). ``interactive``: dvc's -i,
    ``confirm`` is asked before each stage that would run."""

    __slots__ = ("targets", "force", "single_item", "recursive", "dry", "downstream", "pipeline", "all_pipelines",
                 "pull", "allow_missing", "keep_going", "ignore_errors", "glob", "force_downstream", "run_cache",
                 "no_commit", "interactive")
    _defaults = {"targets": (), "run_cache": True, **dict.fromkeys(
        ("force", "single_item", "recursive", "dry", "downstream", "pipeline", "all_pipelines", "pull",
         "allow_missing", "keep_going", "ignore_errors", "glob", "force_downstream", "no_commit", "interactive"),
        False)}
    targets: tuple[str, ...]
    force: bool
    single_item: bool
    recursive: bool
    dry: bool
    downstream: bool
    pipeline: bool
    all_pipelines: bool
    pull: bool
    allow_missing: bool
    keep_going: bool
    ignore_errors: bool
    glob: bool
    force_downstream: bool
    run_cache: bool
    no_commit: bool
    interactive: bool


class ReproResult:
    """What a ``reproduce`` did: stage addresses ``ran``, ``restored`` (from the run cache), ``verified``
    (frozen stages saved as they are, no command run), ``failed`` and ``skipped`` (not run because an upstream
    stage failed); ``sources``: .dvc files (data sources) verified and recorded again; ``git_files``: what
    git should track."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.restored: list[str] = []
        self.verified: list[str] = []
        self.sources: list[str] = []
        self.failed: list[str] = []
        self.skipped: list[str] = []
        self.git_files: list[str] = []


def _active(g: Graph) -> Graph:
    """Frozen stages are cut from their dependencies (dvc's ``get_active_graph``)."""
    edges = {i: ds for i, ds in g.edges.items() if not g.stages[i].frozen}
    return Graph(g.stages, edges)


def _closure(g: Graph, starts: list[int], reverse: bool) -> list[int]:
    order = g.postorder(starts, reverse=reverse)
    return sorted(set(order))


def plan(project: Project, req: ReproRequest, cwd: str, named: dict[str, list[str]] | None = None) -> list[int]:
    """The stages to check, in order. ``named``: {.dvc file: its outputs} the targets name besides
    ``req.targets`` (``_named_sources``); a data source has no upstream, so it adds stages only downstream
    (``--downstream``, ``-p``: the stages that depend on its outputs and theirs)."""
    g = _active(project.graph)
    if req.all_pipelines:
        return g.postorder(None)
    if req.glob:
        chosen = _select_glob(project, req.targets or (YAML_NAME,), cwd)
        if not chosen:
            return []  # dvc reproduces every stage of the repository then (an empty plan is its whole graph)
    elif req.targets or named:
        chosen = project.select(list(req.targets), cwd, req.recursive)
        if named and (req.pipeline or (req.downstream and not req.single_item)):
            chosen += [i for i in _consumers(project, [o for outs in named.values() for o in outs])
                       if i not in chosen]
    else:
        here = os.path.join(cwd, YAML_NAME)
        if not os.path.exists(here):
            raise MissingError(f"there is no {YAML_NAME} in '{cwd}'; name a stage or a dvc.yaml to reproduce")
        chosen = [i for i, s in enumerate(project.stages) if s.dvcfile == here]
    if req.single_item and not req.pipeline:
        return chosen
    if req.pipeline:
        nodes: set[int] = set()
        for c in chosen:
            nodes |= g.component(c)
        return g.postorder(sorted(nodes))
    if req.downstream:
        nodes_l = _closure(g, chosen, reverse=True)
        sub = Graph(g.stages, {i: tuple(d for d in ds if d in nodes_l) for i, ds in g.edges.items() if i in nodes_l})
        return sub.postorder(nodes_l)
    return g.postorder(_closure(g, chosen, reverse=False))


def _named_sources(repo: Repo, project: Project, req: ReproRequest,
                   cwd: str) -> tuple[dict[str, list[str]], ReproRequest]:
    """dvc's graph holds every ``.dvc`` file as a stage (a data source): a target naming one
    (``repro data.dvc``), or with ``-R`` a directory holding some, reproduces it, and ``-P`` reproduces them
    all. Returns {those .dvc files: their outputs}, in target order (``-P``: those no stage depends on, in
    path order; the others come before the first stage that does, ``_data_sources``), and the request with
    the targets that name stages."""

    from tide.pipeline.project import tracked_outputs
    from tide.workspace import pointers

    if req.all_pipelines:
        named: dict[str, list[str]] = {}
        for out, ptr in tracked_outputs(repo):
            named.setdefault(ptr, []).append(out)
        return {p: outs for p, outs in sorted(named.items()) if not _consumers(project, outs)}, req
    if req.glob or not req.targets:
        return {}, req
    tracked = None
    named = {}
    rest = []
    for t in req.targets:
        p = os.path.normpath(os.path.join(cwd, t))
        if p.endswith(".dvc") and os.path.isfile(p):
            named.setdefault(p, [o.abspath for o in pointers.load(p, repo.root).outs])  # a broken one: its error
            continue
        if req.recursive and os.path.isdir(p):
            tracked = tracked_outputs(repo) if tracked is None else tracked
            for out, ptr in tracked:
                if ptr.startswith(p + os.sep) and out not in named.setdefault(ptr, []):
                    named[ptr].append(out)
        rest.append(t)
    return named, req.replace(targets=tuple(rest))


def _consumers(project: Project, outs: list[str]) -> list[int]:
    """The pipeline stages that read one of ``outs``."""
    return [i for i, st in enumerate(project.stages) if any(_reads(st, out) for out in outs)]


def _reads(stage, out: str) -> bool:
    """Whether ``stage``'s dependencies or params overlap ``out`` (a frozen stage's are cut, as in ``_active``)."""
    from tide.pipeline.graph import overlaps

    return not stage.frozen and any(overlaps(p, out) for p in [d.abspath for d in stage.deps]
                                    + [q.abspath for q in stage.params])


def _select_glob(project: Project, targets, cwd: str) -> list[int]:
    """dvc's ``repro --glob``: each target is ``[FILE:]PATTERN``; PATTERN (fnmatch, case-sensitive) is
    matched against the stage names of FILE (default ``dvc.yaml`` in cwd), a foreach/matrix group's name
    standing for its stages. Only the name is a pattern, never the file; outputs are not targets."""
    from fnmatch import fnmatchcase

    chosen: list[int] = []
    for t in targets:
        file_part, _, pattern = t.rpartition(":")
        path = os.path.normpath(os.path.join(cwd, file_part or YAML_NAME))
        if not os.path.exists(path):
            raise MissingError(f"'{os.path.relpath(path, cwd)}' does not exist")
        in_file = [(i, s) for i, s in enumerate(project.stages) if s.dvcfile == path]
        group = [i for i, s in in_file if pattern and s.name.startswith(pattern + "@")]
        hits = group or [i for i, s in in_file if not pattern or fnmatchcase(s.name, pattern)]
        chosen.extend(i for i in hits if i not in chosen)
    return chosen


def reproduce(repo: Repo, req: ReproRequest, cwd: str | None = None,
              say=lambda line: None, warn=None, confirm=None) -> ReproResult:
    """``confirm(question) -> bool``: asked before each stage that would run when ``req.interactive`` or
    the config's ``core.interactive`` (as dvc); a refusal fails that stage ("reproduction aborted by the
    user"), -k goes on with the stages that do not depend on it."""
    cwd = cwd or os.getcwd()
    interactive = req.interactive or _interactive_config(repo)  # as dvc: --dry asks too
    if interactive and confirm is None:
        raise UsageError("interactive reproduction needs a way to ask (no confirm callback given)")
    confirm = confirm if interactive else None
    warn = warn or say  # WARNING lines go to stderr in the CLI, as dvc's logger writes them
    result = ReproResult()
    if req.pull and not req.dry:
        _pull(repo, req, warn)
    # a failure takes back the .gitignore entries (N55); until a stage or data source acts, nothing is
    # written in the workspace (Hasher.still: each directory is looked at once)
    with repo.lock(), repo.ignore_journal.command(), repo.hasher.still():
        project = load_project(repo)
        named, stage_req = _named_sources(repo, project, req, cwd)
        steps = plan(project, stage_req, cwd, named)
        from tide.ops.add import store

        ws = engine.Workspace(
            root=repo.root, hasher=repo.hasher, cache=repo.cache,
            store=lambda res, link: store(repo, res, link=link),
            ignore=lambda paths: gitignore.add(repo.ignore_journal, paths, repo.git),
            env=dict(repo.env.values), say=say,
            fetch=(lambda oids: _fetch_objects(repo, oids, warn)) if req.pull and not req.dry else None,
            confirm=confirm,
        )
        g = _active(project.graph)
        sources = _data_sources(repo, project, g, steps, req, seen=set(named))
        force_state = {i: req.force for i in steps}
        to_skip: set[int] = set()
        said = False  # as dvc: a blank line follows a step that did something (ran, recorded, would run)

        def verify(ptr: str) -> None:
            nonlocal said
            if said:
                say("")
            outcome = _verify_source(repo, ptr, req, ws, say)
            said = outcome is not None
            if outcome == "verified":
                result.sources.append(repo.rel(ptr))

        def failed(addr: str, exc: TideError, dependents: set[int]) -> None:
            result.failed.append(addr)
            if req.ignore_errors:
                warn(f"WARNING: {exc} (ignored)")
                return
            if not req.keep_going:
                if isinstance(exc, PipelineError) and str(exc).startswith("failed to reproduce"):
                    raise exc
                raise PipelineError(f"failed to reproduce '{addr}': {exc}")
            warn(f"WARNING: {exc}")
            if dependents:
                names = ", ".join(f"'{project.stages[d].addressing}'" for d in sorted(dependents))
                warn(f"WARNING: {'Stages' if len(dependents) > 1 else 'Stage'} {names} will be skipped "
                     "due to this failure")
            to_skip.update(dependents)

        for ptr, outs in named.items():  # a data source is upstream of every stage the plan holds
            try:
                verify(ptr)
            except TideError as exc:
                failed(repo.rel(ptr), exc, set(g.postorder(_consumers(project, outs), reverse=True)) & set(steps))
        for i in steps:
            stage = project.stages[i]
            if i in to_skip:
                result.skipped.append(stage.addressing)
                continue
            opts = engine.Options(force=force_state.get(i, req.force), dry=req.dry,
                                  allow_missing=req.allow_missing, run_cache=req.run_cache, no_commit=req.no_commit)
            try:
                for ptr in sources.pop(i, ()):
                    verify(ptr)
                if stage.frozen:  # dvc's warning, before every frozen stage it reproduces (--dry too)
                    warn(f"WARNING: stage: '{stage.addressing}' is frozen. Its dependencies are not going to be "
                         "reproduced.")
                if said:
                    say("")
                outcome = engine.reproduce(stage, ws, opts)
                said = outcome is not None
            except TideError as exc:
                failed(stage.addressing, exc, set(g.postorder([i], reverse=True)) - {i})
                continue
            if outcome == "ran":
                result.ran.append(stage.addressing)
            elif outcome == "restored":
                result.restored.append(stage.addressing)
            elif outcome == "verified":
                result.verified.append(stage.addressing)
            if req.force_downstream and (outcome or force_state.get(i)):
                for d in g.dependents_of(i):
                    force_state[d] = True
        result.git_files = ws.changed_files
        if result.failed and not req.ignore_errors:
            names = ", ".join(f"'{n}'" for n in result.failed)
            raise ReproFailed(f"failed to reproduce{' stages:' if len(result.failed) > 1 else ''} {names}", result)
    return result


def _data_sources(repo: Repo, project: Project, g: Graph, steps: list[int], req: ReproRequest,
                  seen: set[str]) -> dict[int, list[str]]:
    """{step: the ``.dvc`` files first reached through it}: dvc's graph holds every ``.dvc`` file as a stage
    (a data source), upstream of the pipeline stages whose dependencies or params overlap its outputs, so
    its plan verifies them just before the first such stage (``-s`` plans the targets alone; a frozen
    stage's dependencies are cut, as in ``_active``). ``seen``: .dvc files verified already (named targets)."""
    from tide.pipeline.project import tracked_outputs

    if req.single_item and not req.pipeline:
        return {}
    tracked = tracked_outputs(repo)
    if not tracked:
        return {}
    found: dict[int, list[str]] = {}
    for i in steps:
        st = project.stages[i]
        for out, ptr in tracked:
            if ptr not in seen and _reads(st, out):
                seen.add(ptr)
                found.setdefault(i, []).append(ptr)
    return found


def _verify_source(repo: Repo, ptr: str, req: ReproRequest, ws, say) -> str | None:
    """dvc's ``reproduce`` of a data source (N37): when an output of the ``.dvc`` file changed (modified,
    deleted or ``not in cache``, this last unless ``--allow-missing``) or ``--force``, a missing output fails
    the run ("missing data 'source'"), else the current content is recorded, cached and linked (``commit -f``
    of that file; ``--no-commit``: recorded only), and the file is named in the git hint even when its bytes
    are the same (dvc's dump of a ``.dvc`` file always tracks it). Returns ``"verified"``, ``"dry"`` (it would
    be) or ``None`` (unchanged)."""
    from tide.ops.commit import commit_pointer
    from tide.workspace import pointers
    from tide.workspace.status import out_status

    pf = pointers.load(ptr, repo.root)
    rel = repo.rel(ptr)
    states = [out_status(o, repo.hasher, repo.cache) for o in pf.outs]
    if not req.force and not any(s and not (req.allow_missing and s == "not in cache") for s in states):
        say(f"'{rel}' didn't change, skipping")
        return None
    repo.hasher.stir()  # this source is recorded again: what that writes must be seen
    if req.dry:
        return "dry"
    say(f"Verifying {'outputs in frozen' if pf.top.get('frozen') else 'data sources in'} stage: '{rel}'")
    missing = [repo.rel(o.abspath) for o in pf.outs if not os.path.lexists(o.abspath)]
    if missing:
        raise MissingError(f"missing data 'source{'s' if len(missing) > 1 else ''}': {', '.join(missing)}")
    if req.no_commit:
        outs = []
        for o in pf.outs:
            res = repo.hasher.hash_path(o.abspath)
            outs.append(o.with_hash(res.md5, res.size, res.nfiles, res.isexec))
        new = pointers.PointerFile(pf.path, tuple(outs), pf.top)
        if new.dump() != pf.dump():
            new.write()
    else:
        commit_pointer(repo, pf)
    if rel not in ws.changed_files:
        ws.changed_files.append(rel)
    return "verified"


def _interactive_config(repo: Repo) -> bool:
    from tide.core.config import to_bool

    return to_bool(repo.option("core.interactive", "false"), "core.interactive")


class ReproFailed(PipelineError):
    def __init__(self, message: str, result: ReproResult) -> None:
        super().__init__(message)
        self.result = result


def _pull(repo: Repo, req: ReproRequest, warn) -> None:
    """Fetch the run cache and the tracked data from the default remote, then check the data out,
    so stages can be restored instead of run (dvc's ``repro --pull``). Missing objects only warn
    (``warn``: shown under -q too, as fetch's)."""
    from tide.ops.checkout import checkout
    from tide.ops.data_scope import Scope
    from tide.ops.fetch import run_fetch

    try:
        run_fetch(repo, Scope(), run_cache=req.run_cache, warn=warn)
    except TideError as exc:
        warn(f"WARNING: {exc}")
    try:
        checkout(repo, None)
    except TideError as exc:
        warn(f"WARNING: {exc}")


def _fetch_objects(repo: Repo, oids: list[str], warn) -> None:
    """Download objects (and directory contents) named by a run-cache entry from the default remote."""
    from tide.objects.remote import ObjRef
    from tide.objects.transfer import fetch
    from tide.ops.data_scope import open_remote

    try:
        rem = open_remote(repo, None)
    except TideError as exc:
        warn(f"WARNING: {exc}")
        return
    try:
        refs = [ObjRef(o) for o in oids]
        fetch(repo.cache, rem.store, [r for r in refs if not r.is_dir], [r for r in refs if r.is_dir], rem.jobs)
    except TideError as exc:
        warn(f"WARNING: {exc}")
    finally:
        rem.close()
