"""``tide status``: which tracked outputs changed in the workspace."""

from __future__ import annotations

import os

from tide.ops.index import Tracked, collect
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo
from tide.workspace.status import out_status


def select(repo: Repo, tracked: list[Tracked], targets: list[str] | None, cwd: str) -> list[Tracked]:
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
        if not hits:
            from tide.core.errors import MissingError

            raise MissingError(f"'{t}' is not tracked (no .dvc file or pipeline output matches it)")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def workspace_status(repo: Repo, targets: list[str] | None = None, cwd: str | None = None) -> dict[str, list]:
    """DVC's ``status --json`` shape: ``{source: [{"changed outs": {path: state}}]}`` for .dvc files
    and ``{stage: [{"changed deps": ...}, {"changed outs": ...}, "changed command"]}`` for stages."""
    cwd = cwd or os.getcwd()
    found = find_dvc_files(repo.root, repo.ignore)
    everything = collect(repo, found)
    pointer_tracked = [t for t in everything if t.stage is None]
    stage_idx, ptr_targets = _split_targets(repo, targets, cwd, bool(found[1]))
    tracked = select(repo, pointer_tracked, ptr_targets, cwd) if (ptr_targets or not targets) else []
    result: dict[str, list] = {}
    for t in tracked:
        st = out_status(t.out, repo.hasher, repo.cache)
        if st is None:
            continue
        key = repo.rel(t.source)
        entry = result.setdefault(key, [])
        if not entry:
            entry.append({"changed outs": {}})
        entry[0]["changed outs"][repo.rel(t.out.abspath)] = st
    if stage_idx is not None:
        result.update(_stage_status(repo, stage_idx))
    return result


def _split_targets(repo: Repo, targets: list[str] | None, cwd: str, pipelines: bool):
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
            chosen.extend(i for i in project.select([t], cwd) if i not in chosen)
        except MissingError:
            rest.append(t)
    return (project, chosen), rest


def _stage_status(repo: Repo, sel) -> dict[str, list]:
    from tide.pipeline import lockfile
    from tide.pipeline.stagestate import stage_status

    project, idx = sel
    locks: dict[str, dict] = {}
    out: dict[str, list] = {}
    for i in idx:
        st = project.stages[i]
        if st.lockfile not in locks:
            locks[st.lockfile] = lockfile.read_entries(st.lockfile, repo.root)
        status = stage_status(st, locks[st.lockfile].get(st.name), repo.root, repo.hasher, repo.cache)
        if status.changed:
            out[st.addressing] = status.as_dvc()
    return out
