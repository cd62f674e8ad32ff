"""The stage graph: edges from a stage to the stages producing its dependencies, sanity checks
(duplicate outputs, nested outputs, cycles) and the execution plan dvc uses (DFS post-order)."""

from __future__ import annotations

import os

from tide.core.errors import OverlapError, PipelineError
from tide.core.values import Value
from tide.pipeline.definition import Stage


def _rel(root: str, p: str) -> str:
    return os.path.relpath(p, root).replace(os.sep, "/")


def overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + os.sep) or b.startswith(a + os.sep)


class Graph(Value):
    __slots__ = ("stages", "edges")
    stages: tuple[Stage, ...]
    edges: dict[int, tuple[int, ...]]  # stage index -> indexes of the stages it depends on

    def deps_of(self, i: int) -> tuple[int, ...]:
        return self.edges.get(i, ())

    def dependents_of(self, i: int) -> list[int]:
        return [j for j, ds in self.edges.items() if i in ds]

    def index(self, stage: Stage) -> int:
        return self.stages.index(stage)

    def postorder(self, starts: list[int] | None = None, reverse: bool = False) -> list[int]:
        """dvc's plan: DFS post-order from ``starts`` (all stages in order when ``None``)."""
        adj = self.edges if not reverse else self._reversed()
        seen: set[int] = set()
        order: list[int] = []
        for s in (range(len(self.stages)) if starts is None else starts):
            if s in seen:
                continue
            seen.add(s)
            stack = [(s, iter(adj.get(s, ())))]
            while stack:
                node, it = stack[-1]
                nxt = next((c for c in it if c not in seen), None)
                if nxt is None:
                    stack.pop()
                    order.append(node)
                else:
                    seen.add(nxt)
                    stack.append((nxt, iter(adj.get(nxt, ()))))
        return order

    def _reversed(self) -> dict[int, tuple[int, ...]]:
        rev: dict[int, list[int]] = {}
        for i, ds in self.edges.items():
            for d in ds:
                rev.setdefault(d, []).append(i)
        return {k: tuple(v) for k, v in rev.items()}

    def component(self, i: int) -> set[int]:
        """The pipeline (weakly connected component) of stage ``i``."""
        rev = self._reversed()
        todo, seen = [i], {i}
        while todo:
            n = todo.pop()
            for m in (*self.edges.get(n, ()), *rev.get(n, ())):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    def components(self) -> list[list[int]]:
        done: set[int] = set()
        comps = []
        for i in range(len(self.stages)):
            if i not in done:
                c = self.component(i)
                done |= c
                comps.append(sorted(c))
        return comps


def build(stages: list[Stage], root: str, tracked: list[tuple[str, str]] | None = None,
          check: bool = True) -> Graph:
    """Check the stages and connect them. ``tracked`` lists ``(abspath, .dvc file)`` of data
    tracked outside pipelines; a stage may not write those. ``check=False`` connects them without the
    checks (duplicate, nested or tracked outputs, cycles), for the reports dvc gives on such a pipeline
    too (``status``: dvc collects the stages without building its graph)."""
    owners: dict[str, Stage] = {}
    outs: list[tuple[str, Stage]] = []
    for st in stages:
        for o in st.outs:
            prev = owners.get(o.abspath)
            if prev is not None and check:
                raise OverlapError(
                    f"{_rel(root, st.dvcfile)}: output '{_rel(root, o.abspath)}' of stage '{st.name}' is also "
                    f"an output of stage '{prev.addressing}'"
                )
            owners[o.abspath] = st
            outs.append((o.abspath, st))
    for p, dvcfile in (tracked or []) if check else []:
        st = owners.get(p)
        if st is not None:
            raise OverlapError(
                f"{_rel(root, st.dvcfile)}: output '{_rel(root, p)}' of stage '{st.name}' is already tracked "
                f"by '{_rel(root, dvcfile)}'"
            )
    ordered = sorted(outs, key=lambda t: t[0]) if check else []
    for (a, sa), (b, sb) in zip(ordered, ordered[1:], strict=False):
        if b.startswith(a + os.sep):
            raise OverlapError(
                f"{_rel(root, sb.dvcfile)}: output '{_rel(root, b)}' of stage '{sb.name}' is inside output "
                f"'{_rel(root, a)}' of stage '{sa.addressing}'"
            )
    for st in stages if check else []:
        for o in st.outs:
            if os.path.dirname(st.dvcfile).startswith(o.abspath + os.sep):
                raise OverlapError(f"{_rel(root, st.dvcfile)}: stage '{st.name}' lives inside its output "
                                   f"'{_rel(root, o.abspath)}'")
    index = {id(s): i for i, s in enumerate(stages)}
    edges: dict[int, tuple[int, ...]] = {}
    for i, st in enumerate(stages):
        targets: list[int] = []
        paths = [d.abspath for d in st.deps] + [p.abspath for p in st.params]
        for dep in paths:
            for p, owner in outs:
                if overlaps(dep, p):
                    j = index[id(owner)]
                    if j not in targets:
                        targets.append(j)
        if targets:
            edges[i] = tuple(targets)
    g = Graph(tuple(stages), edges)
    if check:
        _check_acyclic(g, root)
    return g


def _check_acyclic(g: Graph, root: str) -> None:
    color = [0] * len(g.stages)
    for s in range(len(g.stages)):
        if color[s]:
            continue
        stack = [(s, iter(g.deps_of(s)))]
        path = [s]
        color[s] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                color[node] = 2
            elif color[nxt] == 1:
                cyc = path[path.index(nxt):] + [nxt]
                names = " -> ".join(g.stages[c].addressing for c in reversed(cyc))
                first = g.stages[nxt]
                raise PipelineError(f"{_rel(root, first.dvcfile)}: the pipeline has a cycle: {names}")
            elif color[nxt] == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(g.deps_of(nxt))))
