"""``tide model get NAME[@VERSION|#STAGE] [--repo URL] [-o PATH]``: the file (or directory) of a registered
model version, or of the version a stage holds, fetched from another repository and its remote the way
``tide get`` fetches data. The version comes from the source's registry tags (GTO's ``NAME@vX.Y.Z`` and
``NAME#STAGE#N``), the path from its ``artifacts.yaml`` at that version's commit."""

from __future__ import annotations

import os

from tide.core.config import Env
from tide.core.errors import MissingError, UsageError


def parse_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``NAME``, ``NAME@VERSION`` or ``NAME#STAGE`` -> (name, version, stage)."""
    if "@" in spec:
        name, _, version = spec.partition("@")
        return name, version or None, None
    if "#" in spec:
        name, _, stage = spec.partition("#")
        return name, None, stage or None
    return spec, None, None


def resolve(url: str, spec: str, env: Env | None = None) -> tuple[str, str, str]:
    """(version, commit, artifact path) of ``spec`` in the repository at ``url``."""
    from tide.ops.registry_source import open_source
    from tide.registry import state
    from tide.registry.gtoshape import artifacts_at

    name, version, stage = parse_spec(spec)
    if not name:
        raise UsageError(f"'{spec}' names no artifact (NAME, NAME@VERSION or NAME#STAGE)")
    with open_source(url, None, env, full=True) as src:
        states = state.load(src.git)
        a = states.get(name)
        if a is None:
            raise MissingError(f"no artifact '{name}' is registered in '{url}'")
        if stage:
            version = a.stage(stage)
            if version is None:
                raise MissingError(f"no version of '{name}' is in stage '{stage}' in '{url}'")
        version = version or a.latest
        v = a.versions.get(version) if version else None
        if v is None or not v.active:
            raise MissingError(f"'{name}' has no registered version '{version}' in '{url}'")
        path = (artifacts_at(src.git, v.commit).get(name) or {}).get("path")
        if not isinstance(path, str) or not path:
            raise MissingError(f"'{name}' has no path in artifacts.yaml at {v.commit[:7]} "
                               f"(tide model annotate {name} --path PATH)")
    return version, v.commit, path


def model_get(spec: str, repo_url: str | None = None, out: str | None = None, force: bool = False,
              jobs: int | None = None, env: Env | None = None) -> tuple[str, str]:
    """Fetch the model; returns (version, where it was written)."""
    from tide.ops.registry_get import get

    if repo_url is None:
        from tide.workspace.repo import Repo

        repo_url = Repo.find().root
    version, commit, path = resolve(repo_url, spec, env)
    dst = get(repo_url, path, out or os.path.basename(path.rstrip("/")), commit, jobs, force, env)
    return version, dst
