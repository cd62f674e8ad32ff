"""The options that change how a source repository is read (``--config``, ``--remote``,
``--remote-config`` of get/import/ls; ``config``/``remote_config`` of ``tide.api``), in the forms dvc keeps
them in an import's ``repo`` (``config: PATH`` or a mapping, ``remote: NAME`` or a mapping of options)."""

from __future__ import annotations

import os

from tide.core.config import Config, Env
from tide.core.errors import TideError


class SourceOptionError(TideError):
    pass


def strings(vals: dict) -> dict[str, str]:
    """Option values as the config file holds them (YAML gives booleans and numbers)."""
    return {str(k).lower(): ("true" if v is True else "false" if v is False else str(v)) for k, v in vals.items()}


def config_sections(config: str | dict | None) -> dict[str, dict[str, str]]:
    """A ``--config`` file (path) or the dict dvc keeps of one in an import's ``repo.config``
    (``{"core": {...}, "remote": {NAME: {...}}}``) as config sections (``core``, ``remote.NAME``)."""
    if not config:
        return {}
    if isinstance(config, str):
        if not os.path.isfile(config):
            raise SourceOptionError(f"config file '{config}' does not exist")
        return _FileConfig(config).read_level("repo")
    if not isinstance(config, dict):
        raise SourceOptionError("an import's 'config' must be a file path or a mapping")
    out: dict[str, dict[str, str]] = {}
    for sec, vals in config.items():
        if not isinstance(vals, dict):
            raise SourceOptionError(f"an import's config section '{sec}' is not a mapping")
        if sec in ("remote", "machine", "db") and all(isinstance(v, dict) for v in vals.values()):
            for name, sub in vals.items():
                out.setdefault(f"{sec}.{name}", {}).update(strings(sub))
        else:
            out.setdefault(str(sec).lower(), {}).update(strings(vals))
    return out


class _FileConfig(Config):
    """One config file read as dvc's ``Config.load_file`` reads it (relative paths kept as written)."""

    def __init__(self, path: str) -> None:
        super().__init__(os.path.dirname(os.path.abspath(path)), Env())
        self._file = path

    def path(self, level: str) -> str:
        return self._file

    def _resolve_path(self, level: str, value: str) -> str:
        return value


def repo_options(config: str | None, remote: str | None, remote_config: dict | None) -> dict:
    """``--config``/``--remote``/``--remote-config`` as dvc keeps them in an import's ``repo`` (its
    ``Repo.imp``): ``config`` a path or a dict, ``remote`` a name or a dict of options."""
    from tide.core.errors import UsageError

    out: dict = {}
    if remote and remote_config and config is not None:
        raise UsageError("Can't specify config path together with both remote and remote_config")
    if config is not None:
        out["config"] = config
    if remote is not None and remote_config is not None:
        out["config"] = {"core": {"remote": remote}, "remote": {remote: dict(remote_config)}}
    elif remote is not None:
        out["remote"] = remote
    elif remote_config is not None:
        out["remote"] = dict(remote_config)
    return out
