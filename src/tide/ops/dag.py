"""``tide dag``: the graph of stages (or of outputs, ``--outs``) as dvc prints it: Graphviz (``--dot``),
Mermaid (``--mermaid``, ``--md``), or text boxes.

dvc's facts reproduced here (dvc 3.67.1, ``dvc/commands/dag.py``, ``dvc/repo/graph.py``):
- the nodes are every stage of the index, ``.dvc`` files included, in the index's order: the files in
  the order of dvc's top-down walk of the workspace (a directory's files in listing order, then its
  subdirectories), the stages of one ``dvc.yaml`` in their order;
- an edge goes from a stage to each stage whose output overlaps one of its dependencies;
- ``--dot`` is pydot's rendering of the *reversed* graph after networkx relabelled it in place (which
  decides the order of the edges); ``--mermaid`` prints each weakly connected pipeline with its nodes and
  edges sorted; ``--outs`` uses the outputs in the order of dvc's outputs trie.
The graph below mimics networkx's ordered adjacency so that the output is byte for byte dvc's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tide.core.errors import MissingError, TideError
from tide.workspace.repo import Repo
from tide.workspace.walkorder import walk_key


class _Digraph:
    """The part of networkx's DiGraph whose insertion order dvc's output depends on."""

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, None]] = {}
        self.pred: dict[str, dict[str, None]] = {}

    def add_node(self, n: str) -> None:
        if n not in self.succ:
            self.succ[n] = {}
            self.pred[n] = {}

    def add_edge(self, u: str, v: str) -> None:
        self.add_node(u)
        self.add_node(v)
        self.succ[u][v] = None
        self.pred[v][u] = None

    def remove_node(self, n: str) -> None:
        for s in self.succ.pop(n):
            del self.pred[s][n]
        for p in self.pred.pop(n):
            del self.succ[p][n]

    def edges(self) -> list[tuple[str, str]]:
        return [(u, v) for u, vs in self.succ.items() for v in vs]

    def copy(self, keep=None) -> _Digraph:
        """networkx's ``copy`` (and ``relabel_nodes(copy=True)``, ``subgraph().copy()``): nodes in order,
        then the edges in iteration order."""
        g = _Digraph()
        for n in self.succ:
            if keep is None or n in keep:
                g.add_node(n)
        for u, v in self.edges():
            if keep is None or (u in keep and v in keep):
                g.add_edge(u, v)
        return g

    def reverse(self) -> _Digraph:
        g = _Digraph()
        for n in self.succ:
            g.add_node(n)
        for u, v in self.edges():
            g.add_edge(v, u)
        return g

    def relabel_inplace(self, label) -> None:
        """networkx's ``relabel_nodes(G, f, copy=False)`` when old and new labels do not overlap."""
        for old in list(self.succ):
            new = label(old)
            self.add_node(new)
            if new == old:
                continue
            moved = [(new, new if t == old else t) for t in self.succ[old]]
            moved += [(new if s == old else s, new) for s in self.pred[old]]
            self.remove_node(old)
            for u, v in moved:
                self.add_edge(u, v)

    def reachable(self, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for m in self.succ[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    def components(self) -> list[set[str]]:
        """networkx's ``weakly_connected_components``: in the order of each component's first node."""
        seen: set[str] = set()
        comps = []
        for n in self.succ:
            if n in seen:
                continue
            comp, todo = {n}, [n]
            while todo:
                m = todo.pop()
                for k in (*self.succ[m], *self.pred[m]):
                    if k not in comp:
                        comp.add(k)
                        todo.append(k)
            seen |= comp
            comps.append(comp)
        return comps


@dataclass(frozen=True)
class _Node:
    name: str  # dvc's addressing, relative to the current directory
    deps: tuple[str, ...]  # absolute paths
    outs: tuple[tuple[str, str], ...]  # (absolute path, name relative to the current directory)
    file: str  # absolute path of its dvc.yaml or .dvc file
    stage: str | None = None  # the stage's name in its dvc.yaml


def _rel(path: str, cwd: str) -> str:
    return os.path.relpath(path, cwd).replace(os.sep, "/")


def _nodes(repo: Repo, cwd: str) -> list[_Node]:
    from tide.pipeline import definition
    from tide.workspace import pointers
    from tide.workspace.index import find_dvc_files

    ptrs, ymls = find_dvc_files(repo.root, repo.ignore)
    nodes: list[_Node] = []
    for f in sorted((*ptrs, *ymls), key=walk_key(repo.root)):
        if os.path.basename(f) == definition.YAML_NAME:
            here = os.path.join(cwd, definition.YAML_NAME)
            for s in definition.load(f, repo.root).stages:
                name = s.name if f == here else f"{_rel(f, cwd)}:{s.name}"
                deps = (*(d.abspath for d in s.deps), *(p.abspath for p in s.params))
                nodes.append(_Node(name, deps, tuple((o.abspath, _rel(o.abspath, cwd)) for o in s.outs), f, s.name))
            continue
        pf = pointers.load(f, repo.root)
        deps = []
        for d in pf.top.get("deps") or ():
            if not isinstance(d, dict) or "repo" in d or "db" in d or not isinstance(d.get("path"), str):
                continue  # dvc draws no edge for repository or database imports
            if "://" not in d["path"]:
                deps.append(os.path.normpath(os.path.join(os.path.dirname(f), d["path"])))
        nodes.append(_Node(_rel(f, cwd), tuple(deps), tuple((o.abspath, _rel(o.abspath, cwd)) for o in pf.outs), f))
    return nodes


def _trie_order(nodes: list[_Node]) -> list[tuple[str, str, int]]:
    """(abspath, name, node index) of every output in the order of dvc's outputs trie: depth first, the
    children of each path component in insertion order."""
    trie: dict = {}
    for i, n in enumerate(nodes):
        for abspath, name in n.outs:
            t = trie
            for part in abspath.split(os.sep)[1:]:
                t = t.setdefault(part, {})
            t[None] = (abspath, name, i)
    found: list[tuple[str, str, int]] = []

    def visit(t: dict) -> None:
        if None in t:
            found.append(t[None])
        for k, sub in t.items():
            if k is not None:
                visit(sub)

    visit(trie)
    return found


def _overlapping(dep: str, outs: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The outputs containing ``dep`` (shortest first), then those inside it (trie order)."""
    above = sorted((o for o in outs if dep == o[0] or dep.startswith(o[0] + os.sep)), key=lambda o: len(o[0]))
    return above + [o for o in outs if o[0].startswith(dep + os.sep)]


def _graphs(nodes: list[_Node], outs_graph: bool) -> _Digraph:
    outs = _trie_order(nodes)
    g = _Digraph()
    if not outs_graph:
        for n in nodes:
            g.add_node(n.name)
        for n in nodes:
            for dep in n.deps:
                for o in _overlapping(dep, outs):
                    g.add_edge(n.name, nodes[o[2]].name)
        return g.copy()  # dvc relabels the graph into a copy before filtering it
    for o in outs:
        g.add_node(o[1])
    for n in nodes:
        for dep in n.deps:
            over = _overlapping(dep, outs)
            for _, mine in n.outs:
                for o in over:
                    g.add_edge(mine, o[1])
    return g.copy()


def _targets(nodes: list[_Node], target: str, cwd: str, outs: bool) -> list[str]:
    """dvc's ``collect_granular`` for one target: ``file:stage``, a dvc.yaml or .dvc file, a stage of the
    dvc.yaml in the current directory (a foreach group by its name), or an output path."""
    from tide.core.errors import PipelineError

    file_part, sep, name = target.rpartition(":")
    if sep and not os.path.isabs(target):
        f = os.path.normpath(os.path.join(cwd, file_part))
        chosen = [n for n in nodes if n.file == f and n.stage is not None and
                  (n.stage == name or n.stage.startswith(name + "@"))]
        if not chosen:
            raise PipelineError(f"Stage '{name}' not found inside '{file_part}' file")
    else:
        p = os.path.normpath(os.path.join(cwd, target))
        chosen = [n for n in nodes if n.file == p]
        if not chosen:
            here = os.path.join(cwd, "dvc.yaml")
            chosen = [n for n in nodes if n.file == here and n.stage is not None and
                      (n.stage == target or n.stage.startswith(target + "@"))]
        if not chosen:
            owner = [n for n in nodes for o, _ in n.outs if p == o or p.startswith(o + os.sep)]
            if not owner:
                raise MissingError(f"'{target}' does not exist as an output or a stage name in 'dvc.yaml': "
                                   f"Stage '{target}' not found inside 'dvc.yaml' file")
            if outs:  # the output itself (dvc 3.67.1 crashes here: it extends the list by the characters)
                return [name for n in owner for o, name in n.outs if p == o or p.startswith(o + os.sep)]
            chosen = owner[:1]
    if outs:
        return [name for n in chosen for _, name in n.outs]
    return [n.name for n in chosen]


def _filter(g: _Digraph, targets: list[str], full: bool) -> _Digraph:
    if not targets:
        return g
    keep = set(g.succ)
    if not full:
        keep = set()
        for t in targets:
            keep |= g.reachable(t)
    g = g.copy(keep)
    connected: set[str] = set()
    for t in targets:
        for comp in g.components():
            if t in comp:
                connected |= comp
    return g.copy(connected)


def _collapse(g: _Digraph) -> _Digraph:
    """dvc's ``--collapse-foreach-matrix``: the stages of one foreach/matrix definition (``name@key``) become
    one node ``name``. dvc adds the new nodes and edges from sets (their ``--dot`` order changes from run
    to run); tide adds them sorted."""
    def group(n: str) -> str:
        return n if n.endswith(".dvc") or "@" not in n else n.split("@")[0]

    out = g.copy()
    gone = {n for n in g.succ if group(n) != n}
    moved = {(u, v) for u, v in g.edges() if u in gone or v in gone}
    for u, v in moved:
        del out.succ[u][v]
        del out.pred[v][u]
    for n in sorted({group(n) for n in gone}):
        out.add_node(n)
    for u, v in sorted({(group(u), group(v)) for u, v in moved}):
        out.add_edge(u, v)
    for n in gone:
        if n in out.succ and group(n) != n:
            out.remove_node(n)
    return out


def render_dot(g: _Digraph) -> str:
    g = g.copy()
    g.relabel_inplace(lambda n: n if n.startswith('"') and n.endswith('"') else f'"{n}"')
    r = g.reverse()
    lines = ["strict digraph {"]
    lines += [f"{n};" for n in r.succ]
    lines += [f"{u} -> {v};" for u, v in r.edges()]
    return "\n".join(lines) + "\n}\n"


def render_mermaid(g: _Digraph, markdown: bool) -> str:
    out = "flowchart TD"
    total = 0
    for comp in g.components():
        ids: dict[str, str] = {}
        for n in sorted(comp):
            total += 1
            ids[n] = f"node{total}"
            out += f'\n\t{ids[n]}["{n}"]'
        for a, b in sorted((v, u) for u, v in g.edges() if u in comp):
            out += f"\n\t{ids[a]}-->{ids[b]}"
    return f"```mermaid\n{out}\n```" if markdown else out


def render_text(g: _Digraph) -> str:
    """tide's own layout (dvc draws with grandalf): boxes in execution order, one pipeline after another,
    each with the nodes it comes from."""
    out: list[str] = []
    done: set[str] = set()
    for comp in g.components():
        order: list[str] = []
        for start in (n for n in g.succ if n in comp and n not in done):  # depth-first post-order
            done.add(start)
            stack = [(start, iter(g.succ[start]))]
            while stack:
                n, it = stack[-1]
                nxt = next((m for m in it if m not in done), None)
                if nxt is None:
                    stack.pop()
                    order.append(n)
                else:
                    done.add(nxt)
                    stack.append((nxt, iter(g.succ[nxt])))
        for n in order:
            ups = list(g.succ[n])
            if ups:
                out += ["      *", "      * from " + ", ".join(ups), "      *"]
            bar = "+" + "-" * (len(n) + 2) + "+"
            out += [bar, f"| {n} |", bar]
    return "\n".join(out)


def dag(repo: Repo, target: str | None = None, fmt: str = "text", full: bool = False,
        cwd: str | None = None, outs: bool = False, collapse: bool = False) -> str:
    """The text ``dvc dag`` prints (without the final newline ``ui.write`` adds); ``fmt``: ``dot``,
    ``mermaid``, ``md`` or ``text``."""
    if outs and collapse:
        from tide.core.errors import UsageError

        raise UsageError("`--outs` and `--collapse-foreach-matrix` are mutually exclusive")
    from tide.pipeline.project import load_project

    load_project(repo)  # the graph's checks (cycles, duplicate or nested outputs): dvc's dag refuses those too
    cwd = cwd or os.getcwd()
    nodes = _nodes(repo, cwd)
    g = _graphs(nodes, outs)
    if target:
        targets = _targets(nodes, target, cwd, outs)
        missing = [t for t in targets if t not in g.succ]
        if missing:
            raise TideError(f"'{missing[0]}' is not in the graph")
        g = _filter(g, targets, full)
    if collapse:
        g = _collapse(g)
    if fmt == "dot":
        return render_dot(g)
    if fmt in ("mermaid", "md"):
        return render_mermaid(g, fmt == "md")
    return render_text(g)
