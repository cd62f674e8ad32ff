"""The differential machinery pointed at the model registry: ``tide model register/assign/deprecate``
against ``gto`` on two identical git repositories, comparing after every step

* exit status (zero or not) of the registry command;
* the git tags: name -> (the commit it points at, its message);
* ``show --json`` and ``show NAME --json`` of both tools;
* the read commands a CD job and a user run (issue 20): ``history --json``, ``stages --json``, GTO's
  shortcuts ``show NAME@latest --json`` and ``show NAME#STAGE --json`` for the step's artifact, and
  ``check-ref TAG --json`` of every tag the step made.

Normalisations: tag dates and the ``created_at``/``activated_at`` fields of ``show --json`` are wall-clock
times (gto ignores GIT_COMMITTER_DATE) and are dropped; every registry step starts in a fresh wall-clock
second, so that gto's own order of events (by tag time, one-second resolution) is well defined and the two
tools' orders can be compared through ``show --json``.
"""

from __future__ import annotations

import random
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import engine, snapshot, tools
from .engine import Divergence
from .ops import Line, Op, write_lines

NAMES = ("model", "rf", "nested/clf", "my-model", "m")
STAGES = ("dev", "staging", "prod")
SETUP = (Line(sh="git init -q -b main && tide init -q && git add -A && git commit -qm init"),)
TIMES = ("created_at", "activated_at", "timestamp")
# ``show NAME --json``: tide prints its own rows (version, commit, stages, registered, active, ref), gto its
# full version objects; reported once as a divergence (see /work/notes/difftest.md), then left out so the
# sequences test the rest. Set True to compare it.
SHOW_NAMED = True


def _strip_times(x):
    if isinstance(x, dict):
        return {k: _strip_times(v) for k, v in x.items() if k not in TIMES}
    if isinstance(x, list):
        return [_strip_times(v) for v in x]
    return x


class GtoGenerator:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.versions: dict[str, list[str]] = {}
        self.commits = 1

    def next(self) -> Op:
        r = self.rng
        kind = r.choices(("commit", "register", "assign", "deprecate"), (2, 5, 4, 2))[0]
        name = r.choices(NAMES, (5, 3, 2, 2, 1))[0]
        if kind == "commit":
            self.commits += 1
            data = f"{r.randint(0, 9)}\n".encode()
            return Op("commit", (Line(sh=write_lines("f", data) + " && git add f && git commit -qm c"),))
        known = self.versions.get(name, [])
        version = (r.choice(known) if known and r.random() < 0.8
                   else f"v{r.randint(0, 1)}.{r.randint(0, 2)}.{r.randint(0, 2)}")
        if kind == "register":
            argv = ["register", name]
            if r.random() < 0.3 and self.commits > 1:
                argv.append(f"HEAD~{r.randint(1, min(2, self.commits - 1))}")
            opt = r.choice(("", "", "version", "--bump-major", "--bump-minor", "--bump-patch"))
            if opt == "version":
                v = f"v{r.randint(0, 2)}.{r.randint(0, 2)}.{r.randint(0, 3)}"
                argv += ["--version", v]
                self.versions.setdefault(name, []).append(v)
            elif opt:
                argv.append(opt)
            else:
                self.versions.setdefault(name, []).append("v0.0.1")
            return Op("register", (Line(argv=tuple(argv)),))
        if kind == "assign":
            stage = r.choice(STAGES)
            x = r.random()
            if x < 0.6:
                argv = ["assign", name, "--version", version, "--stage", stage]
            else:  # GTO's assign NAME [REF]: the version at REF, registered first when it has none
                argv = ["assign", name]
                ref = r.choice(("", "HEAD", "HEAD~1", "tag"))
                if ref == "tag":
                    ref = f"{name}@{version}"
                elif ref == "HEAD~1" and self.commits < 2:
                    ref = "HEAD"
                if ref:
                    argv.append(ref)
                argv += ["--stage", stage]
                y = r.random()
                if y < 0.15:
                    argv.append("--sr")  # a stage on the bare commit (gto's --skip-registration)
                elif y < 0.4:
                    v = f"v{r.randint(0, 2)}.{r.randint(0, 2)}.{r.randint(0, 3)}"
                    argv += ["--version", v]
                    self.versions.setdefault(name, []).append(v)
            if r.random() < 0.2:
                argv.append("--force")
            return Op("assign", (Line(argv=tuple(argv)),))
        argv = ["deprecate", name]
        x = r.random()
        if x < 0.7:
            argv.append(version)
            if x < 0.4:
                argv.append(r.choice(STAGES))
        return Op("deprecate", (Line(argv=tuple(argv)),))


def _tags(repo: Path) -> dict[str, str]:
    p = subprocess.run(["git", "for-each-ref", "refs/tags", "--format=%(refname:strip=2)%00%(*objectname)%00"
                        "%(objectname)%00%(contents)%01"], cwd=repo, capture_output=True, text=True)
    out = {}
    for rec in p.stdout.split("\x01"):
        rec = rec.strip("\n")
        if not rec:
            continue
        name, peeled, obj, msg = (rec.split("\x00") + ["", "", ""])[:4]
        out[f"tag:{name}"] = f"{peeled or obj} {msg.strip()!r}"
    return out


def _queries(op: Op, made: list[str]) -> list[tuple[str, ...]]:
    """The read commands compared after a step (issue 20): the journal, the stages in use, GTO's shortcuts
    for the step's artifact (its stage, else prod) and what each new tag did (``check-ref``)."""
    out: list[tuple[str, ...]] = [("history", "--json"), ("stages", "--json")]
    argv = op.lines[0].argv if op.lines else ()
    if len(argv) > 1:
        name = argv[1]
        stage = argv[argv.index("--stage") + 1] if "--stage" in argv else "prod"
        out += [("show", f"{name}@latest", "--json"), ("show", f"{name}#{stage}", "--json")]
    out += [("check-ref", tag.removeprefix("tag:"), "--json") for tag in made]
    return out


class GtoPair:
    def __init__(self, work: Path, env, gto: tools.Tool, tide: tools.Tool, template: Path):
        self.work, self.env, self.gto, self.tide = work, env, gto, tide
        self.roots = {"gto": work / "gto", "tide": work / "tide"}
        for root in self.roots.values():
            shutil.copytree(template, root, symlinks=True)
        self.pool = ThreadPoolExecutor(2)

    def _run(self, side: str, line: Line, names: list[str]) -> tuple[int, str]:
        repo = self.roots[side] / "repo"
        if not line.argv:
            p = subprocess.run(["sh", "-c", line.sh], cwd=repo, env=self.env, capture_output=True, text=True)
            return p.returncode, p.stdout
        argv = list(line.argv) if side == "gto" else ["model", *line.argv]
        r = (self.gto if side == "gto" else self.tide).run(argv, repo)
        return r.rc, r.out

    def step(self, i: int, op: Op, names: list[str]) -> Divergence:
        if op.kind != "commit":      # a fresh wall-clock second (see the module docstring)
            time.sleep(1.02 - (time.time() % 1.0))
        div = Divergence(i, op, labels=("gto", "tide"))
        before = set(_tags(self.roots["gto"] / "repo"))
        for ln in op.lines:
            fa = self.pool.submit(self._run, "gto", ln, names)
            fb = self.pool.submit(self._run, "tide", ln, names)
            (ra, _), (rb, _) = fa.result(), fb.result()
            if (ra == 0) != (rb == 0):
                div.exits.append((ln.render(), ra, rb))
        made = sorted(set(_tags(self.roots["gto"] / "repo")) - before)
        for show in [("show", "--json"), *(("show", n, "--json") for n in names if SHOW_NAMED),
                     *_queries(op, made)]:
            ln = Line(argv=show, json=True)
            fa = self.pool.submit(self._run, "gto", ln, names)
            fb = self.pool.submit(self._run, "tide", ln, names)
            (ra, oa), (rb, ob) = fa.result(), fb.result()
            if (ra == 0) != (rb == 0):
                div.exits.append((ln.render(), ra, rb))
            elif ra == 0:
                ja, jb = _strip_times(snapshot.parse_json(oa)), _strip_times(snapshot.parse_json(ob))
                if ja != jb:
                    div.outputs.append((ln.render(), ja, jb))
        div.state = snapshot.diff(_tags(self.roots["gto"] / "repo"), _tags(self.roots["tide"] / "repo"))
        return div

    def close(self) -> None:
        self.pool.shutdown()
        shutil.rmtree(self.work, ignore_errors=True)


class GtoRunner:
    def __init__(self, work: Path):
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.env = tools.isolated_env(work / "home")
        self.gto = tools.gto_tool(self.env, work)
        self.tide = tools.tide_tool(self.env, work)
        self.template = work / "template"
        (self.template / "repo").mkdir(parents=True)
        for cmd in ("git init -q -b main", "git add -A && git commit -q --allow-empty -m init"):
            subprocess.run(["sh", "-c", cmd], cwd=self.template / "repo", env=self.env, check=True)
        r = self.tide.run(["init", "-q"], self.template / "repo")
        if r.rc:
            raise RuntimeError(f"tide init failed: {r.err}")
        subprocess.run(["sh", "-c", "git add -A && git commit -qm tide-init"], cwd=self.template / "repo",
                       env=self.env, check=True)
        self.n = 0

    def close(self) -> None:
        self.gto.close()
        self.tide.close()

    def pair(self) -> GtoPair:
        self.n += 1
        return GtoPair(self.work / f"g{self.n}", self.env, self.gto, self.tide, self.template)

    def run_seq(self, seq: list[Op], names: list[str], stop_at_first: bool = True):
        p = self.pair()
        try:
            for i, op in enumerate(seq):
                d = p.step(i, op, names)
                if d:
                    return d
            return None
        finally:
            p.close()


def script(seq: list[Op], div: Divergence, title: str) -> str:
    lines = ["#!/bin/sh", f"# {title}",
             "# Run in an empty directory once with T=gto and once with T='tide model', and compare",
             "# the tags (git for-each-ref refs/tags) and $T show --json."]
    lines += [f"#   {d}" for d in div.describe()]
    lines += ["T=${T:-gto}", "mkdir repo && cd repo || exit 1", "git init -q -b main",
              "git commit -q --allow-empty -m init", "tide init -q && git add -A && git commit -qm tide-init"]
    for op in seq:
        lines += [("sleep 1; " if op.kind != "commit" else "") + ln.render() for ln in op.lines]
    lines += ["git for-each-ref refs/tags --format='%(refname:strip=2) %(*objectname) %(contents:subject)'",
              "$T show --json", ""]
    return "\n".join(lines)


def run(sequences: int, seed: int, work: Path, steps: tuple[int, int] = (4, 10), log=print,
        shrink_budget_s: float = 600.0, jobs: int = 1, shrink_replays: int = 32) -> dict:
    """Like torture.run: ``jobs`` workers, results merged in sequence order (the same report for any
    ``jobs``), the first sequence of each new shape shrunk within ``shrink_replays`` replays."""
    from . import pool

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    counts = {"sequences": 0, "steps": 0, "divergences": 0}
    failures: list[str] = []
    seen: set = set()
    shrinks = []
    start = time.monotonic()
    with (pool.scratch(work, "gto-runs") as runs,
          pool.Pool(jobs, "tests.differential.gtodiff:GtoRunner", runs) as workers):
        futures = [workers.submit(_sequence, seed, n, steps) for n in range(sequences)]
        for n, fut in enumerate(futures):
            seq, names, div, ran = fut.result()
            counts["sequences"] += 1
            counts["steps"] += ran
            if (n + 1) % 50 == 0:     # a long run shows it is alive (500 sequences take ~17 minutes)
                log(f"difftest gto: {n + 1} sequences, {counts['steps']} steps, "
                    f"{counts['divergences'] + (div is not None)} divergences, {time.monotonic() - start:.0f}s")
            if div is None:
                continue
            counts["divergences"] += 1
            key = (div.op.kind, div.categories())
            if key in seen:
                continue
            seen.add(key)
            shrinks.append((n, div, workers.submit(_shrink, seq, names, div, shrink_budget_s, shrink_replays)))
        for n, div, fut in shrinks:
            small, sdiv = fut.result()
            failures.append(script(small, sdiv, f"difftest gto seed {seed} sequence {n}: "
                                                f"{len(small)} of {div.step + 1} steps"))
            log(failures[-1])
    from .torture import _write

    _write(work, "differential-gto-divergences.md", seed, failures)
    return {"counts": counts, "failures": failures}


def _sequence(runner: GtoRunner, seed: int, n: int, steps: tuple[int, int]):
    """Sequence n of ``seed``: (ops, model names, first divergence or None, steps run)."""
    rng = random.Random(f"gto:{seed}:{n}")
    gen = GtoGenerator(rng)
    seq = [gen.next() for _ in range(rng.randint(*steps))]
    names = sorted({op.lines[0].argv[1] for op in seq if op.lines[0].argv})
    p = runner.pair()
    try:
        for i, op in enumerate(seq):
            d = p.step(i, op, names)
            if d:
                return seq, names, d, i + 1
    finally:
        p.close()
    return seq, names, None, len(seq)


def _shrink(runner: GtoRunner, seq, names, div, budget_s: float, replays: int):
    return engine.ddmin(seq, div, lambda c: runner.run_seq(c, names), budget_s, replays)


__all__ = ["run", "script", "shlex"]
