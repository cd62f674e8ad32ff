"""``tide doctor``: the environment, as ``dvc doctor`` prints it, then the retrain readiness check.

The environment part follows ``dvc doctor``'s lines (version, platform, supported remote kinds with
the libraries that serve them, config directories, caches, remotes, filesystems, repo kinds); the
readiness part is ``tide retrain --check`` (ops/readiness.py), so both commands give one answer.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from typing import Any

from tide.core.config import Env
from tide.core.errors import TideError


@dataclass(frozen=True)
class Environment:
    version: str
    install: str                        # pip | editable
    platform: str
    supports: tuple[tuple[str, str], ...]   # (scheme, "lib = version, ..."), installed kinds only
    config: tuple[tuple[str, str], ...]     # (Global|System, directory)
    caches: tuple[str, ...] = ()
    remotes: tuple[str, ...] = ()       # the remotes' kinds, as dvc lists them
    cache_dir: str = ""                 # "ext4 on /dev/sda1"
    workspace: str = ""
    repo: tuple[str, ...] = ()          # dvc, git

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "install": self.install, "platform": self.platform,
                "supports": dict(self.supports), "config": dict(self.config), "caches": list(self.caches),
                "remotes": list(self.remotes), "cache_directory": self.cache_dir,
                "workspace_directory": self.workspace, "repo": list(self.repo)}


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _install_kind() -> str:
    """``pip``, ``editable`` (pip install -e) or ``source`` (not installed: run from a checkout)."""
    import json
    from importlib import metadata

    try:
        direct = metadata.distribution("tide-ml").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return "source"
    try:
        editable = bool(json.loads(direct or "{}").get("dir_info", {}).get("editable"))
    except ValueError:
        editable = False
    return "editable" if editable else "pip"


def _supports() -> tuple[tuple[str, str], ...]:
    import importlib.util

    from tide.storage.registry import SCHEMES

    out = []
    for scheme, info in sorted(SCHEMES.items()):
        if scheme == "local":
            continue
        if not all(importlib.util.find_spec(m) is not None for m in info.probe):
            continue
        libs = [f"{m} = {_dist_version(m) or '?'}" for m in info.probe]
        out.append((scheme, ", ".join(libs) if libs else "built in"))
    return tuple(out)


def filesystem(path: str) -> str:
    """``"ext4 on /dev/sda1"`` for the mount holding ``path`` (Linux /proc/mounts), else ``""``."""
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            mounts = [line.split()[:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return ""
    real = os.path.realpath(path)
    best = max((m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]), default=None)
    return f"{best[2]} on {best[0]}" if best else ""


def environment(root: str | None = None, env: Env | None = None) -> Environment:
    from tide import __version__

    env = env or Env()
    from tide.core.config import Config

    conf = Config(None, env)
    base = Environment(__version__, _install_kind(), f"Python {sys.version.split()[0]} on {platform.platform()}",
                       _supports(), (("Global", conf.env.config_dir("global")),
                                     ("System", conf.env.config_dir("system"))))
    from tide.workspace.repo import find_repo_root

    top = find_repo_root(root or os.getcwd())
    if top is None:
        return base
    from tide.storage.registry import scheme_of

    try:
        merged = Config(os.path.join(top, ".dvc"), env).merged()
    except TideError:
        merged = {}
    kinds = []
    for sec, vals in sorted(merged.items()):
        if sec.startswith("remote.") and vals.get("url"):
            try:
                kind = scheme_of(vals["url"])
            except TideError:
                kind = "unknown"
            if kind not in kinds:
                kinds.append(kind)
    cache = merged.get("cache", {}).get("dir") or os.path.join(top, ".dvc", "cache")
    repo_kinds = ("dvc", "git") if os.path.exists(os.path.join(top, ".git")) or _in_git(top) else ("dvc",)
    return Environment(base.version, base.install, base.platform, base.supports, base.config, ("local",),
                       tuple(kinds), filesystem(cache if os.path.exists(cache) else top), filesystem(top), repo_kinds)


def _in_git(path: str) -> bool:
    from tide.core.git import find_root

    return find_root(path) is not None
