"""``tide remote``: manage remotes in ``.dvc/config`` / ``config.local`` exactly as dvc does,
and resolve a configured remote into an open object store for push/pull/fetch/status/gc."""

from __future__ import annotations

import os
from collections import namedtuple

from tide.core.config import LEVELS, PATH_KEYS, Config, relative_to_config, to_bool, to_int
from tide.core.errors import ConfigError, UsageError

DEFAULT_LEVEL = "repo"
BOOL_OPTIONS = frozenset({
    "verify", "worktree", "version_aware", "use_ssl", "allow_anonymous_login", "listobjects", "ask_password",
    "ask_passphrase", "gss_auth", "allow_agent", "gdrive_use_service_account", "gdrive_trash_only",
    "gdrive_acknowledge_abuse", "exclude_environment_credential", "exclude_visual_studio_code_credential",
    "exclude_shared_token_cache_credential", "exclude_managed_identity_credential", "kerberos", "use_https",
})


def _is_local_url(url: str) -> bool:
    from tide.storage.registry import scheme_of

    return scheme_of(url) == "local" and not url.startswith("file://")


def _store_url(config: Config, level: str, url: str, cwd: str) -> str:
    """Relative local paths are written relative to the config file's directory (as dvc does)."""
    from tide.core.config import relative_to_config

    if not _is_local_url(url):
        return url
    return relative_to_config(url, os.path.dirname(os.path.abspath(config.path(level))), cwd)


def _exists_anywhere(config: Config, name: str) -> str | None:
    for level in reversed(LEVELS):
        if f"remote.{name}" in config.read_level(level):
            return level
    return None


def add(config: Config, name: str, url: str, level: str = DEFAULT_LEVEL, default: bool = False,
        force: bool = False, cwd: str | None = None) -> None:
    from tide.storage.registry import scheme_of

    name = name.lower()  # dvc lower-cases remote names

    _check_name(name)
    scheme_of(url)  # refuses unknown schemes
    ed = config.edit(level)
    section = f"remote.{name}"
    existing = ed.get_section(section)
    if existing is not None:
        if not force:
            raise ConfigError(f"remote '{name}' already exists; use -f/--force to overwrite it")
        for key in existing:  # dvc replaces the options but keeps the section where it was
            if key != "url":
                ed.unset(section, key)
    ed.set(section, "url", _store_url(config, level, url, cwd or os.getcwd()))
    if default:
        ed.set("core", "remote", name)
    ed.save()


def _check_name(name: str) -> None:
    if not name or any(c in name for c in '"[]\n\r\t') or name.strip() != name:
        raise UsageError(f"invalid remote name {name!r}")


def modify(config: Config, name: str, option: str, value: str | None, level: str = DEFAULT_LEVEL,
           unset: bool = False, cwd: str | None = None) -> None:
    from tide.storage.registry import check_option, scheme_of

    option, name = option.lower(), name.lower()
    where = _exists_anywhere(config, name)
    if where is None:
        raise ConfigError(f"remote '{name}' does not exist")
    url = config.merged().get(f"remote.{name}", {}).get("url")
    ed = config.edit(level)
    section = f"remote.{name}"
    if unset:
        if not ed.unset(section, option):
            raise ConfigError(f"option '{option}' of remote '{name}' is not set in {ed.path}")
        require_url(config, level, ed, name)
        ed.save()
        return
    if value is None:
        raise UsageError("give a value, or use -u/--unset to remove the option")
    if option == "url":
        scheme_of(value)
        value = _store_url(config, level, value, cwd or os.getcwd())
    elif option in PATH_KEYS["remote"]:
        value = relative_to_config(value, os.path.dirname(os.path.abspath(ed.path)), cwd or os.getcwd())
    elif url is not None:
        check_option(url, option)
    if option in ("jobs", "checksum_jobs", "port", "max_sessions") and to_int(value, option) < 1:
        raise ConfigError(f"option '{option}' must be a positive integer")
    if option in BOOL_OPTIONS:
        to_bool(value, option)
    ed.set(section, option, value)
    ed.save()


def _levels_upto(level: str) -> list[str]:
    """dvc's ``reversed(LEVELS)`` walk from ``local`` down to ``level`` (it rewrites each file)."""
    out = []
    for lv in reversed(LEVELS):
        out.append(lv)
        if lv == level:
            break
    return out


def _edit_if_possible(config: Config, level: str):
    """The editor of ``level``, or None outside a repository for the repository levels."""
    try:
        return config.edit(level)
    except ConfigError:
        if level in ("repo", "local") and config.dvc_dir is None:
            return None
        raise


def remove(config: Config, name: str, level: str = DEFAULT_LEVEL) -> None:
    name = name.lower()
    ed = config.edit(level)
    if not ed.remove_section(f"remote.{name}"):
        raise ConfigError(f"remote '{name}' does not exist in {ed.path}")
    ed.save()
    # a default naming the removed remote is unset at this level and every level shadowing it;
    # dvc rewrites each of those files (creating an empty .dvc/config.local): so does tide
    for lv in _levels_upto(level):
        other = _edit_if_possible(config, lv)
        if other is None:
            continue
        if (other.get_section("core") or {}).get("remote") == name:
            other.unset("core", "remote")
        other.save()


def rename(config: Config, old: str, new: str, level: str = DEFAULT_LEVEL) -> None:
    old, new = old.lower(), new.lower()
    _check_name(new)
    if _exists_anywhere(config, new):
        raise ConfigError(f"remote '{new}' already exists")
    ed = config.edit(level)
    if ed.get_section(f"remote.{old}") is None:
        raise ConfigError(f"remote '{old}' does not exist in {ed.path}")
    values = ed.get_section(f"remote.{old}") or {}
    ed.remove_section(f"remote.{old}")  # dvc re-adds the renamed remote at the end
    for k, v in values.items():
        ed.set(f"remote.{new}", k, v)
    if (ed.get_section("core") or {}).get("remote") == old:
        ed.set("core", "remote", new)
    ed.save()
    for lv in _levels_upto(level)[:-1]:  # the levels shadowing this one, rewritten as dvc does
        other = _edit_if_possible(config, lv)
        if other is None:
            continue
        if (other.get_section("core") or {}).get("remote") == old:
            other.set("core", "remote", new)
        other.save()


def require_url(config: Config, level: str, ed, name: str) -> None:
    """dvc refuses a config in which a remote has no url (its schema requires one)."""
    below = LEVELS[:LEVELS.index(level)]
    section = ed.get_section(f"remote.{name}")
    if section is None or "url" in section:
        return
    if any("url" in config.read_level(lv).get(f"remote.{name}", {}) for lv in below):
        return
    raise ConfigError(f"remote '{name}' would have no url: set one or remove the remote")


def set_default(config: Config, name: str | None, level: str = DEFAULT_LEVEL, unset: bool = False) -> None:
    if name is not None:
        name = name.lower()
    ed = config.edit(level)
    if unset:
        ed.unset("core", "remote")
        ed.save()
        return
    if name is None:
        raise UsageError("name a remote, or use --unset")
    if _exists_anywhere(config, name) is None:
        raise ConfigError(f"remote '{name}' does not exist")
    ed.set("core", "remote", name)
    ed.save()


def get_default(config: Config, level: str | None = None) -> str | None:
    if level:
        return config.read_level(level).get("core", {}).get("remote")
    return config.merged().get("core", {}).get("remote")


def listing(config: Config, level: str | None = None) -> list[tuple[str, str, bool]]:
    """``(name, url, is_default)`` for every remote visible at ``level`` (all levels merged if None)."""
    sections = config.read_level(level) if level else config.merged()
    default = get_default(config, level)
    out = []
    for sec, vals in sections.items():
        if sec.startswith("remote.") and "url" in vals:
            name = sec.split(".", 1)[1]
            out.append((name, vals["url"], default is not None and name.lower() == default.lower()))
    return out


# --- resolving a remote for data commands ---------------------------------------------------
# spec: the RemoteSpec; jobs: from the remote's ``jobs`` option (None if unset)
ResolvedRemote = namedtuple("ResolvedRemote", "spec jobs")


def locate(settings: dict[str, dict[str, str]], name: str | None) -> tuple[str, dict[str, str]]:
    """The configured name and options (``url`` among them) of remote ``name``, or of the default."""
    if not name:
        name = settings.get("core", {}).get("remote")
        if not name:
            raise ConfigError("no remote specified: set a default with 'tide remote add -d NAME URL' "
                              "(or 'tide remote default NAME'), or pass -r NAME")
    section = None
    for sec in settings:
        if sec.startswith("remote.") and sec.split(".", 1)[1].lower() == name.lower():
            section = sec
    if section is None:
        raise ConfigError(f"remote '{name}' does not exist (see 'tide remote list')")
    vals = settings[section]
    if "url" not in vals:
        raise ConfigError(f"remote '{name}' has no url (set it with 'tide remote modify {name} url URL')")
    return section.split(".", 1)[1], vals


def resolve(settings: dict[str, dict[str, str]], name: str | None) -> ResolvedRemote:
    from tide.storage.base import RemoteSpec

    found, vals = locate(settings, name)
    opts = tuple(sorted((k, v) for k, v in vals.items() if k != "url"))
    jobs = to_int(vals["jobs"], f"remote.{found}.jobs") if "jobs" in vals else None
    return ResolvedRemote(RemoteSpec(found, vals["url"], opts), jobs)
