"""``tide config``: git-config-like access to DVC's config files."""

from __future__ import annotations

import os
import sys

from tide.core.config import CACHE_TYPES, LEVELS, PATH_KEYS, Config, relative_to_config, split_name, to_bool
from tide.core.errors import ConfigError, UsageError

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


def config_cli(args) -> int:  # noqa: ANN001
    from tide.workspace.repo import find_repo_root

    root = find_repo_root(os.getcwd())
    level = args.level
    if root is None and level in (None, "repo", "local"):
        if args.list and level is None:
            level = "global"
        else:
            raise ConfigError("not inside a repository: use --global or --system")
    config = Config(os.path.join(root, ".dvc") if root else None)
    if args.list:
        if args.name or args.value:
            raise UsageError("--list takes no option name")
        levels = [level] if level else [lv for lv in LEVELS if root or lv in ("system", "global")]
        for lv in levels:
            for name, value in _flatten(config.read_level(lv)):
                prefix = f"{config.path(lv)}\t" if args.show_origin else ""
                print(f"{prefix}{name}={value}")
        return 0
    if not args.name:
        raise UsageError("name an option (e.g. core.remote), or use --list")
    if args.unset:
        if args.value is not None:
            raise UsageError("--unset takes no value")
        unset_option(config, level or "repo", args.name)
        return 0
    if args.value is None:
        section, key = split_name(args.name)
        levels = [level] if level else list(LEVELS)
        found = None
        origin = None
        for lv in levels:
            if lv in ("repo", "local") and root is None:
                continue
            v = config.read_level(lv).get(section, {}).get(key)
            if v is not None:
                found, origin = v, lv
        if found is None:
            print(f"ERROR: option '{args.name}' is not set", file=sys.stderr)
            return 1
        print(f"{config.path(origin)}\t{found}" if args.show_origin else found)
        return 0
    set_option(config, level or "repo", args.name, args.value)
    return 0
