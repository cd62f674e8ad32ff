"""``tide dag``: the stage graph as text boxes, Mermaid (``--md``) or Graphviz (``--dot``)."""

from __future__ import annotations

import os

from tide.pipeline.graph import Graph
from tide.pipeline.project import load_project
from tide.workspace.repo import Repo


def _subgraph(repo: Repo, target: str | None, cwd: str, full: bool) -> tuple[Graph, list[int]]:
    project = load_project(repo)
    g = project.graph
    if not target:
        return g, list(range(len(g.stages)))
    chosen = project.select([target], cwd)
    nodes = set(g.postorder(chosen))
    if full:
        for c in chosen:
            nodes |= g.component(c)
    return g, sorted(nodes)


def edges(g: Graph, nodes: list[int]) -> list[tuple[int, int]]:
    """(upstream, downstream) pairs among ``nodes``."""
    return [(d, i) for i in nodes for d in g.deps_of(i) if d in nodes]


def render_dot(g: Graph, nodes: list[int]) -> str:
    lines = ["strict digraph {"]
    lines += [f'"{g.stages[i].addressing}";' for i in nodes]
    lines += [f'"{g.stages[a].addressing}" -> "{g.stages[b].addressing}";' for a, b in edges(g, nodes)]
    lines.append("}")
    return "\n".join(lines)


def render_md(g: Graph, nodes: list[int]) -> str:
    ids = {n: f"node{k + 1}" for k, n in enumerate(nodes)}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'\t{ids[i]}["{g.stages[i].addressing}"]' for i in nodes]
    lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in edges(g, nodes)]
    lines.append("```")
    return "\n".join(lines)


def render_text(g: Graph, nodes: list[int]) -> str:
    """Boxes in execution order, one pipeline after another, with the upstream of each stage."""
    order = [i for i in g.postorder(nodes) if i in nodes]
    out: list[str] = []
    for i in order:
        name = g.stages[i].addressing
        ups = [g.stages[d].addressing for d in g.deps_of(i) if d in nodes]
        if ups:
            out.append("      *")
            out.append("      * from " + ", ".join(ups))
            out.append("      *")
        bar = "+" + "-" * (len(name) + 2) + "+"
        out += [bar, f"| {name} |", bar]
    return "\n".join(out)


def dag(repo: Repo, target: str | None = None, fmt: str = "text", full: bool = False,
        cwd: str | None = None) -> str:
    g, nodes = _subgraph(repo, target, cwd or os.getcwd(), full)
    if not nodes:
        return ""
    return {"dot": render_dot, "md": render_md}.get(fmt, render_text)(g, nodes)
