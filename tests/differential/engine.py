"""Run random op sequences on two repositories (dvc | tide, or dvc | both in alternation), compare after
every step, classify each divergence (known, being fixed: known.py) and shrink new ones to a shell script.

A sequence ends at its first divergence that changed state (later steps would only echo it); a known
divergence in a read-only output (a JSON report) is counted and the sequence goes on.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import known, ops, snapshot, tools
from .ops import Line, Op

OBSERVE = (Line(argv=("status", "--json"), json=True), Line(argv=("diff", "--json"), json=True))


def setup_lines(cache_type: str) -> tuple[Line, ...]:
    cfg = (Line(argv=("config", "cache.type", cache_type)),) if cache_type else ()
    return (Line(sh="git init -q -b main"), Line(argv=("init", "-q")),
            Line(argv=("remote", "add", "-q", "-d", "r", "../remote")), *cfg,
            Line(sh="git add -A && git commit -qm init"))


@dataclass
class LineResult:
    line: Line
    rc: int
    out: str
    tool: str


@dataclass
class Divergence:
    step: int                                   # index of the op in the sequence (-1: setup)
    op: Op
    exits: list[tuple[str, int, int]] = field(default_factory=list)      # (line, dvc rc, tide rc)
    outputs: list[tuple[str, object, object]] = field(default_factory=list)  # (line, dvc json, tide json)
    state: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    labels: tuple[str, str] = ("dvc", "tide")
    rcs: list[tuple[int, int]] = field(default_factory=list)  # (dvc rc, tide rc) of each line of the op
    known: list = field(default_factory=list)    # known.Known findings explaining part of it
    rest: list | None = None                     # the entries no known finding explains (None: unclassified)
    changed: bool = False                        # the op changed the dvc side (a byte, mode or mtime)

    def __bool__(self) -> bool:
        return bool(self.exits or self.outputs or self.state)

    @property
    def new(self) -> bool:
        return bool(self.rest if self.rest is not None else self)

    @property
    def stateful(self) -> bool:
        """Whether the sequence must stop here (state differs, or a new divergence)."""
        return self.new or any(k.stateful for k in self.known)

    def classify(self, ctx) -> None:
        self.known, self.rest = known.classify(self, ctx)

    def categories(self) -> frozenset[str]:
        """What the unexplained part is about (the shrinker keeps candidates sharing one)."""
        c = set()
        for kind, k, a, b in (self.rest if self.rest is not None else known.entries(self)):
            if kind == "exit":
                c.add(f"exit:{k.split()[1] if k.startswith('$') else k.split()[0]}")
            elif kind == "json":
                c.add(f"json:{k}")
            else:
                area = (k.split("/", 1)[1] if "/" in k.split(":")[0] else k).split(":")[0]
                c.add(f"{area}:{'only-tide' if a is None else 'only-dvc' if b is None else 'differs'}")
        return frozenset(c)

    def describe(self, limit: int = 12) -> list[str]:
        x, y = self.labels
        out = []
        rest = self.rest if self.rest is not None else known.entries(self)
        for kind, k, a, b in rest[:limit]:
            if kind == "exit":
                out.append(f"exit status of `{k}`: {x} {a}, {y} {b}")
            elif kind == "json":
                out.append(f"`{k}` printed: {x} {json.dumps(a)[:300]} | {y} {json.dumps(b)[:300]}")
            else:
                out.append(f"{k}: {x} {a or '(absent)'} | {y} {b or '(absent)'}")
        if len(rest) > limit:
            out.append(f"... and {len(rest) - limit} more differences")
        out += [f"(also, known: {k.name})" for k in self.known]
        return out


class Side:
    """One sequence root (repo, remote, clones) driven by one tool, or by either (mixed)."""

    def __init__(self, root: Path, env: dict[str, str], tools_: dict[str, tools.Tool]):
        self.root, self.env, self.tools = root, env, tools_
        self.clones: list[str] = []

    def run_line(self, line: Line, tool: str) -> LineResult:
        cwd = self.root / line.cwd
        if not line.argv:
            cmd = line.sh.replace("$T", tool)
            try:
                p = subprocess.run(["sh", "-c", cmd], cwd=cwd, env=self.env, capture_output=True,
                                   stdin=subprocess.DEVNULL, text=True, timeout=120)
                return LineResult(line, p.returncode, p.stdout, tool)
            except (subprocess.TimeoutExpired, FileNotFoundError, NotADirectoryError) as e:
                return LineResult(line, 127, str(e), tool)
        if not cwd.is_dir():
            return LineResult(line, 127, "", tool)
        r = self.tools[tool].run(list(line.argv), cwd)
        return LineResult(line, r.rc, r.out, tool)

    def run_op(self, op: Op, tool: str) -> list[LineResult]:
        """``tool`` runs the op's tool lines; in the mixed repository it is the op's own choice."""
        if op.clone:
            self.clones.append(op.clone)
        return [self.run_line(ln, tool) for ln in op.lines]


class Pair:
    """The two sides of a sequence: ``a`` always real dvc; ``b`` tide (pure mode) or the mixed repository."""

    def __init__(self, work: Path, cache_type: str, mixed: bool, dvc: tools.Tool, tide: tools.Tool,
                 env: dict[str, str], templates: dict):
        self.work, self.cache_type, self.mixed = work, cache_type, mixed
        self.env = env
        self.a = Side(work / "dvc", env, {"dvc": dvc})
        self.b = Side(work / ("mixed" if mixed else "tide"), env, {"dvc": dvc, "tide": tide})
        self.pool = ThreadPoolExecutor(2)
        self.setup_divergence: Divergence | None = None
        # a cache object on dvc's side was seen corrupt (written through a link): N54 holds from then on, also
        # once dvc's next status has deleted the object (seed 63501 sequence 25: a chmod made it re-hash)
        self.corrupted = False
        for side, tool in ((self.a, "dvc"), (self.b, "tide")):
            init_tool = tool
            key = (init_tool, cache_type)
            if key not in templates:
                t = work.parent / f"template-{init_tool}-{cache_type or 'default'}"
                if t.exists():
                    shutil.rmtree(t)
                (t / "repo").mkdir(parents=True)
                s = Side(t, env, side.tools)
                res = [s.run_line(ln, init_tool) for ln in setup_lines(cache_type)]
                bad = [f"{r.line.render(init_tool)}: exit {r.rc}" for r in res if r.rc != 0]
                if bad:
                    raise RuntimeError(f"setup failed: {bad}")
                templates[key] = (t, 0)
            src, _ = templates[key]
            if side is self.b and not templates.get(("aligned", cache_type)):
                templates[("aligned", cache_type)] = self._align(templates[("dvc", cache_type)][0], src)
            shutil.copytree(src, side.root, symlinks=True)

    def _align(self, a: Path, b: Path) -> Divergence | None:
        """Compare the two freshly set-up repositories; a difference is reported (Runner.setup_divergences)
        once, then b's differing files are replaced by a's (and the init commit amended) so the sequences
        test what comes after setup."""
        d = snapshot.diff(snapshot.side(a, []), snapshot.side(b, []))
        if not d:
            return True
        div = Divergence(-1, Op("setup", ()), state=d)
        for k, x, _ in d:
            rel = k.split(":", 1)[1]
            if k.startswith("ws:") and x and x.startswith("file"):
                shutil.copy2(a / "repo" / rel, b / "repo" / rel)
        subprocess.run(["sh", "-c", "git add -A && git commit -q --amend -m init"], cwd=b / "repo", env=self.env,
                       check=True, capture_output=True)
        self.setup_divergence = div
        return True

    def close(self) -> None:
        self.pool.shutdown()

    def step(self, i: int, op: Op, observe: bool = True) -> Divergence:
        before = snapshot.fingerprint(self.a.root)
        fa = self.pool.submit(self.a.run_op, op, "dvc")
        fb = self.pool.submit(self.b.run_op, op, op.tool if self.mixed else "tide")
        ra, rb = fa.result(), fb.result()
        div = Divergence(i, op, rcs=[(x.rc, y.rc) for x, y in zip(ra, rb, strict=True)])
        div.changed = snapshot.fingerprint(self.a.root) != before
        for x, y in zip(ra, rb, strict=True):
            text = x.line.render()
            if (x.rc == 0) != (y.rc == 0):
                div.exits.append((text, x.rc, y.rc))
            elif x.line.json and x.rc == 0 and snapshot.parse_json(x.out) != snapshot.parse_json(y.out):
                div.outputs.append((text, snapshot.parse_json(x.out), snapshot.parse_json(y.out)))
        if not self.corrupted and any(t in (self.cache_type or "") for t in ("hardlink", "symlink")):
            self.corrupted = bool(known.corrupt_objects(self.a.root / "repo"))
        if observe:
            self.observe(div)
        sa = self.pool.submit(snapshot.side, self.a.root, self.a.clones)
        sb = self.pool.submit(snapshot.side, self.b.root, self.b.clones)
        div.state = snapshot.diff(sa.result(), sb.result())
        return div

    def observe(self, div: Divergence) -> None:
        b_tools = ("dvc", "tide") if self.mixed else ("tide",)
        for ln in OBSERVE:
            # the mixed repository's two tools run one after the other (they would contend for its lock)
            fa = self.pool.submit(self.a.run_line, ln, "dvc")
            fb = self.pool.submit(lambda ln=ln: [self.b.run_line(ln, t) for t in b_tools])
            x = fa.result()
            for t, y in zip(b_tools, fb.result(), strict=True):
                text = ln.render("tide" if self.mixed and t == "tide" else "$T" if not self.mixed else "dvc")
                if (x.rc == 0) != (y.rc == 0):
                    div.exits.append((text, x.rc, y.rc))
                elif x.rc == 0 and snapshot.parse_json(x.out) != snapshot.parse_json(y.out):
                    div.outputs.append((text, snapshot.parse_json(x.out), snapshot.parse_json(y.out)))


class Runner:
    """Owns the tools (fork servers) and the repository templates for many sequences."""

    def __init__(self, work: Path):
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.env = tools.isolated_env(work / "home")
        self.dvc = tools.dvc_tool(self.env, work)
        self.tide = tools.tide_tool(self.env, work)
        self.templates: dict = {}
        self.setup_divergences: list[tuple[str, Divergence]] = []
        self.stats: dict[str, int] = {}   # effective_steps, ops:<kind>, ok:<kind> (read and cleared by torture)
        self.n = 0

    def close(self) -> None:
        self.dvc.close()
        self.tide.close()

    def pair(self, cache_type: str, mixed: bool) -> Pair:
        self.n += 1
        d = self.work / f"s{self.n}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir()
        p = Pair(d, cache_type, mixed, self.dvc, self.tide, self.env, self.templates)
        if p.setup_divergence is not None:
            self.setup_divergences.append((cache_type, p.setup_divergence))
        return p

    def discard(self, p: Pair) -> None:
        p.close()
        shutil.rmtree(p.work, ignore_errors=True)

    # --- one sequence ---
    def generate_and_run(self, rng: random.Random, steps: int, cache_type: str, mixed: bool,
                         pipelines: bool = True) -> tuple[list[Op], list[Divergence], int]:
        """Generate ops from the dvc side's state as it goes. Returns (ops, divergences, steps run)."""
        p = self.pair(cache_type, mixed)
        gen = ops.Generator(rng, pipelines)
        seq: list[Op] = []
        found: list[Divergence] = []
        try:
            for i in range(steps):
                view_before = ops.scan(p.a.root / "repo")     # what the op is chosen from, and classified by
                op = gen.next(view_before)
                if mixed:
                    op = Op(op.kind, op.lines, op.clone, rng.choice(("dvc", "tide")), op.info)
                seq.append(op)
                div = p.step(i, op)
                self._count(div)
                if div:
                    div.classify(known.Ctx(p, view_before))
                    found.append(div)
                    if div.stateful:
                        return seq, found, i + 1
            return seq, found, steps
        finally:
            self.discard(p)

    def _count(self, div: Divergence) -> None:
        """What a step did, on the dvc side: whether it changed anything, whether all its lines succeeded."""
        st, kind = self.stats, div.op.kind
        st["effective_steps"] = st.get("effective_steps", 0) + div.changed
        st[f"ops:{kind}"] = st.get(f"ops:{kind}", 0) + 1
        st[f"ok:{kind}"] = st.get(f"ok:{kind}", 0) + all(a == 0 for a, _ in div.rcs)

    def replay(self, seq: list[Op], cache_type: str, mixed: bool) -> Divergence | None:
        """Run a fixed sequence; the first divergence (observing only at the last step), or None."""
        p = self.pair(cache_type, mixed)
        try:
            for i, op in enumerate(seq):
                view_before = ops.scan(p.a.root / "repo")
                div = p.step(i, op, observe=(i == len(seq) - 1))
                if div:
                    div.classify(known.Ctx(p, view_before))
                    if div.stateful or i == len(seq) - 1:
                        return div
            return None
        finally:
            self.discard(p)

    def shrink(self, seq: list[Op], target: Divergence, cache_type: str, mixed: bool,
               budget_s: float = 120.0, replays: int | None = None) -> tuple[list[Op], Divergence]:
        return ddmin(seq, target, lambda cand: self.replay(cand, cache_type, mixed), budget_s, replays)


def ddmin(seq: list, target: Divergence, replay, budget_s: float,
          replays: int | None = None) -> tuple[list, Divergence]:
    """Delta debugging over the ops before the diverging one: keep a candidate when its first divergence
    is new (not a known one), at an op of the same kind, sharing a category with the target's.

    Budget: at most ``replays`` replays (None: no limit), which makes the result a function of the sequence
    alone, whatever the machine's speed; and ``budget_s`` seconds, a safety cap.
    """
    deadline = time.monotonic() + budget_s
    left = [replays if replays is not None else 1 << 62]
    want_kind, want_cat = target.op.kind, target.categories()
    best, best_div = seq[: target.step + 1], target

    def spent() -> bool:
        return left[0] <= 0 or time.monotonic() > deadline

    def ok(cand: list) -> Divergence | None:
        left[0] -= 1
        d = replay(cand)
        if d and d.new and d.op.kind == want_kind and d.categories() & want_cat:
            return d
        return None

    n = 2
    while len(best) > 1 and not spent():
        head, last = best[:-1], best[-1]
        chunk = max(1, len(head) // n)
        reduced = False
        for start in range(0, len(head), chunk):
            if spent():
                break
            cand = head[:start] + head[start + chunk:] + [last]
            d = ok(cand)
            if d:
                best, best_div = cand[: d.step + 1], d
                n = max(2, n - 1)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(head), n * 2)
    # then make single ops smaller (a pipeline with fewer stages, an op with fewer lines)
    changed = True
    while changed and not spent():
        changed = False
        for i, op in enumerate(best):
            for v in ops.simpler(op) if isinstance(op, Op) else ():
                if spent():
                    break
                cand = best[:i] + [v] + best[i + 1:]
                d = ok(cand)
                if d and d.step == len(cand) - 1:
                    best, best_div, changed = cand, d, True
                    break
            if changed:
                break
    return best, best_div


def script(seq: list[Op], div: Divergence, cache_type: str, mixed: bool, title: str) -> str:
    """A runnable shell script reproducing ``div`` (run it with T=dvc and with T=tide, compare)."""
    lines = ["#!/bin/sh", f"# {title}"]
    if mixed:
        lines += ["# Mixed mode: each step names the tool that ran it in the mixed repository. Run once as it is",
                  "# and once with TIDE=dvc (dvc everywhere), and compare."]
    else:
        lines += ["# Run in an empty directory, once with T=dvc and once with T=tide, and compare."]
    for d in div.describe():
        lines.append(f"#   {d}")
    lines += ["T=${T:-dvc}", *(["TIDE=${TIDE:-tide}"] if mixed else []), "mkdir repo && cd repo || exit 1"]
    lines += [ln.render() for ln in setup_lines(cache_type)]
    for op in seq:
        if mixed:
            lines += [ln.render("$TIDE" if op.tool == "tide" else "dvc") for ln in op.lines]
        else:
            lines += op.render()
    observed = {o[0] for o in div.outputs} | {e[0] for e in div.exits}
    for ln in OBSERVE:
        for t in (("dvc", "$TIDE") if mixed else ("$T",)):
            r = ln.render(t)
            if r in observed or ln.render("tide") in observed or ln.render("dvc") in observed:
                lines.append(f"{r}; echo \"exit $?\"")
    lines.append("")
    return "\n".join(lines)
