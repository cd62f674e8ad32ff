"""All pipelines of a repository: every dvc.yaml, its stages, the graph, and target selection."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, TideError
from tide.core.values import Value
from tide.pipeline import definition
from tide.pipeline.definition import Pipeline, Stage
from tide.pipeline.graph import Graph, build
from tide.workspace import pointers
from tide.workspace.index import find_dvc_files
from tide.workspace.repo import Repo


class Project(Value):
    __slots__ = ("root", "pipelines", "graph")
    root: str
    pipelines: tuple[Pipeline, ...]
    graph: Graph

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.graph.stages

    def select(self, targets: list[str], cwd: str, recursive: bool = False) -> list[int]:
        """Stage indexes named by ``targets``: stage names, ``path/dvc.yaml[:name]``, directories
        with ``recursive``, or output paths."""
        chosen: list[int] = []

        def add(idx: list[int]) -> None:
            chosen.extend(i for i in idx if i not in chosen)

        for t in targets:
            add(self._match(t, cwd, recursive))
        return chosen

    def _match(self, t: str, cwd: str, recursive: bool) -> list[int]:
        stages = self.stages
        file_part, sep, name = t.rpartition(":") if ":" in t else ("", "", t)
        if sep:
            p = os.path.normpath(os.path.join(cwd, file_part))
            if os.path.isdir(p):
                p = os.path.join(p, definition.YAML_NAME)
            hits = [i for i, s in enumerate(stages) if s.dvcfile == p and (s.name == name or
                                                                           s.name.startswith(name + "@"))]
            if not hits:
                raise MissingError(f"stage '{name}' is not defined in '{file_part}'")
            return hits
        p = os.path.normpath(os.path.join(cwd, t))
        if os.path.basename(p) == definition.YAML_NAME:
            hits = [i for i, s in enumerate(stages) if s.dvcfile == p]
            if not hits and not os.path.exists(p):
                raise MissingError(f"'{t}' does not exist")
            return hits
        if recursive and os.path.isdir(p):
            return [i for i, s in enumerate(stages) if s.dvcfile.startswith(p + os.sep)]
        local = os.path.join(cwd, definition.YAML_NAME)
        hits = [i for i, s in enumerate(stages) if s.dvcfile == local and s.name == t]
        if not hits:
            hits = [i for i, s in enumerate(stages) if s.dvcfile == local and s.name.startswith(t + "@")]
        if not hits:
            hits = [i for i, s in enumerate(stages) if s.name == t]
        if not hits:
            hits = [i for i, s in enumerate(stages) if any(o.abspath == p for o in s.outs)]
        if not hits:
            raise MissingError(f"'{t}' is not a stage, a dvc.yaml or a stage output")
        return hits


def load_project(repo: Repo, check: bool = True) -> Project:
    """Every pipeline; ``check=False`` skips the graph's checks (see ``graph.build``): only for reports
    that read each stage on its own, never for what runs or writes stages."""
    ptrs, ymls = find_dvc_files(repo.root, repo.ignore)
    pipes = [definition.load(y, repo.root) for y in ymls]
    stages = [s for p in pipes for s in p.stages]
    tracked = tracked_outputs(repo, ptrs) if check else None
    return Project(repo.root, tuple(pipes), build(stages, repo.root, tracked, check=check))


def tracked_outputs(repo: Repo, ptrs: list[str] | None = None) -> list[tuple[str, str]]:
    """``(output path, .dvc file)`` of data tracked outside pipelines."""
    if ptrs is None:
        ptrs = find_dvc_files(repo.root, repo.ignore)[0]
    tracked: list[tuple[str, str]] = []
    for p in ptrs:
        try:
            pf = pointers.load(p, repo.root)
        except TideError:  # a broken .dvc file is reported by the commands that use it
            continue
        tracked.extend((o.abspath, p) for o in pf.outs)
    return tracked
