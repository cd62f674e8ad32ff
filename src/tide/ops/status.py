"""``tide status``: which tracked outputs changed in the workspace."""

from __future__ import annotations

import os

from tide.ops.index import Tracked, collect
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
    """DVC's ``status --json`` shape: ``{source: [{"changed outs": {path: state}}]}``."""
    cwd = cwd or os.getcwd()
    tracked = select(repo, collect(repo), targets, cwd)
    result: dict[str, list] = {}
    for t in tracked:
        st = out_status(t.out, repo.hasher, repo.cache)
        if st is None:
            continue
        key = repo.rel(t.source) if t.stage is None else t.stage
        entry = result.setdefault(key, [])
        if not entry:
            entry.append({"changed outs": {}})
        entry[0]["changed outs"][repo.rel(t.out.abspath)] = st
    return result
