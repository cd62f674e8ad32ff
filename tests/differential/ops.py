"""Operations as data: what a differential sequence does, generated at random from the state of the
repository, executed line by line and rendered as a shell script.

A ``Line`` is either a shell command (files, directories, git; run by ``sh -c`` so the script printed for
a divergence is exactly what ran) or a tool command (``$T argv``, run by the tool under test). ``json``
marks a tool line whose stdout is JSON that both tools must print alike.
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass, field
from pathlib import Path

CACHE_TYPES = ("", "copy", "hardlink", "symlink", "reflink")  # "" = dvc's default (reflink,copy)


@dataclass(frozen=True)
class Line:
    sh: str = ""                     # a shell command (when argv is empty)
    argv: tuple[str, ...] = ()       # a tool command: $T argv...
    cwd: str = "repo"                # directory under the sequence's root: repo or a clone (c1, c2, ...)
    json: bool = False               # compare stdout as JSON

    def render(self, tool: str = "$T") -> str:
        text = self.sh if not self.argv else " ".join([tool, *(shlex.quote(a) for a in self.argv)])
        return text if self.cwd == "repo" else f"(cd ../{self.cwd} && {text})"


@dataclass(frozen=True)
class Op:
    kind: str
    lines: tuple[Line, ...]
    clone: str = ""                  # a clone this op made or used: compared too
    tool: str = ""                   # mixed mode: which tool runs this op's tool lines ("dvc"/"tide")
    info: dict = field(default_factory=dict, compare=False, hash=False)

    def render(self, tool: str = "$T") -> list[str]:
        t = {"dvc": "dvc", "tide": "tide"}.get(self.tool, tool) if self.tool else tool
        return [ln.render(t) for ln in self.lines]


def sh_quote(path: str) -> str:
    return shlex.quote(path)


def write_lines(path: str, data: bytes, append: bool = False) -> str:
    """A shell command writing ``data`` to ``path`` (creating its parent directories)."""
    q = sh_quote(path)
    parent = str(Path(path).parent)
    pre = f"mkdir -p {sh_quote(parent)} && " if parent != "." else ""
    op = ">>" if append else ">"
    if not data:
        return f"{pre}: {op} {q}"
    if len(data) > 64 and len(set(data)) == 1 and 32 < data[0] < 127 and chr(data[0]) not in "'\\":
        return f"{pre}head -c {len(data)} /dev/zero | tr '\\0' '{chr(data[0])}' {op} {q}"
    esc = []
    for b in data:
        c = chr(b)
        if c == "\\":
            esc.append("\\\\")
        elif c == "%":
            esc.append("%%")
        elif c == "'":
            esc.append("'\\''")
        elif 32 <= b < 127:
            esc.append(c)
        elif c == "\n":
            esc.append("\\n")
        else:
            esc.append(f"\\{b:03o}")
    return f"{pre}printf '{''.join(esc)}' {op} {q}"


def heredoc(path: str, text: str) -> str:
    assert text.endswith("\n") and "\nEOF\n" not in text
    return f"cat > {sh_quote(path)} <<'EOF'\n{text}EOF"


def arg(path: str) -> str:
    """A path as a command-line argument (a leading dash would read as an option)."""
    return f"./{path}" if path.startswith("-") else path


# --- the random model ----------------------------------------------------------------------------------
NAMES = ("a", "b.txt", "with space", "ünï.csv", ".hidden", "-dash", "a.b.c", "x")
DIRS = ("d", "data", "dir two", "d/sub", "data/deep/er", "ü")
CONTENTS = (b"", b"a\n", b"hello\n", b"1\n", b"2\n", "ünï\n".encode(), b"no newline", b"x" * 3000,
            bytes([0, 1, 9, 13, 128, 255, 10]))
PARAMS = ("lr", "epochs", "train.depth")
# Targets are chosen from the repository's state (existing files for add/chmod/rm, tracked outputs and .dvc
# files for remove/move/commit/checkout, stages for repro, reachable revisions for git checkout), except this
# share of deliberately invalid ones, which keep the error paths covered (Generator._bad).
INVALID = 0.1
COMMIT_IF_CHANGED = "git add -A && { git diff --cached --quiet || git commit -qm c; }"
BAD_PATHS = ("missing", "no such/file", "../outside", "/nonexistent/abs", "sp ace missing", "ünï-missing",
             "-dash-missing", "--force-missing", "d/missing/deep")


@dataclass
class View:
    """What the generator sees of the repository (the dvc side) before choosing an op."""
    files: list[str]
    dirs: list[str]
    dvcfiles: list[str]
    outs: list[str]                  # outputs of .dvc files
    stages: list[str]
    commits: int | None = None       # None: counted when first asked (only git_checkout asks)
    repo: Path | None = None
    _git_files: set[str] | None = None
    persist: bool = False            # dvc.yaml declares a persist output (repro then drawn more often)

    @property
    def git_files(self) -> set[str]:
        """Paths git tracks (read when first asked: only add asks; dvc refuses to add them)."""
        if self._git_files is None:
            import subprocess

            n = subprocess.run(["git", "ls-files", "-z"], cwd=self.repo, capture_output=True)
            self._git_files = set(n.stdout.decode(errors="replace").split("\0")) if n.returncode == 0 else set()
        return self._git_files

    @property
    def git_commits(self) -> int:
        if self.commits is None:
            import subprocess

            n = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=self.repo, capture_output=True,
                               text=True)
            self.commits = int(n.stdout.strip() or 0) if n.returncode == 0 else 0
        return self.commits


def scan(repo: Path) -> View:
    files, dirs, dvcfiles = [], [], []
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo).as_posix()
        if rel.split("/")[0] in (".git", ".dvc") or rel in (".dvcignore", "dvc.yaml", "dvc.lock", "params.yaml"):
            continue
        if p.name == ".gitignore":
            continue
        if p.is_dir() and not p.is_symlink():
            dirs.append(rel)
        elif rel.endswith(".dvc"):
            dvcfiles.append(rel)
        else:
            files.append(rel)
    outs = [f[:-4] for f in dvcfiles]
    y = repo / "dvc.yaml"
    text = y.read_text(errors="replace") if y.exists() else ""
    stages = [ln.strip()[:-1] for ln in text.splitlines()
              if ln.startswith("  ") and not ln.startswith("   ") and ln.strip().endswith(":")]
    return View(files, dirs, dvcfiles, outs, stages, repo=repo, persist="persist: true" in text)


class Generator:
    """Chooses the next op from the view. ``step`` numbers make clone names and commit messages unique."""

    def __init__(self, rng: random.Random, pipelines: bool = True):
        self.rng = rng
        self.pipelines = pipelines
        self.clones = 0
        self.steps = 0

    def _bad(self) -> str:
        """A deliberately invalid target: missing, outside the repository, odd names that do not exist."""
        return self.rng.choice(BAD_PATHS)

    def _invalid(self) -> bool:
        return self.rng.random() < INVALID

    def _existing(self, pool: list[str]) -> str:
        """One of ``pool`` (the repository's state), or an invalid target (INVALID of the time, or no pool)."""
        if not pool or self._invalid():
            return self._bad()
        return self.rng.choice(pool)

    def _pick_path(self, v: View, new: float = 0.5) -> str:
        r = self.rng
        if v.files and r.random() > new:
            return r.choice(v.files)
        d = r.choice(("",) * 3 + DIRS)
        return f"{d}/{r.choice(NAMES)}" if d else r.choice(NAMES)

    def _target(self, v: View) -> str:
        """An add target: mostly a file or directory git does not track (dvc refuses those), not inside a
        tracked directory; sometimes any existing entry (re-adds, tracked ones: error paths too)."""
        r = self.rng
        if self._invalid():
            return self._bad()
        tracked_dirs = [o + "/" for o in v.outs]
        fresh = [p for p in v.files + v.dirs
                 if p not in v.git_files and not any(p.startswith(t) for t in tracked_dirs)
                 and not any(g.startswith(p + "/") for g in v.git_files)]
        if fresh and r.random() < 0.85:
            return r.choice(fresh)
        if r.random() < 0.5:
            return self._existing(v.files + v.dirs)
        return ""          # nothing fresh: op_add writes a new file first

    def next(self, v: View) -> Op:
        r = self.rng
        self.steps += 1
        if self.steps == 1:
            return self.op_data(v)
        kinds = {
            "write": 14, "append": 3, "rm": 4, "mkdir": 2, "chmod": 2, "add": 12, "commit": 3, "remove": 3,
            "move": 3, "checkout": 4, "git_commit": 6, "git_checkout": 5, "gc": 2, "push": 3, "fetch": 1,
            "pull": 2, "status_cloud": 1, "clone": 3,
        }
        if self.pipelines:
            kinds.update({"pipeline": 4, "params": 3, "repro": 6, "pm_diff": 2})
        if not v.dvcfiles:        # nothing tracked yet: ops on tracked outputs would mostly fail alike
            for k in ("remove", "move", "checkout"):
                kinds[k] = 1
        if self.pipelines and not v.stages:
            kinds["repro"], kinds["pipeline"] = 2, 7
        elif self.pipelines and v.persist:   # a persist output's content is its stage's history of runs
            kinds["repro"] = 12
        kind = r.choices(list(kinds), weights=list(kinds.values()))[0]
        return getattr(self, f"op_{kind}")(v)

    def op_data(self, v: View) -> Op:
        """A sequence's first op: a few files and a directory, so that tracking ops have material."""
        r = self.rng
        lines = []
        for name in r.sample(NAMES, r.randint(2, 3)):
            lines.append(Line(sh=write_lines(name, r.choice(CONTENTS))))
        d = r.choice(DIRS)
        for name in r.sample(NAMES, r.randint(1, 3)):
            lines.append(Line(sh=write_lines(f"{d}/{name}", r.choice(CONTENTS))))
        return Op("data", tuple(lines))

    def op_write(self, v: View) -> Op:
        p = self._pick_path(v)
        return Op("write", (Line(sh=write_lines(p, self.rng.choice(CONTENTS))),))

    def op_append(self, v: View) -> Op:
        p = self._pick_path(v, new=0.2)
        return Op("append", (Line(sh=write_lines(p, self.rng.choice(CONTENTS[1:5]), append=True)),))

    def op_rm(self, v: View) -> Op:
        p = self._existing(v.files + v.dirs + v.dvcfiles)
        return Op("rm", (Line(sh=f"rm -rf {sh_quote(arg(p))}"),))

    def op_mkdir(self, v: View) -> Op:
        d = self.rng.choice(DIRS + ("empty", "d/empty", "data/e1/e2"))
        return Op("mkdir", (Line(sh=f"mkdir -p {sh_quote(d)}"),))

    def op_chmod(self, v: View) -> Op:
        p = self._existing(v.files + v.dirs)
        return Op("chmod", (Line(sh=f"chmod {self.rng.choice(('+x', '-x', 'u+w'))} {sh_quote(arg(p))}"),))

    def op_add(self, v: View) -> Op:
        r = self.rng
        targets = [self._target(v) for _ in range(r.choice((1, 1, 1, 2)))]
        pre = []
        for i, t in enumerate(targets):
            if not t:
                d = r.choice([""] * 3 + [x for x in v.dirs if x not in v.git_files and x not in v.outs])
                targets[i] = t = f"{d}/new{len(pre)}" if d else f"new{len(pre)}"
                pre.append(Line(sh=write_lines(t, r.choice(CONTENTS))))
        flags = ["--no-commit"] if r.random() < 0.08 else []
        return Op("add", (*pre, Line(argv=("add", "-q", *flags, *map(arg, dict.fromkeys(targets))))),
                  info={"targets": targets})

    def op_commit(self, v: View) -> Op:
        r = self.rng
        argv = ["commit", "-q"] + (["-f"] if r.random() < 0.8 else [])
        targets = v.dvcfiles + v.stages
        if r.random() < 0.4:
            argv.append(arg(self._existing(targets)))
        return Op("commit", (Line(argv=tuple(argv)),))

    def op_remove(self, v: View) -> Op:
        r = self.rng
        t = self._existing(v.dvcfiles + [f"dvc.yaml:{s}" for s in v.stages])
        argv = ("remove", "-q", *(["--outs"] if r.random() < 0.4 else []), arg(t))
        return Op("remove", (Line(argv=argv),))

    def op_move(self, v: View) -> Op:
        r = self.rng
        src = self._existing(v.outs)
        if self._invalid():     # into a directory that does not exist, or onto an odd name
            dst = r.choice((f"nd/{r.choice(NAMES)}", r.choice(BAD_PATHS)))
        else:                   # a new name, in the root or in an existing directory (or the directory itself)
            d = r.choice([""] * 3 + v.dirs)
            dst = r.choice((f"{d}/{r.choice(NAMES)}2" if d else r.choice(NAMES) + "2", d or r.choice(NAMES) + "3"))
        return Op("move", (Line(argv=("move", "-q", arg(src), arg(dst))),), info={"src": src, "dst": dst})

    def op_checkout(self, v: View) -> Op:
        r = self.rng
        argv = ["checkout", "-q"] + (["--force"] if r.random() < 0.4 else [])
        if r.random() < 0.25:
            argv.append(arg(self._existing(v.dvcfiles + v.outs + v.stages)))
        return Op("checkout", (Line(argv=tuple(argv)),))

    def op_git_commit(self, v: View) -> Op:
        return Op("git_commit", (Line(sh="git add -A && git commit -qm c"),))

    def op_git_checkout(self, v: View) -> Op:
        r = self.rng
        pre: tuple[Line, ...] = ()
        commits = v.git_commits
        if commits < 2:       # only the init commit: commit the state first, so there is somewhere to go
            pre, commits = (Line(sh=COMMIT_IF_CHANGED),), commits + 1
        back = r.randint(1, max(1, min(3, commits - 1)))
        rev = "nosuchrev" if self._invalid() else r.choice((f"main~{back}", "main", f"HEAD~{back}"))
        co = ("checkout", "-q") + (("--force",) if r.random() < 0.5 else ())
        force = " -f" if r.random() < 0.2 else ""
        return Op("git_checkout", (*pre, Line(sh=f"git checkout -q{force} {rev}"), Line(argv=co)),
                  info={"rev": rev})

    def op_gc(self, v: View) -> Op:
        return Op("gc", (Line(argv=("gc", "-w", "-f", "-q")),))

    def op_push(self, v: View) -> Op:
        return Op("push", (Line(argv=("push", "-q")),))

    def op_fetch(self, v: View) -> Op:
        return Op("fetch", (Line(argv=("fetch", "-q")),))

    def op_pull(self, v: View) -> Op:
        return Op("pull", (Line(argv=("pull", "-q") + (("--force",) if self.rng.random() < 0.3 else ())),))

    def op_status_cloud(self, v: View) -> Op:
        return Op("status_cloud", (Line(argv=("status", "-c", "--json"), json=True),))

    def op_clone(self, v: View) -> Op:
        self.clones += 1
        c = f"c{self.clones}"
        then = self.rng.choice((
            (Line(argv=("pull", "-q"), cwd=c),),
            (Line(argv=("fetch", "-q"), cwd=c), Line(argv=("checkout", "-q"), cwd=c)),
            (Line(argv=("status", "-c", "--json"), cwd=c, json=True),),
            (Line(argv=("pull", "-q"), cwd=c), Line(argv=("status", "--json"), cwd=c, json=True)),
        ))
        return Op("clone", (Line(sh=COMMIT_IF_CHANGED), Line(sh=f"git clone -q . ../{c}"), *then),
                  clone=c)

    # --- pipelines ---
    def _params_text(self) -> str:
        r = self.rng
        return (f"lr: {r.choice(('0.1', '0.01', '1'))}\nepochs: {r.randint(1, 3)}\n"
                f"train:\n  depth: {r.randint(1, 4)}\n")

    def op_params(self, v: View) -> Op:
        return Op("params", (Line(sh=heredoc("params.yaml", self._params_text())),))

    def op_pipeline(self, v: View) -> Op:
        r = self.rng
        inputs = [f for f in v.files if "'" not in f and not f.startswith("-")] or ["a"]
        lines = []
        made: list[str] = []
        prev_outs: list[str] = []
        pre = []
        for i in range(1, r.randint(1, 3) + 1):
            dep = r.choice(prev_outs) if prev_outs and r.random() < 0.6 else r.choice(inputs)
            if dep not in v.files and dep not in prev_outs and write_lines(dep, b"in\n") not in pre:
                pre.append(write_lines(dep, b"in\n"))
            s = [f"  s{i}:"]
            o, u, m, p, k = f"o{i}", f"u{i}", f"m{i}.json", f"p{i}.csv", f"k{i}"
            kinds = r.sample(("out", "dirout", "uncached", "metric", "metric_cached", "plot", "persist",
                              "persist_uncached"), r.randint(1, 3))
            cmds = []
            outs, metrics, plots = [], [], []
            qd = shlex.quote(dep)
            if "out" in kinds:
                cmds.append(f"cat {qd} > {o}")
                outs.append(f"    - {o}")
                prev_outs.append(o)
            if "dirout" in kinds:
                cmds.append(f"mkdir -p {o}d/in && cp {qd} {o}d/f && cp {qd} {o}d/in/g")
                outs.append(f"    - {o}d")
            if "uncached" in kinds:
                cmds.append(f"cat {qd} {qd} > {u}")
                outs.append(f"    - {u}:\n        cache: false")
                prev_outs.append(u)
            # persist outputs: dvc keeps them across runs (unprotected, never removed, no run cache), so the
            # commands append and their content depends on the stage's history (N73)
            if "persist" in kinds:
                if r.random() < 0.3:      # a directory, its files unprotected one by one
                    cmds.append(f"mkdir -p {k}d && cat {qd} >> {k}d/f")
                    outs.append(f"    - {k}d:\n        persist: true")
                else:
                    cmds.append(f"cat {qd} >> {k}")
                    outs.append(f"    - {k}:\n        persist: true")
                    prev_outs.append(k)
            if "persist_uncached" in kinds:
                cmds.append(f"cat {qd} >> {k}u")
                outs.append(f"    - {k}u:\n        cache: false\n        persist: true")
                prev_outs.append(f"{k}u")
            if "metric" in kinds or "metric_cached" in kinds:
                cmds.append(f"wc -c < {qd} | sed 's/ //g; s/.*/{{\"m\": &}}/' > {m}")
                metrics.append(f"    - {m}" + (":\n        cache: false" if "metric" in kinds else ""))
            if "plot" in kinds:
                cmds.append(f"printf 'x,y\\n1,%s\\n' $(wc -c < {qd}) > {p}")
                plots.append(f"    - {p}")
            par = r.sample(PARAMS, r.randint(0, 2)) if r.random() < 0.6 else []
            if par:
                cmds.append(f"grep -c . params.yaml >> {(o if 'out' in kinds else u) if outs else m}"
                            if outs or metrics else "true")
            s.append("    cmd: " + _yaml_str(" && ".join(cmds)))
            s.append("    deps:\n    - " + _yaml_str(dep))
            if par:
                s.append("    params:\n" + "".join(f"    - {x}\n" for x in par).rstrip("\n"))
            for key, items in (("outs", outs), ("metrics", metrics), ("plots", plots)):
                if items:
                    s.append(f"    {key}:\n" + "\n".join(items))
            made.append("\n".join(s))
        text = "stages:\n" + "\n".join(made) + "\n"
        for p in pre:
            lines.append(Line(sh=p))
        if r.random() < 0.9:
            lines.append(Line(sh=heredoc("params.yaml", self._params_text())))
        lines.append(Line(sh=heredoc("dvc.yaml", text)))
        return Op("pipeline", tuple(lines), info={"stages": tuple(made)})

    def op_repro(self, v: View) -> Op:
        r = self.rng
        argv = ["repro", "-q"]
        x = r.random()
        if x < 0.15:
            argv.append("-f")
        elif x < 0.35:
            argv.append(self._existing(v.stages))
        return Op("repro", (Line(argv=tuple(argv)),))

    def op_pm_diff(self, v: View) -> Op:
        r = self.rng
        argv = (r.choice(("params", "metrics")), r.choice(("diff", "diff", "show")), "--json")
        return Op("pm_diff", (Line(argv=argv, json=True),))


def _yaml_str(s: str) -> str:
    """A YAML scalar in single quotes (dvc's YAML 1.2 reads it back verbatim)."""
    return "'" + s.replace("'", "''") + "'"


def simpler(op: Op) -> list[Op]:
    """Smaller variants of one op, for the shrinker: a pipeline without one of its stages, an op without one
    of its lines."""
    out: list[Op] = []
    stages = op.info.get("stages", ())
    if op.kind == "pipeline" and len(stages) > 1:
        for i in range(len(stages)):
            rest = stages[:i] + stages[i + 1:]
            text = "stages:\n" + "\n".join(rest) + "\n"
            lines = tuple(ln if not ln.sh.startswith("cat > dvc.yaml") else Line(sh=heredoc("dvc.yaml", text))
                          for ln in op.lines)
            out.append(Op(op.kind, lines, op.clone, op.tool, dict(op.info, stages=rest)))
    if len(op.lines) > 1:
        for j in range(len(op.lines)):
            out.append(Op(op.kind, op.lines[:j] + op.lines[j + 1:], op.clone, op.tool, op.info))
    return out
