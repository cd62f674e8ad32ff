"""``tide stage add`` / ``tide stage list``: write stages into dvc.yaml in dvc's layout."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from tide.core import yamlio
from tide.core.errors import FileFormatError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.core.yamlstyle import dumps
from tide.pipeline import definition
from tide.pipeline.graph import build
from tide.pipeline.project import load_project, tracked_outputs
from tide.workspace import gitignore
from tide.workspace.repo import Repo


@dataclass(frozen=True)
class StageSpec:
    name: str
    cmd: str
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # "key,key2" or "file.yaml:key,key2" or "file.yaml:" (whole file)
    outs: tuple[tuple[str, str], ...] = ()  # (kind, path) with kind in outs, outs_no_cache, ...
    wdir: str | None = None
    always_changed: bool = False
    desc: str | None = None
    force: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# kind -> (section, cache, persist)
KINDS = {
    "outs": ("outs", True, False), "outs_no_cache": ("outs", False, False),
    "outs_persist": ("outs", True, True), "outs_persist_no_cache": ("outs", False, True),
    "metrics": ("metrics", True, False), "metrics_no_cache": ("metrics", False, False),
    "plots": ("plots", True, False), "plots_no_cache": ("plots", False, False),
}


def _params(items: tuple[str, ...]) -> list[Any]:
    default: list[str] = []
    others: dict[str, list[str] | None] = {}
    for item in items:
        fname, sep, keys = item.rpartition(":")
        if not sep:
            fname, keys = "", item
        names = [k for k in keys.split(",") if k]
        if not fname or fname == "params.yaml":
            default.extend(k for k in names if k not in default)
        elif not names:
            others[fname] = None
        else:
            cur = others.setdefault(fname, [])
            if cur is not None:
                cur.extend(k for k in names if k not in cur)
    out: list[Any] = sorted(default)
    for f in sorted(others):
        out.append({f: sorted(others[f]) if others[f] else None})
    return out


def stage_dict(spec: StageSpec) -> dict[str, Any]:
    """The stage as dvc writes it: desc, cmd, wdir, deps, params, outs, metrics, plots, always_changed."""
    sections: dict[str, list[Any]] = {"outs": [], "metrics": [], "plots": []}
    for kind, path in sorted(spec.outs, key=lambda kp: kp[1]):
        section, cache, persist = KINDS[kind]
        flags: dict[str, Any] = {}
        if not cache:
            flags["cache"] = False
        if persist:
            flags["persist"] = True
        sections[section].append({path: flags} if flags else path)
    d: dict[str, Any] = {}
    if spec.desc:
        d["desc"] = spec.desc
    d["cmd"] = spec.cmd
    if spec.wdir and spec.wdir != ".":
        d["wdir"] = spec.wdir
    if spec.deps:
        d["deps"] = sorted(dict.fromkeys(spec.deps))
    params = _params(spec.params)
    if params:
        d["params"] = params
    for k in ("outs", "metrics", "plots"):
        if sections[k]:
            d[k] = sections[k]
    if spec.always_changed:
        d["always_changed"] = True
    return d


def add(repo: Repo, spec: StageSpec, cwd: str | None = None) -> list[str]:
    """Add (or with ``force`` replace) a stage in ``cwd``'s dvc.yaml; returns files to git add."""
    cwd = cwd or os.getcwd()
    if not spec.name or any(c in spec.name for c in "@:/\\") or spec.name.startswith("."):
        raise UsageError(f"invalid stage name '{spec.name}': use letters, digits, '-' and '_'")
    if not spec.cmd.strip():
        raise UsageError("the stage needs a command")
    path = os.path.join(cwd, definition.YAML_NAME)
    with repo.lock():
        data: dict[str, Any] = {}
        if os.path.exists(path):
            loaded = yamlio.load_file(path, os.path.relpath(path, repo.root))
            if loaded is not None and not isinstance(loaded, dict):
                raise FileFormatError(f"{os.path.relpath(path, repo.root)}: expected a mapping")
            data = loaded or {}
        stages = data.get("stages") or {}
        if spec.name in stages and not spec.force:
            raise UsageError(f"stage '{spec.name}' already exists in {definition.YAML_NAME}; use -f to overwrite it")
        new_stage = stage_dict(spec)
        # validate the result and the whole graph before writing anything
        trial = dict(data)
        trial["stages"] = {**stages, spec.name: new_stage}
        pipe = definition.parse(trial, path, repo.root)
        others = [s for p in load_project(repo).pipelines if p.path != path for s in p.stages]
        build(others + list(pipe.stages), repo.root, tracked_outputs(repo))
        if spec.name not in stages and os.path.exists(path) and list(data)[-1:] == ["stages"] and stages:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if not text.endswith("\n"):
                text += "\n"
            block = dumps({spec.name: new_stage})
            text += "".join("  " + line + "\n" for line in block.splitlines())
        else:
            data["stages"] = trial["stages"]
            text = dumps(data)
        atomic_write_text(path, text)
        # .gitignore lines in dvc's order of output kinds
        order = ["outs_persist", "outs_persist_no_cache", "metrics_no_cache", "metrics", "plots_no_cache",
                 "plots", "outs_no_cache", "outs"]
        base = os.path.normpath(os.path.join(cwd, spec.wdir or "."))
        cached = [os.path.normpath(os.path.join(base, p)) for k in order for kk, p in spec.outs
                  if kk == k and KINDS[k][1]]
        files = [os.path.relpath(path, repo.root)] + gitignore.add(repo.root, cached, repo.git)
    return files


def list_stages(repo: Repo) -> list[tuple[str, str]]:
    project = load_project(repo, check=False)  # dvc lists the stages of a pipeline its graph refuses
    out = []
    for s in project.stages:
        what = s.desc or ("Outputs " + ", ".join(o.path for o in s.outs) if s.outs else "")
        out.append((s.addressing, what))
    return out
