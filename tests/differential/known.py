"""Known divergences, being fixed (issue 27): one predicate per finding, each matching only that finding's
shape. The lead removes an entry once the fix is merged; a divergence no entry matches is NEW and is
shrunk and reported.

Each predicate sees the divergence (exit statuses, JSON outputs, state differences) and a context: the op,
the dvc side's repository (after the step) and the generator's view from before the step.
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
    stateful: bool          # False: only a read-only output differs; the sequence goes on
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
    """Every exit difference is dvc failing and tide succeeding (dvc_fails) or the other way round."""
    return bool(div.exits) and all((a != 0) == dvc_fails and (b != 0) != dvc_fails for _, a, b in div.exits)


def _ws_fields_differ_only(div, paths_ok: Callable[[str, str | None, str | None], bool]) -> bool:
    return bool(div.state) and not div.exits and all(paths_ok(k, a, b) for k, a, b in div.state)


def _mode_or_links(a: str | None, b: str | None) -> bool:
    """Two workspace entries that differ only in mode, link count or file-vs-link."""
    if a is None or b is None:
        return False
    da, db = a.split(" md5=")[-1], b.split(" md5=")[-1]
    return da == db or "link ->" in a or "link ->" in b


# --- the ten findings of issue 27 ----------------------------------------------------------------
def f1_hardlinked_uncached_output(div, ctx: Ctx) -> bool:
    """F1: an uncached output (cache: false) is hardlinked to the cache (and made read-only) in tide."""
    if ctx.cache_type not in ("hardlink", "symlink"):
        return False
    uncached = _uncached_outputs(ctx.repo)
    return _ws_fields_differ_only(div, lambda k, a, b: (
        k.startswith("ws:") and k[3:] in uncached and _mode_or_links(a, b)) or _corrupt_in_tide(k, a, b))


def f2_empty_file_linked(div, ctx: Ctx) -> bool:
    """F2: 0-byte files are linked to the one empty cache object in tide; dvc copies them."""
    if ctx.cache_type not in ("hardlink", "symlink"):
        return False
    return _ws_fields_differ_only(div, lambda k, a, b: "ws:" in k and _mode_or_links(a, b) and (
        " 0B " in (a or "") or EMPTY_MD5 in (b or "") or (b or "").endswith(f"{EMPTY_MD5}") or
        (a or "").endswith(EMPTY_MD5)))


def f3_run_cache_for_uncached_out(div, ctx: Ctx) -> bool:
    """F3: tide saves a run-cache entry for a stage with a cache: false output that dvc does not."""
    return not div.exits and bool(div.state) and all(
        ":runs/" in k and a is None and b is not None for k, a, b in div.state)


def f4_add_git_tracked(div, ctx: Ctx) -> bool:
    """F4: ``add`` of a file git tracks: dvc refuses (exit 1), tide tracks it."""
    return (div.op.kind == "add" and _exit_only(div, dvc_fails=True)
            and any(ctx.git_tracked(t) for t in div.op.info.get("targets", ())))


def f5_stale_output_after_git_checkout(div, ctx: Ctx) -> bool:
    """F5: after ``git checkout`` + ``checkout``, tide leaves an output the new revision does not track."""
    return (div.op.kind == "git_checkout" and not div.exits and bool(div.state)
            and all(k.startswith("ws:") and a is None for k, a, b in div.state))


def f6_move_into_missing_dir(div, ctx: Ctx) -> bool:
    """F6: ``move`` to a path whose directory does not exist: dvc exits 1, tide creates it."""
    dst = div.op.info.get("dst", "")
    parent = str(Path(dst).parent)
    return (div.op.kind == "move" and _exit_only(div, dvc_fails=True) and parent != "."
            and parent not in ctx.before.dirs)


def f7_output_without_hash(div, ctx: Ctx) -> bool:
    """F7: a stage whose outputs have no hash in dvc.lock: dvc's checkout/pull fails, tide's succeeds."""
    if div.op.kind not in ("git_checkout", "pull", "checkout", "clone") or not _exit_only(div, dvc_fails=True):
        return False
    if not all(any(w in ln for w in ("checkout", "pull")) for ln, _, _ in div.exits):
        return False
    return any(_unlocked_stage(ctx.pair.a.root / c) for c in ["repo", *ctx.pair.a.clones])


def f8_add_inside_tracked_dir(div, ctx: Ctx) -> bool:
    """F8: ``add D/f`` when D is tracked: dvc exits 0, tide exits 1."""
    if div.op.kind != "add" or not _exit_only(div, dvc_fails=False):
        return False
    dvcfiles = set(ctx.before.dvcfiles)
    return any(f"{'/'.join(t.split('/')[:i])}.dvc" in dvcfiles
               for t in div.op.info.get("targets", ()) for i in range(1, t.count("/") + 1))


def f9_pm_diff_without_such_outputs(div, ctx: Ctx) -> bool:
    """F9: ``params/metrics diff --json`` with no outputs of that kind: dvc prints {} (exit 0), tide exits 1."""
    return (not div.state and not div.outputs and _exit_only(div, dvc_fails=False)
            and all(" diff --json" in ln and ("params" in ln or "metrics" in ln) for ln, _, _ in div.exits))


def f10_diff_json_no_changes(div, ctx: Ctx) -> bool:
    """F10: ``diff --json`` with no changes: dvc prints {}, tide five empty lists."""
    return (not div.state and not div.exits and bool(div.outputs) and all(
        ln.endswith("diff --json") and "metrics" not in ln and "params" not in ln and a == {}
        and isinstance(b, dict) and b and not any(b.values()) for ln, a, b in div.outputs))


KNOWN: tuple[Known, ...] = (
    # known divergences, being fixed (issue 27 finding N): remove an entry once its fix is merged
    Known("issue 27 finding 1: uncached output hardlinked to the cache", True, f1_hardlinked_uncached_output),
    Known("issue 27 finding 2: empty files linked to the cache", True, f2_empty_file_linked),
    Known("issue 27 finding 3: run cache saved for a stage with an uncached output", True,
          f3_run_cache_for_uncached_out),
    Known("issue 27 finding 4: add of a file git tracks", True, f4_add_git_tracked),
    Known("issue 27 finding 5: stale output after git checkout + checkout", True,
          f5_stale_output_after_git_checkout),
    Known("issue 27 finding 6: move into a directory that does not exist", True, f6_move_into_missing_dir),
    Known("issue 27 finding 7: outputs with no hash in dvc.lock", True, f7_output_without_hash),
    Known("issue 27 finding 8: add of a file inside a tracked directory", True, f8_add_inside_tracked_dir),
    Known("issue 27 finding 9: params/metrics diff --json without such outputs", False,
          f9_pm_diff_without_such_outputs),
    Known("issue 27 finding 10: diff --json with no changes", False, f10_diff_json_no_changes),
)


def classify(div, ctx: Ctx) -> Known | None:
    for k in KNOWN:
        if k.match(div, ctx):
            return k
    return None


# --- helpers reading the dvc side ---------------------------------------------------------------------
def _load_yaml(p: Path):
    import yaml

    try:
        return yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}


def _uncached_outputs(repo: Path) -> set[str]:
    out: set[str] = set()
    stages = _load_yaml(repo / "dvc.yaml").get("stages") or {}
    for st in stages.values() if isinstance(stages, dict) else ():
        for key in ("outs", "metrics", "plots"):
            for o in (st or {}).get(key) or ():
                if isinstance(o, dict):
                    for name, opts in o.items():
                        if isinstance(opts, dict) and opts.get("cache") is False:
                            out.add(name)
    return out


def _corrupt_in_tide(k: str, a: str | None, b: str | None) -> bool:
    return k.startswith("cache:") and b is not None and "CORRUPT" in b and (a is None or "CORRUPT" not in a)


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
