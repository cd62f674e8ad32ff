"""Known divergences, being fixed (issue 27): one predicate per finding, each matching only that finding's
shape. The lead removes an entry once its fix is merged; what no entry explains is NEW and is shrunk and
reported.

A divergence is a set of entries: ("exit", line, dvc rc, tide rc), ("json", line, dvc, tide) and
("state", key, dvc, tide). Most predicates explain single entries (several findings can show in one step:
a hardlinked uncached metric and a run-cache entry from the same ``repro``). A predicate that recognises
the *op* itself going differently (``whole_step``: an exit status on add/move/checkout/pull) explains every
entry of that step, since the state and the reports then differ as a consequence.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@dataclass(frozen=True)
class Known:
    name: str
    stateful: bool          # False: only a read-only report differs, the sequence goes on
    whole_step: bool        # True: ``match(div, ctx)`` on the step; False: ``match(entry, div, ctx)`` per entry
    match: Callable


@dataclass
class Ctx:
    pair: object            # engine.Pair
    before: object          # ops.View of the dvc side before the step

    @property
    def repo(self) -> Path:
        return self.pair.a.root / "repo"

    @property
    def cache_type(self) -> str:
        return self.pair.cache_type

    def git_tracked(self, path: str) -> bool:
        p = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path], cwd=self.repo,
                           capture_output=True)
        return p.returncode == 0


def _exit_only(div, dvc_fails: bool) -> bool:
    """The op's own tool lines differ only as: dvc fails and tide succeeds (dvc_fails), or the reverse."""
    op_exits = [e for e in div.exits if not e[0].endswith(("status --json", "diff --json"))]
    return bool(op_exits) and all((a != 0) == dvc_fails and (b != 0) != dvc_fails for _, a, b in op_exits)


def _content_id(v: str | None) -> str:
    """The content digest of a workspace entry: a file's md5, or the cache object a link points to."""
    if not v:
        return ""
    if v.startswith("link ->"):
        parts = v.split("/")
        return parts[-2] + parts[-1] if len(parts) > 2 else v
    return v.split("md5=")[-1]


def _same_content_other_form(a: str | None, b: str | None) -> bool:
    """Two workspace entries with one content that differ in mode, link count or file-vs-link."""
    return a is not None and b is not None and _content_id(a) == _content_id(b) != ""


# --- the ten findings of issue 27 ----------------------------------------------------------------
def f1_uncached_output_linked(entry, div, ctx: Ctx) -> bool:
    """F1: an uncached output (cache: false) is put in the cache and linked to it in tide (hardlink: the
    cache object is then corrupted by writing to the output); dvc writes a plain copy."""
    kind, key, a, b = entry
    if kind != "state" or ctx.cache_type not in ("hardlink", "symlink"):
        return False
    uncached = _uncached_outputs(ctx.repo)
    if key.startswith("ws:") and key[3:] in uncached:
        return _same_content_other_form(a, b)
    if key.startswith("cache:files/") and a is None and b is not None:   # the output's content, cached
        return b.split("md5=")[-1] in _contents(ctx.pair.b.root / "repo", uncached)
    return key.startswith("cache:files/") and b is not None and "CORRUPT" in b and "CORRUPT" not in (a or "")


def f2_empty_file_linked(entry, div, ctx: Ctx) -> bool:
    """F2: 0-byte files are linked to the one empty cache object in tide; dvc copies them."""
    kind, key, a, b = entry
    if kind != "state" or ctx.cache_type not in ("hardlink", "symlink") or "ws:" not in key:
        return False
    return _content_id(a) == EMPTY_MD5 == _content_id(b)


def f3_run_cache_with_uncached_out(entry, div, ctx: Ctx) -> bool:
    """F3: tide saves a run-cache entry for a stage with a cache: false output; dvc saves none."""
    kind, key, a, b = entry
    if kind != "state" or a is not None or b is None or not _uncached_outputs(ctx.repo, outs_only=True):
        return False
    if ":runs/" in key:
        return True
    # saving that run-cache entry also put the stage's uncached outputs in the cache
    new_run = any(":runs/" in k and x is None for k, x, _ in div.state)
    return (new_run and key.startswith("cache:files/")
            and b.split("md5=")[-1] in _contents(ctx.pair.b.root / "repo", _uncached_outputs(ctx.repo)))


def f4_add_git_tracked(div, ctx: Ctx) -> bool:
    """F4: ``add`` of a file git tracks: dvc refuses (exit 1), tide tracks it."""
    return (div.op.kind == "add" and _exit_only(div, dvc_fails=True)
            and any(ctx.git_tracked(t) for t in div.op.info.get("targets", ())))


def f5_stale_output_after_git_checkout(entry, div, ctx: Ctx) -> bool:
    """F5: after ``git checkout`` + ``checkout``, tide leaves an output the new revision does not track."""
    kind, key, a, b = entry
    return div.op.kind == "git_checkout" and kind == "state" and key.startswith("ws:") and a is None


def f6_move_into_missing_dir(div, ctx: Ctx) -> bool:
    """F6: ``move`` to a path whose directory does not exist: dvc exits 1, tide creates it."""
    parent = str(Path(div.op.info.get("dst", "")).parent)
    return (div.op.kind == "move" and _exit_only(div, dvc_fails=True) and parent != "."
            and parent not in ctx.before.dirs)


def f7_output_without_hash(div, ctx: Ctx) -> bool:
    """F7: a stage whose outputs have no hash in dvc.lock: dvc's checkout/pull fails, tide's succeeds."""
    if div.op.kind not in ("git_checkout", "pull", "checkout", "clone") or not _exit_only(div, dvc_fails=True):
        return False
    return any(_unlocked_stage(ctx.pair.a.root / c) for c in ["repo", *ctx.pair.a.clones])


def f8_add_inside_tracked_dir(div, ctx: Ctx) -> bool:
    """F8: ``add D/f`` when D is tracked (D.dvc exists): dvc exits 0, tide exits 1."""
    if div.op.kind != "add" or not _exit_only(div, dvc_fails=False):
        return False
    dvcfiles = set(ctx.before.dvcfiles)
    return any(f"{'/'.join(t.split('/')[:i])}.dvc" in dvcfiles
               for t in div.op.info.get("targets", ()) for i in range(1, t.count("/") + 1))


def f9_pm_diff_without_such_outputs(entry, div, ctx: Ctx) -> bool:
    """F9: ``params/metrics diff --json`` with no outputs of that kind: dvc prints {} (exit 0), tide exits 1."""
    kind, line, a, b = entry
    return (kind == "exit" and a == 0 and b != 0 and " diff --json" in line
            and ("params" in line or "metrics" in line))


def f10_diff_json_no_changes(entry, div, ctx: Ctx) -> bool:
    """F10: ``diff --json`` with no changes: dvc prints {}, tide five empty lists."""
    kind, line, a, b = entry
    return (kind == "json" and line.endswith(" diff --json") and "metrics" not in line and "params" not in line
            and a == {} and isinstance(b, dict) and bool(b) and not any(b.values()))


KNOWN: tuple[Known, ...] = (
    # known divergences, being fixed (issue 27 finding N): remove an entry once its fix is merged
    Known("issue 27 finding 1: uncached output linked to the cache", True, False, f1_uncached_output_linked),
    Known("issue 27 finding 2: empty files linked to the cache", True, False, f2_empty_file_linked),
    Known("issue 27 finding 3: run cache saved for a stage with an uncached output", True, False,
          f3_run_cache_with_uncached_out),
    Known("issue 27 finding 4: add of a file git tracks", True, True, f4_add_git_tracked),
    Known("issue 27 finding 5: stale output after git checkout + checkout", True, False,
          f5_stale_output_after_git_checkout),
    Known("issue 27 finding 6: move into a directory that does not exist", True, True, f6_move_into_missing_dir),
    Known("issue 27 finding 7: outputs with no hash in dvc.lock", True, True, f7_output_without_hash),
    Known("issue 27 finding 8: add of a file inside a tracked directory", True, True, f8_add_inside_tracked_dir),
    Known("issue 27 finding 9: params/metrics diff --json without such outputs", False, False,
          f9_pm_diff_without_such_outputs),
    Known("issue 27 finding 10: diff --json with no changes", False, False, f10_diff_json_no_changes),
)


# Deliberate divergences: documented in docs/versioning.md with their reason (e.g. where tide is safer than
# dvc). Empty until the lead decides; candidates from the first runs are in /work/notes/difftest.md (N7 pull
# leaving a dangling symlink, N8 fetch of missing objects, N12 checkout deleting an untracked file).
DELIBERATE: tuple[Known, ...] = ()


def entries(div) -> list[tuple]:
    return ([("exit", *e) for e in div.exits] + [("json", *o) for o in div.outputs]
            + [("state", *s) for s in div.state])


def classify(div, ctx: Ctx) -> tuple[list[Known], list[tuple]]:
    """(the known findings that explain part of ``div``, the entries none explains)."""
    listed = KNOWN + DELIBERATE
    for k in listed:
        if k.whole_step and k.match(div, ctx):
            return [k], []
    found: list[Known] = []
    rest = []
    for e in entries(div):
        k = next((k for k in listed if not k.whole_step and k.match(e, div, ctx)), None)
        if k is None:
            rest.append(e)
        elif k not in found:
            found.append(k)
    return found, rest


# --- helpers reading a side's repository ----------------------------------------------------------
def _load_yaml(p: Path):
    import yaml

    try:
        return yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}


def _uncached_outputs(repo: Path, outs_only: bool = False) -> set[str]:
    out: set[str] = set()
    stages = _load_yaml(repo / "dvc.yaml").get("stages") or {}
    for st in stages.values() if isinstance(stages, dict) else ():
        for key in ("outs",) if outs_only else ("outs", "metrics", "plots"):
            for o in (st or {}).get(key) or ():
                if isinstance(o, dict):
                    for name, opts in o.items():
                        if isinstance(opts, dict) and opts.get("cache") is False:
                            out.add(name)
    return out


def _contents(repo: Path, paths: set[str]) -> set[str]:
    import hashlib

    out = set()
    for p in paths:
        f = repo / p
        if f.is_file():
            out.add(hashlib.md5(f.read_bytes(), usedforsecurity=False).hexdigest())
    return out


def _unlocked_stage(repo: Path) -> bool:
    """A stage of dvc.yaml with outputs whose dvc.lock entry is missing (it never ran, or not there)."""
    stages = _load_yaml(repo / "dvc.yaml").get("stages") or {}
    lock = (_load_yaml(repo / "dvc.lock").get("stages") or {}) if (repo / "dvc.lock").exists() else {}
    if not isinstance(stages, dict):
        return False
    for name, st in stages.items():
        if isinstance(st, dict) and any(st.get(k) for k in ("outs", "metrics", "plots")) and name not in lock:
            return True
    return False
