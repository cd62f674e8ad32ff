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
    with repo.lock(), repo.ignore_journal.command():  # a failure takes back the .gitignore entries (N55)
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
        # an output whose directory does not exist yet gets its entry when the stage runs (as dvc does)
        cached = [p for p in cached if os.path.isdir(os.path.dirname(p))]
        files = [os.path.relpath(path, repo.root)] + gitignore.add(repo.ignore_journal, cached, repo.git)
    return files


MAX_DESCRIPTION = 80


def list_stages(repo: Repo, targets: list[str] | None = None, all_stages: bool = False, recursive: bool = False,
                cwd: str | None = None) -> list[tuple[str, str]]:
    """``(address, description)`` of stages as ``dvc stage list`` shows them: addresses relative to ``cwd``
    (``name`` in its dvc.yaml, ``dir/dvc.yaml:name``, ``f.dvc``), the description's first line or what
    the stage outputs, reports and depends on. Default: the stages of ``cwd``'s dvc.yaml; ``all_stages``:
    every dvc.yaml stage and .dvc file; ``recursive``: those under each target directory."""
    from tide.core.errors import MissingError
    from tide.workspace import pointers
    from tide.workspace.index import find_dvc_files

    cwd = cwd or os.getcwd()
    ptrs, ymls = find_dvc_files(repo.root, repo.ignore)
    files = sorted(ptrs + ymls, key=lambda f: repo.rel(f).replace(os.sep, "/"))
    rows: list[tuple[str, str, str]] = []   # (file, stage name or "", description)
    for f in files:
        if f.endswith(pointers.SUFFIX):
            pf = pointers.load(f, repo.root)
            deps = [str(d.get("path")) for d in pf.top.get("deps") or [] if isinstance(d, dict)]
            rows.append((f, "", _describe(None, deps, [o.path for o in pf.outs], [])))
        else:
            for st in definition.load(f, repo.root).stages:
                rows.append((f, st.name, _describe(st.desc, [d.path for d in st.deps],
                                                   [o.path for o in st.outs if o.kind == "outs"],
                                                   [o.path for o in st.outs if o.kind != "outs"])))
    if not all_stages:
        chosen: list[tuple[str, str, str]] = []
        for t in targets or [definition.YAML_NAME]:
            hits = _select_rows(rows, t, cwd, recursive)
            if hits is None:
                raise MissingError(f"stage '{t}' not found inside '{definition.YAML_NAME}'")
            chosen += [r for r in hits if r not in chosen]
        rows = chosen
    out = []
    for f, name, desc in rows:
        rel = os.path.relpath(f, cwd).replace(os.sep, "/")
        addr = rel if not name else (name if rel == definition.YAML_NAME else f"{rel}:{name}")
        out.append((addr, desc))
    return out


def _select_rows(rows: list, target: str, cwd: str, recursive: bool) -> list | None:
    file_part, sep, name = target.rpartition(":")
    path = os.path.normpath(os.path.join(cwd, file_part if sep else target))
    if recursive and os.path.isdir(path):
        under = path.rstrip(os.sep) + os.sep
        return [r for r in rows if r[0].startswith(under)]
    if sep:
        if os.path.isdir(path):
            path = os.path.join(path, definition.YAML_NAME)
        hits = [r for r in rows if r[0] == path and r[1] == name]
        return hits or None
    if os.path.basename(path) == definition.YAML_NAME or path.endswith(".dvc"):
        hits = [r for r in rows if r[0] == path]
        return hits if hits or os.path.exists(path) else None
    here = os.path.join(cwd, definition.YAML_NAME)  # a bare name: a stage of cwd's dvc.yaml
    hits = [r for r in rows if r[0] == here and r[1] == target]
    return hits or None


def _describe(desc: str | None, deps: list[str], outs: list[str], reports: list[str]) -> str:
    first = next((ln.strip() for ln in (desc or "").splitlines() if ln.strip()), None) if desc else None
    if first is None:
        if not deps and not outs and not reports:
            first = "No outputs or dependencies"
        elif not outs and not reports:
            first = "Depends on " + ", ".join(deps)
        else:
            parts = (["Outputs " + ", ".join(outs)] if outs else []) + (
                ["Reports " + ", ".join(reports)] if reports else [])
            first = "; ".join(parts)
    return first if len(first) <= MAX_DESCRIPTION else first[:MAX_DESCRIPTION - 1] + "\u2026"
