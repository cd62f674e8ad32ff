"""``tide.api.params_show`` / ``metrics_show`` (dvc.api's): parameters and metrics of a repository at a
revision, read through the same readers as ``tide params``/``tide metrics`` over a source repository
(local or a git URL; data-tracked metrics files are streamed from its cache or remote)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from tide.api.data import open_stream, source_of
from tide.core import utf8
from tide.core.errors import TideError


class _SourceFiles:
    """The reader interface of tide.pipeline (``repo.root``, ``rev``, ``dvc_yamls``, ``read_bytes``,
    ``read_text``) over a registry source."""

    def __init__(self, src) -> None:
        from types import SimpleNamespace

        self.src = src
        self.repo = SimpleNamespace(root=src.root)
        self.rev = "workspace" if src.workspace else src.sha

    def dvc_yamls(self) -> list[str]:
        return sorted(os.path.join(self.src.root, p) for p, n in self.src.tree().items()
                      if not n.isdir and p.rsplit("/", 1)[-1] == "dvc.yaml")

    def read_bytes(self, abspath: str) -> bytes | None:
        rel = os.path.relpath(abspath, self.src.root).replace(os.sep, "/")
        try:
            with open_stream(self.src, rel) as f:
                return f.read()
        except (TideError, IsADirectoryError, FileNotFoundError):
            return None

    def read_text(self, abspath: str) -> str | None:
        raw = self.read_bytes(abspath)
        if raw is None:
            return None
        return utf8.decode(raw, abspath)


def _merge(per_file: dict[str, Any]) -> dict[str, Any]:
    """dvc.api's merge of several files' values: a key found in one file stays as it is, a key
    found in several becomes ``FILE:KEY``."""
    counts: Counter = Counter()
    for v in per_file.values():
        counts.update((v.get("data") or {}).keys())
    out: dict[str, Any] = {}
    for name, v in per_file.items():
        if "error" in v:
            raise TideError(f"{name}: {v['error'].get('msg')}")
        for k, val in (v.get("data") or {}).items():
            out[k if counts[k] == 1 else f"{name}:{k}"] = val
    return out


def _abs(src, targets) -> list[str] | None:
    return [os.path.join(src.root, t) for t in targets] if targets else None


def params_show(*targets: str, stages=None, repo: str | None = None, rev: str | None = None,
                deps: bool = False, config=None) -> dict[str, Any]:
    """Parameters of ``repo`` at ``rev`` (files named by ``targets``, or every params file of its
    pipelines), merged as dvc.api does; ``deps``: only the keys stages depend on."""
    from tide.pipeline.metrics import params_files, read_params

    with source_of(repo, rev, None) as src:
        files = _SourceFiles(src)
        found = read_params(files, _abs(src, targets), deps_only=deps)
        if not targets and not deps:  # dvc: params.yaml whole, other files only the keys stages use
            for path, keys in params_files(files).items():
                rel = os.path.relpath(path, src.root).replace(os.sep, "/")
                if keys and rel.rsplit("/", 1)[-1] != "params.yaml" and "data" in found.get(rel, {}):
                    found[rel] = {"data": _pick(found[rel]["data"], keys)}
        return _merge(found)


def _pick(data: dict, keys) -> dict:
    """The values of dotted ``keys`` of ``data``, nested as in the file."""
    out: dict = {}
    for key in keys:
        node, parts = data, key.split(".")
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            cur = out
            for part in parts[:-1]:
                cur = cur.setdefault(part, {})
            cur[parts[-1]] = node
    return out


def metrics_show(*targets: str, repo: str | None = None, rev: str | None = None,
                 config=None) -> dict[str, Any]:
    """Metrics of ``repo`` at ``rev`` (files named by ``targets``, or every metrics file of its
    pipelines), merged as dvc.api does."""
    from tide.pipeline.metrics import read_metrics

    with source_of(repo, rev, None) as src:
        return _merge(read_metrics(_SourceFiles(src), _abs(src, targets)))
