"""``tide artifacts get URL NAME``: dvc's ``artifacts get``. The version comes from the registry's git tags
(GTO's ``NAME@vX.Y.Z`` and ``NAME#STAGE#N``: ``--rev VERSION``, ``--stage STAGE``, else the latest version),
the path from the ``artifacts:`` section of ``dvc.yaml`` at that version's commit (``DIR:NAME`` or
``DIR/dvc.yaml:NAME``: the dvc.yaml of DIR); the data is fetched as ``tide get`` fetches it. Studio, which dvc
tries first, is not asked (refused on purpose: tide's forge and registry do its job)."""

from __future__ import annotations

import os
import posixpath

from tide.core.config import Env
from tide.core.errors import MissingError, TideError


class ArtifactNotFound(MissingError):
    def __init__(self, name: str, version: str | None = None, stage: str | None = None) -> None:
        at = f" @ {stage or version}" if (stage or version) else ""
        super().__init__(f"Unable to find artifact '{name}{at}'")  # dvc's words


class InvalidArgument(TideError):
    """dvc's InvalidArgumentError (exit status 1)."""


def parse_name(name: str) -> tuple[str, str]:
    """``NAME``, ``DIR:NAME`` or ``DIR/dvc.yaml:NAME`` -> (DIR or "", NAME) (dvc's ``_reformat_name``,
    ``parse_path``)."""
    dirname, sep, art = name.rpartition(":")
    if not sep:
        return "", name
    if posixpath.basename(dirname) == "dvc.yaml":
        dirname = posixpath.dirname(dirname)
    return dirname.strip("/"), art


def resolve(url: str, name: str, version: str | None = None, stage: str | None = None,
            env: Env | None = None) -> tuple[str, str]:
    """(commit, path of the artifact's data relative to the repository root) in the repository at ``url``."""
    from tide.core import yamlio
    from tide.ops.registry_source import open_source
    from tide.registry import state

    if version and stage:
        raise InvalidArgument("Artifact version and stage are mutually exclusive.")
    dirname, art = parse_name(name)
    tag_name = f"{dirname}:{art}" if dirname else art  # as GTO names it
    with open_source(url, None, env, full=True) as src:
        a = state.load(src.git).get(tag_name)
        if a is None:
            raise ArtifactNotFound(tag_name, version, stage)
        if stage:
            version = a.stage(stage)
            if version is None:
                raise ArtifactNotFound(tag_name, None, stage)
        chosen = version or a.latest
        v = a.versions.get(chosen) if chosen else None
        if v is None:
            raise ArtifactNotFound(tag_name, version, stage)
        yml = posixpath.join(dirname, "dvc.yaml")
        raw = src.git.read_files(v.commit, [yml]).get(yml)
        try:
            data = yamlio.loads(raw.decode("utf-8"), f"{v.commit[:7]}:{yml}") if raw is not None else None
        except (TideError, UnicodeDecodeError):
            data = None
        entry = ((data or {}).get("artifacts") or {}).get(art) if isinstance(data, dict) else None
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not path:
            raise ArtifactNotFound(tag_name)
    return v.commit, posixpath.normpath(posixpath.join(dirname, path))


def get(url: str, name: str, version: str | None = None, stage: str | None = None, out: str | None = None,
        force: bool = False, jobs: int | None = None, env: Env | None = None,
        options: dict | None = None) -> tuple[int, str]:
    """Download the artifact; returns (files written, where), as dvc's ``Artifacts.download``. OUT an
    existing directory: the data goes inside it under its own name (dvc's ``resolve_output``)."""
    from tide.ops.registry_get import get as get_path

    commit, path = resolve(url, name, version, stage, env)
    base = posixpath.basename(path)
    dst = os.path.join(out, base) if out and os.path.isdir(out) else (out or base)
    get_path(url, path, dst, commit, jobs, force, env, options=options)
    if os.path.isdir(dst):
        return sum(len(files) for _, _, files in os.walk(dst)), dst
    return 1, dst
