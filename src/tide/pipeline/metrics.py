"""Metrics and params of one version of the repository, and dvc's diff of two versions.

Metrics files are JSON, YAML or TOML, or plain text with one ``Key: value`` (or ``key = value``)
per line, like the ``Accuracy: 0.868`` that the seed's train.py writes.
"""

from __future__ import annotations

import os
from typing import Any

from tide.core.errors import FileFormatError, TideError
from tide.pipeline import definition
from tide.pipeline import params as params_mod
from tide.pipeline.interpolate import InterpolationError

STRUCTURED = (".json", ".yaml", ".yml", ".toml")


def parse_metrics(text: str, name: str, where: str) -> Any:
    ext = os.path.splitext(name)[1].lower()
    if ext in STRUCTURED:
        return params_mod.parse_text(text, name, where)
    return parse_text_metrics(text)


def metrics_mapping(text: str, name: str, where: str) -> dict[str, Any]:
    """One metrics file as ``{key: value}`` with nested keys dotted (``train.loss``), as ``tide metrics
    show`` reads and shows it: the one reader of metrics files (the promotion gate and ``tide retrain
    --check`` use it too), for every format ``parse_metrics`` knows."""
    data = _drop_lists(parse_metrics(text, name, where))
    if not isinstance(data, dict):
        raise FileFormatError(f"{where}: expected a mapping of metrics, got {type(data).__name__}")
    return flatten(data)


def _scalar(v: str) -> Any:
    s = v.strip()
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    if s.endswith("%"):
        try:
            return float(s[:-1])
        except ValueError:
            pass
    return s


def parse_text_metrics(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for sep in (":", "="):
            if sep in line:
                k, _, v = line.partition(sep)
                if k.strip():
                    out[k.strip()] = _scalar(v)
                break
    return out


def pipelines(files) -> list[definition.Pipeline]:  # a revfs reader
    """The pipelines of ``files``; a commit's reader (``memo``: it never changes) parses them once however
    often params, metrics and outputs ask (the list is shared: read it, never change it)."""
    memo = getattr(files, "memo", None)
    if memo is not None and "pipelines" in memo:
        return memo["pipelines"]
    out = []
    for y in files.dvc_yamls():
        try:
            out.append(definition.load(y, files.repo.root, files))
        except (FileFormatError, InterpolationError):
            if files.rev == "workspace":
                raise
    if memo is not None:
        memo["pipelines"] = out
    return out


def metrics_files(files) -> list[str]:
    seen: list[str] = []
    for p in pipelines(files):
        for m in p.metrics:
            if m not in seen:
                seen.append(m)
        for s in p.stages:
            for o in s.outs:
                if o.kind == "metrics" and o.abspath not in seen:
                    seen.append(o.abspath)
    return seen


def params_files(files, deps_only: bool = False) -> dict[str, tuple[str, ...] | None]:
    """The params files dvc shows, with their keys (None: all keys): the keys stages use (``--deps``:
    only those); otherwise also the files listed at top level and the repository's ``params.yaml``,
    whole, used or not (dvc's ``_collect_params``)."""
    found: dict[str, tuple[str, ...] | None] = {}

    def want(path: str, keys: tuple[str, ...] | None) -> None:
        if path in found and found[path] is None:
            return
        found[path] = None if keys is None else tuple(dict.fromkeys((*(found.get(path) or ()), *keys)))

    for p in pipelines(files):
        for s in p.stages:
            for dep in s.params:
                want(dep.abspath, dep.keys or None)
        if not deps_only:
            for f in p.params:
                want(f, None)
    default = os.path.join(files.repo.root, params_mod.DEFAULT_PARAMS)
    if not deps_only and files.read_bytes(default) is not None:
        want(default, None)
    return found


def _expand_targets(targets: list[str]) -> list[str]:
    return [os.path.abspath(t) for t in targets]


def _expand_dirs(files, paths: list[str]) -> list[str]:
    """As dvc's metrics: a directory target means every file under it (with or without -R)."""
    find = getattr(files, "find", None)
    out: dict[str, None] = {}
    for p in paths:
        out.update(dict.fromkeys((find(p) if find is not None else []) or [p]))
    return list(out)


def error_info(type_name: str, msg: str) -> dict[str, str]:
    """An error in dvc's JSON shape (``encode_exception``): the exception's type name and message."""
    return {"type": type_name, "msg": msg}


_CORRUPTED = {".json": "JSONFileCorruptedError", ".yaml": "YAMLFileCorruptedError",
              ".yml": "YAMLFileCorruptedError", ".toml": "TOMLFileCorruptedError"}


def read_metrics(files, targets: list[str] | None = None) -> dict[str, Any]:
    """``{relpath: {"data": parsed}}`` or ``{relpath: {"error": {"type", "msg"}}}`` like dvc's
    result (the type names are dvc's: a missing file is ``FileNotFoundError``, one that does not
    parse ``JSONFileCorruptedError`` / ``YAMLFileCorruptedError`` / ``TOMLFileCorruptedError``)."""
    root = files.repo.root
    paths = _expand_dirs(files, _expand_targets(targets or [])) or metrics_files(files)
    cached = {o.abspath for p in pipelines(files) for s in p.stages for o in s.outs if o.cache}
    out: dict[str, Any] = {}
    for p in paths:
        rel = os.path.relpath(p, root).replace(os.sep, "/")
        try:
            text = files.read_text(p)
            if text is None:
                # dvc's wording: a cached output from dvc.yaml is looked for in storage, anything else
                # (a target named on the command line, an uncached output) on disk
                why = "No such file or directory" if targets or p not in cached else "No storage files available"
                out[rel] = {"error": error_info("FileNotFoundError", f"[Errno 2] {why}: '{rel}'")}
                continue
            out[rel] = {"data": _drop_lists(parse_metrics(text, p, rel))}
        except TideError as exc:
            kind = _CORRUPTED.get(os.path.splitext(p)[1].lower(), type(exc).__name__)
            out[rel] = {"error": error_info(kind, str(exc))}
    return out


def read_params(files, targets: list[str] | None = None, deps_only: bool = False) -> dict[str, Any]:
    root = files.repo.root
    if targets:
        chosen: dict[str, tuple[str, ...] | None] = {p: None for p in _expand_targets(targets)}
    else:
        chosen = params_files(files, deps_only)
    out: dict[str, Any] = {}
    for p, keys in chosen.items():
        rel = os.path.relpath(p, root).replace(os.sep, "/")
        try:
            text = files.read_text(p)
            if text is None:
                continue
            data = params_mod.parse_text(text, p, rel)
            if not isinstance(data, dict):  # dvc reads no parameters from a list or a scalar
                raise FileFormatError(f"{rel}: expected a mapping of parameters")
            if keys:
                data = params_mod.select(data, list(keys))
            out[rel] = {"data": data}
        except TideError as exc:
            kind = _CORRUPTED.get(os.path.splitext(p)[1].lower(), type(exc).__name__)
            out[rel] = {"error": error_info(kind, str(exc))}
    return out


def _drop_lists(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _drop_lists(v) for k, v in d.items() if not isinstance(v, list)}
    return d


def flatten(d: Any) -> dict[str, Any]:
    if not d:
        return {}
    if isinstance(d, dict):
        return params_mod.flatten(d)
    return {"": d}


def diff(old: dict[str, Any], new: dict[str, Any], with_unchanged: bool = False) -> dict[str, dict[str, Any]]:
    """dvc's diff: ``{path: {key: {"old", "new", "diff"}}}`` (diff only for two numbers)."""
    res: dict[str, dict[str, Any]] = {}
    for path in sorted(set(old) | set(new)):
        a = flatten(old.get(path, {}).get("data"))
        b = flatten(new.get(path, {}).get("data"))
        entries: dict[str, Any] = {}
        for key in sorted(set(a) | set(b)):
            ov, nv = a.get(key), b.get(key)
            if isinstance(ov, list) and isinstance(nv, list) and len(ov) == len(nv) == 1:
                ov, nv = ov[0], nv[0]
            if not with_unchanged and ov == nv:
                continue
            e: dict[str, Any] = {"old": ov, "new": nv}
            num = (int, float)
            if isinstance(ov, num) and isinstance(nv, num) and not isinstance(ov, bool) and not isinstance(nv, bool):
                e["diff"] = nv - ov
            entries[key] = e
        if entries:
            res[path] = entries
    return res
