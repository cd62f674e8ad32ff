"""``tide config``: git-config-like access to DVC's config files."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tide.core.config import CACHE_TYPES, LEVELS, PATH_KEYS, Config, relative_to_config, split_name, to_bool
from tide.core.errors import ConfigError

BOOL_OPTIONS = {("core", "autostage"), ("core", "no_scm"), ("core", "analytics"), ("core", "hardlink_lock"),
                ("core", "interactive"), ("core", "check_update"), ("cache", "slow_link_warning"),
                ("cache", "verify")}


def _validate(section: str, key: str, value: str) -> None:
    if (section, key) in BOOL_OPTIONS:
        to_bool(value, f"{section}.{key}")
    if (section, key) == ("cache", "type"):
        bad = [t for t in value.split(",") if t.strip() not in CACHE_TYPES]
        if bad:
            raise ConfigError(f"cache.type: unknown link type '{bad[0]}' (use {', '.join(CACHE_TYPES)})")
    if (section, key) == ("cache", "shared") and value != "group":
        raise ConfigError("cache.shared: the only supported value is 'group'")


def set_option(config: Config, level: str, name: str, value: str) -> None:
    section, key = split_name(name)
    _validate(section, key, value)
    ed = config.edit(level)
    if section.startswith("remote.") and ed.get_section(section) is None and key != "url":
        known = any(section in config.read_level(lv) for lv in LEVELS)
        if not known:
            raise ConfigError(f"remote '{section.split('.', 1)[1]}' does not exist")
    kind = section.split(".", 1)[0]
    if key in PATH_KEYS.get(kind, ()) and (kind != "remote" or key != "url" or "://" not in value):
        value = relative_to_config(value, os.path.dirname(os.path.abspath(ed.path)), os.getcwd())
    ed.set(section, key, value)
    ed.save()


def unset_option(config: Config, level: str, name: str) -> None:
    from tide.ops.remote import require_url

    section, key = split_name(name)
    ed = config.edit(level)
    if not ed.unset(section, key):
        raise ConfigError(f"option '{name}' is not set in {ed.path}")
    if section.startswith("remote."):
        require_url(config, level, ed, section.split(".", 1)[1])
    ed.save()


def _flatten(sections: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    return [(f"{sec}.{k}", v) for sec, vals in sections.items() for k, v in vals.items()]


@dataclass(frozen=True)
class Option:
    name: str  # section.key, e.g. core.remote
    value: str
    origin: str  # the file it comes from


@dataclass(frozen=True)
class Scope:
    """The config files ``tide config`` reads or writes: one level, or every level (``level`` None)."""

    config: Config
    root: str | None  # the repository, None outside one
    level: str | None

    @property
    def write_level(self) -> str:
        return self.level or "repo"

    def levels(self) -> list[str]:
        """The levels read, lowest precedence first (repo and local only inside a repository)."""
        levels = [self.level] if self.level else list(LEVELS)
        return [lv for lv in levels if self.root is not None or lv not in ("repo", "local")]


def scope(level: str | None, listing: bool = False, cwd: str | None = None) -> Scope:
    """The config of the repository around ``cwd`` at ``level``. Outside a repository only --global
    and --system exist (a listing without a level lists those); anything else is a ConfigError."""
    from tide.workspace.repo import find_repo_root

    root = find_repo_root(cwd or os.getcwd())
    if root is None and level in (None, "repo", "local"):
        if listing and level is None:
            level = "global"
        else:
            raise ConfigError("not inside a repository: use --global or --system")
    return Scope(Config(os.path.join(root, ".dvc") if root else None), root, level)


def list_options(sc: Scope) -> list[Option]:
    return [Option(name, value, sc.config.path(lv)) for lv in sc.levels()
            for name, value in _flatten(sc.config.read_level(lv))]


def get_option(sc: Scope, name: str) -> Option | None:
    """The value in force for ``name`` (the highest level that sets it), None when no level does."""
    section, key = split_name(name)
    found = None
    for lv in sc.levels():
        v = sc.config.read_level(lv).get(section, {}).get(key)
        if v is not None:
            found = Option(name, v, sc.config.path(lv))
    return found
