"""``tide status``: which tracked outputs changed in the workspace."""

from __future__ import annotations

import os

from tide.ops.index import Tracked, collect
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo
from tide.workspace.status import out_status


def select(repo: Repo, tracked: list[Tracked], targets: list[str] | None, cwd: str,
           granular: bool = False) -> list[Tracked]:
    """The tracked outputs ``targets`` name (a .dvc file, an output, a directory holding outputs, a
    ``dvc.lock:stage``). ``granular``: a target inside a tracked directory output names that part of it
    (``Tracked.part``), as dvc's ``collect_granular``; a whole-output selection of the same output wins."""
    if not targets:
        return tracked
    chosen = []
    for t in targets:
        p = os.path.normpath(os.path.join(cwd, t))
        hits = [
            x for x in tracked
            if x.source == p or x.out.abspath == p or x.out.abspath.startswith(p + os.sep)
            or (x.stage and f"{x.source}:{x.stage}".endswith(t))
        ]
        if not hits and granular:
            hits = [x._replace(part=p) for x in tracked if p.startswith(x.out.abspath + os.sep)]
        if not hits and not _names_a_stage(repo, t, cwd):
            from tide.core.errors import MissingError

            inside = [x for x in tracked if p.startswith(x.out.abspath + os.sep)]
            if inside:  # a part of a directory output, to a command that works on whole outputs
                out = os.path.relpath(inside[0].out.abspath, cwd)
                raise MissingError(f"'{t}' is inside the tracked directory '{out}': this command takes whole "
                                   f"outputs, name '{out}'")
            raise MissingError(f"'{t}' is not tracked (no .dvc file or pipeline output matches it)")
        chosen.extend(h for h in hits if h not in chosen)
    if granular and any(x.part for x in chosen):
        whole = {(x.source, x.out.abspath) for x in chosen if x.part is None}
        chosen = [x for x in chosen if x.part is None or (x.source, x.out.abspath) not in whole]
    return chosen


def _names_a_stage(repo: Repo, target: str, cwd: str) -> bool:
    """Whether ``target`` names a pipeline stage (or one of its outputs, cached or not) that has no
    tracked output to select: a stage with only uncached outputs, none, or none recorded yet. As dvc,
    such a target selects nothing and is no error (N42)."""
    from tide.core.errors import MissingError, TideError
    from tide.pipeline.project import load_project
    from tide.workspace.index import find_dvc_files

    if not find_dvc_files(repo.root, repo.ignore)[1]:
        return False
    try:
        return bool(load_project(repo, check=False).select([target], cwd))
    except (MissingError, TideError):
        return False


def scope(repo: Repo, targets: list[str] | None, cwd: str, recursive: bool = False, with_deps: bool = False):
    """What ``targets`` name: the .dvc-tracked outputs and ``(project, stage indexes)`` (None when the
    repository has no pipelines). ``recursive`` (``-R``): a directory target names every .dvc file and
    stage under it; ``with_deps``: the targets' upstream stages and the .dvc files they read too."""
    found = find_dvc_files(repo.root, repo.ignore)
    everything = collect(repo, found)
    pointer_tracked = [t for t in everything if t.stage is None]
    stage_idx, ptr_targets = split_targets(repo, targets, cwd, bool(found[1]), recursive)
    tracked = [] if targets else pointer_tracked
    if targets and recursive:  # dvc: a directory names the .dvc files under it, not the outputs inside it
        dirs = [os.path.normpath(os.path.join(cwd, t)) for t in targets]
        dirs = [d for d in dirs if os.path.isdir(d)]
        tracked = [x for x in pointer_tracked if any(x.source.startswith(d + os.sep) for d in dirs)]
        ptr_targets = [t for t in ptr_targets if os.path.normpath(os.path.join(cwd, t)) not in dirs]
    if ptr_targets:
        tracked += [x for x in select(repo, pointer_tracked, ptr_targets, cwd, granular=True) if x not in tracked]
    if targets and with_deps and stage_idx is not None:
        project, idx = stage_idx
        paths = output_targets(project, targets, cwd, recursive)
        if paths:  # dvc's collect_granular: an output named by path is that output alone, no upstream
            named = [t for t in targets if t not in paths and t not in ptr_targets]
            path_idx = [i for i in idx if i not in (project.select(named, cwd, recursive) if named else [])]
            idx = [i for i in idx if i not in path_idx]
        else:
            path_idx = []
        idx = project.graph.postorder(idx) if idx else []  # every upstream stage, as dvc's collect_pipeline
        stage_idx = (project, idx)
        used = [d.abspath for i in idx for d in project.stages[i].deps]
        tracked += [x for x in pointer_tracked if x not in tracked and any(
            u == x.out.abspath or u.startswith(x.out.abspath + os.sep) or x.out.abspath.startswith(u + os.sep)
            for u in used)]
        stage_idx = (project, idx + [i for i in path_idx if i not in idx])
    return tracked, stage_idx


def output_targets(project, targets: list[str], cwd: str, recursive: bool) -> list[str]:
    """The targets that name a stage output by its path (not a stage name, a dvc.yaml, ``file:name`` or,
    with ``recursive``, a directory): dvc selects that output alone for them (``collect_granular``)."""
    from tide.pipeline.definition import YAML_NAME

    found = []
    for t in targets:
        p = os.path.normpath(os.path.join(cwd, t))
        if ":" in t or os.path.basename(p) == YAML_NAME or (recursive and os.path.isdir(p)):
            continue
        if any(s.name == t or s.name.startswith(t + "@") for s in project.stages):
            continue
        if any(o.abspath == p or p.startswith(o.abspath + os.sep) for s in project.stages for o in s.outs):
            found.append(t)
    return found


def expand_targets(repo: Repo, targets: list[str], cwd: str, recursive: bool, with_deps: bool) -> list[str]:
    """``targets`` with ``-R``/``--with-deps`` applied, as targets ``select`` takes (for ``status -c``)."""
    from tide.pipeline.lockfile import LOCK_NAME

    tracked, sel = scope(repo, targets, cwd, recursive, with_deps)
    out = [x.part or x.source for x in tracked]  # a part of a directory stays that part (N64)
    if sel is not None:
        project, idx = sel
        paths = output_targets(project, targets, cwd, recursive)
        if paths:  # such a target stays itself: its stage's other outputs are not selected
            named = [t for t in targets if t not in paths]
            idx = scope(repo, named, cwd, recursive, with_deps)[1][1] if named else []
            out += [os.path.normpath(os.path.join(cwd, t)) for t in paths]
        locked = {f"{x.source}:{x.stage}" for x in collect(repo) if x.stage is not None}
        for i in idx:
            st = project.stages[i]
            name = f"{os.path.join(os.path.dirname(st.dvcfile), LOCK_NAME)}:{st.name}"
            if name in locked:  # a stage never run has no recorded output to compare
                out.append(name)
    return list(dict.fromkeys(out))


def workspace_status(repo: Repo, targets: list[str] | None = None, cwd: str | None = None,
                     recursive: bool = False, with_deps: bool = False, updates: bool = True,
                     warn=None) -> dict[str, list]:
    """DVC's ``status --json`` shape: ``{source: [{"changed outs": {path: state}}]}`` for .dvc files
    and ``{stage: [{"changed deps": ...}, {"changed outs": ...}, "changed command"]}`` for stages.
    ``recursive`` (``-R``): a directory target names every .dvc file and stage under it; ``with_deps``:
    the targets' upstream stages and .dvc files too (dvc's ``collect_granular`` semantics). ``updates``
    (dvc's default, off with ``--no-updates``): an import whose source revision moved on since its
    ``rev_lock`` is reported ``{"changed deps": {"PATH (URL)": "update available"}}``. ``warn(line)``:
    told of each frozen stage looked at (its dependencies are not shown), as dvc warns."""
    cwd = cwd or os.getcwd()
    with repo.hasher.still():  # status writes nothing in the workspace: each directory is looked at once
        tracked, stage_idx = scope(repo, targets, cwd, recursive, with_deps)
        result: dict[str, list] = {}
        seen = set()
        for t in tracked:
            if (t.source, t.out.abspath) in seen:  # as dvc: a part of a directory reports the whole output
                continue
            seen.add((t.source, t.out.abspath))
            st = out_status(t.out, repo.hasher, repo.cache)
            if st is None:
                continue
            key = repo.rel(t.source)
            entry = result.setdefault(key, [])
            if not entry:
                entry.append({"changed outs": {}})
            entry[0]["changed outs"][repo.rel(t.out.abspath)] = st
        if updates:
            for source, change in _import_updates(repo, tracked).items():
                result[source] = [change, *result.get(source, [])]
        if stage_idx is not None:
            result.update(_stage_status(repo, stage_idx, warn))
    return result


def _import_updates(repo: Repo, tracked: list[Tracked]) -> dict[str, dict]:
    """dvc's ``RepoDependency.workspace_status``: the source's revision (its ``rev``, else its HEAD)
    resolved now differs from the ``rev_lock`` recorded. A source that cannot be opened fails the
    status, as in dvc (which fails to clone it)."""
    from tide.ops.registry_source import open_source
    from tide.workspace import pointers

    found: dict[str, dict] = {}
    resolved: dict[tuple[str, str | None], str | None] = {}
    for ptr in dict.fromkeys(t.source for t in tracked if t.stage is None):
        if not ptr.endswith(pointers.SUFFIX):
            continue
        deps = pointers.load(ptr, repo.root).top.get("deps")
        if not (isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict)):
            continue
        dep = deps[0]
        info = dep.get("repo")
        if not (isinstance(info, dict) and isinstance(info.get("url"), str) and isinstance(info.get("rev_lock"), str)):
            continue
        url, rev = info["url"], info.get("rev") if isinstance(info.get("rev"), str) else None
        if (url, rev) not in resolved:
            with open_source(url, rev, repo.env) as src:
                resolved[(url, rev)] = src.sha
        if resolved[(url, rev)] != info["rev_lock"]:
            found[repo.rel(ptr)] = {"changed deps": {f"{dep.get('path')} ({url})": "update available"}}
    return found


def split_targets(repo: Repo, targets: list[str] | None, cwd: str, pipelines: bool, recursive: bool = False):
    """Stage indexes (None when there are no pipelines to check) and the targets left for .dvc files."""
    if not pipelines:
        return None, list(targets or [])
    from tide.core.errors import MissingError
    from tide.pipeline.project import load_project

    project = load_project(repo, check=False)  # dvc's status reports a pipeline its graph refuses (N21)
    if not targets:
        return (project, list(range(len(project.stages)))), []
    chosen: list[int] = []
    rest = []
    for t in targets:
        try:
            chosen.extend(i for i in project.select([t], cwd, recursive) if i not in chosen)
        except MissingError:
            p = os.path.normpath(os.path.join(cwd, t))  # inside a stage's directory output: that stage (N64)
            inside = [i for i, st in enumerate(project.stages)
                      if any(p.startswith(o.abspath + os.sep) for o in st.outs)]
            if inside:
                chosen.extend(i for i in inside if i not in chosen)
            else:
                rest.append(t)
    return (project, chosen), rest


def _stage_status(repo: Repo, sel, warn=None) -> dict[str, list]:
    from tide.pipeline import lockfile
    from tide.pipeline.stagestate import stage_status

    project, idx = sel
    locks: dict[str, dict] = {}
    out: dict[str, list] = {}
    for i in idx:
        st = project.stages[i]
        if st.frozen and warn is not None:
            warn(f"WARNING: stage: '{st.addressing}' is frozen. Its dependencies are not going to be shown in "
                 "the status output.")
        if st.lockfile not in locks:
            locks[st.lockfile] = lockfile.read_entries(st.lockfile, repo.root)
        status = stage_status(st, locks[st.lockfile].get(st.name), repo.root, repo.hasher, repo.cache)
        if status.changed:
            out[st.addressing] = status.as_dvc()
    return out
