"""DVC-compatible configuration (``.dvc/config``, ``.dvc/config.local``, global, system).

This is the only module that reads environment variables for settings. Files are INI in the
dialect of ``configobj`` (the library DVC itself uses), so dvc and tide read and write the same
bytes. Remote sections are named ``remote "NAME"`` on disk and ``remote.NAME`` in option names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import ConfigError

LEVELS = ("system", "global", "repo", "local")
_REMOTE_RE = re.compile(r'^\s*remote\s+"(?P<name>.*)"\s*$')

# Options DVC knows, per section; remote options are checked loosely (each backend has its own).
KNOWN = {
    "core": {
        "remote", "checksum_jobs", "interactive", "analytics", "hardlink_lock", "no_scm",
        "autostage", "check_update", "site_cache_dir",
    },
    "cache": {"dir", "type", "shared", "slow_link_warning", "verify", "protected", "local",
              "s3", "gs", "ssh", "hdfs", "azure"},
    "state": {"row_limit", "row_cleanup_quota", "dir"},
    "index": {"dir"},
    "plots": {"html_template", "out_dir", "auto_open"},
    "exp": {"code", "data", "models", "metrics", "params", "plots", "live"},
    "parsing": {"bool", "list"},
    "hydra": {"enabled", "config_dir", "config_name", "plugins_path"},
    "studio": {"token", "url", "repo_url", "offline"},
    "feature": {"machine", "push_exp_to_studio"},
    "db": set(),
    "machine": set(),
}
CACHE_TYPES = ("reflink", "hardlink", "symlink", "copy")
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


def to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ConfigError(f"config option '{name}' must be a boolean, got '{value}'")


def to_int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"config option '{name}' must be an integer, got '{value}'")


@dataclass(frozen=True)
class Env:
    """The environment values tide's settings depend on, read once."""

    values: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def config_dir(self, level: str) -> str:
        if level == "global":
            d = self.get("DVC_GLOBAL_CONFIG_DIR")
            if d:
                return d
            xdg = self.get("XDG_CONFIG_HOME") or os.path.join(self.get("HOME") or os.path.expanduser("~"), ".config")
            return os.path.join(xdg, "dvc")
        d = self.get("DVC_SYSTEM_CONFIG_DIR")
        return d or "/etc/xdg/dvc"


def _section_key(name: str) -> str:
    m = _REMOTE_RE.match(name)
    if m:
        return "remote." + m.group("name")
    m = re.match(r'^\s*(\w+)\s+"(?P<name>.*)"\s*$', name)
    if m:
        return f"{m.group(1)}.{m.group('name')}"
    return name.strip().lower()


def _disk_section(key: str) -> str:
    if "." in key:
        kind, name = key.split(".", 1)
        return f'{kind} "{name}"'
    return key


@dataclass
class Config:
    """Config of one repository (``dvc_dir`` may be None outside a repo)."""

    dvc_dir: str | None
    env: Env = field(default_factory=Env)

    def path(self, level: str) -> str:
        if level in ("repo", "local"):
            if self.dvc_dir is None:
                raise ConfigError(f"--{'project' if level == 'repo' else 'local'} needs a repository")
            return os.path.join(self.dvc_dir, "config" if level == "repo" else "config.local")
        return os.path.join(self.env.config_dir(level), "config")

    def read_level(self, level: str) -> dict[str, dict[str, str]]:
        """The sections of one level as ``{"core": {...}, "remote.NAME": {...}}`` (keys lower-case)."""
        path = self.path(level) if (level not in ("repo", "local") or self.dvc_dir) else None
        if not path or not os.path.exists(path):
            return {}
        from configobj import ConfigObj, ConfigObjError

        try:
            co = ConfigObj(path, encoding="utf-8", list_values=True, interpolation=False)
        except (ConfigObjError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(f"{path}: malformed config file: {str(exc).splitlines()[0]}")
        out: dict[str, dict[str, str]] = {}
        for name, section in co.items():
            if not isinstance(section, Mapping):
                raise ConfigError(f"{path}: option '{name}' is outside any section")
            key = _section_key(name)
            vals: dict[str, str] = {}
            for k, v in section.items():
                if isinstance(v, Mapping):
                    raise ConfigError(f"{path}: nested section '{k}' is not allowed")
                if isinstance(v, list):
                    v = ",".join(v)
                if k.lower() in ("url", "dir", "credentialpath", "keyfile", "configpath",
                                 "gdrive_service_account_json_file_path", "gdrive_user_credentials_file"):
                    v = self._resolve_path(level, v)
                vals[k.lower()] = v
            out.setdefault(key, {}).update(vals)
        return out

    def _resolve_path(self, level: str, value: str) -> str:
        if "://" in value or os.path.isabs(value) or not value:
            return value
        if re.match(r"^[A-Za-z][\w+.-]*://", value):
            return value
        return os.path.normpath(os.path.join(os.path.dirname(self.path(level)), value))

    def merged(self, upto: str = "local") -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for level in LEVELS:
            for sec, vals in self.read_level(level).items():
                out.setdefault(sec, {}).update(vals)
            if level == upto:
                break
        if "core" in out and "remote" in out["core"]:
            out["core"]["remote"] = out["core"]["remote"].lower()
        return out

    def get(self, name: str, default: Any = None) -> Any:
        section, key = split_name(name)
        return self.merged().get(section, {}).get(key, default)

    # --- writing -------------------------------------------------------------------------
    def edit(self, level: str) -> ConfigEditor:
        return ConfigEditor(self, level)


def split_name(name: str) -> tuple[str, str]:
    parts = name.split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"'{name}' is not a valid option name: use SECTION.OPTION (e.g. core.remote)")
    if parts[0] in ("remote", "machine", "db") and len(parts) >= 3:
        return f"{parts[0]}.{'.'.join(parts[1:-1])}", parts[-1].lower()
    if len(parts) != 2:
        raise ConfigError(f"'{name}' is not a valid option name")
    section, key = parts[0].lower(), parts[1].lower()
    if section not in KNOWN:
        raise ConfigError(f"unknown config section '{section}'")
    if KNOWN[section] and key not in KNOWN[section]:
        raise ConfigError(f"unknown config option '{name}'")
    return section, key


class ConfigEditor:
    """Read-modify-write of one config file, preserving comments and order (configobj round trip)."""

    def __init__(self, config: Config, level: str) -> None:
        from configobj import ConfigObj, ConfigObjError

        self.path = config.path(level)
        try:
            self.co = ConfigObj(
                self.path if os.path.exists(self.path) else None,
                encoding="utf-8", interpolation=False, write_empty_values=True,
            )
        except (ConfigObjError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: malformed config file: {str(exc).splitlines()[0]}")
        self.co.filename = self.path
        self.co.indent_type = "    "

    def _find(self, section: str) -> str | None:
        for name in self.co:
            if _section_key(name) == section:
                return name
        return None

    def sections(self) -> list[str]:
        return [_section_key(n) for n in self.co]

    def get_section(self, section: str) -> dict[str, str] | None:
        name = self._find(section)
        return None if name is None else dict(self.co[name])

    def set(self, section: str, key: str, value: str) -> None:
        name = self._find(section)
        if name is None:
            name = _disk_section(section)
            self.co[name] = {}
        self.co[name][key] = value

    def unset(self, section: str, key: str) -> bool:
        name = self._find(section)
        if name is None or key not in self.co[name]:
            return False
        del self.co[name][key]
        if not self.co[name]:
            del self.co[name]
        return True

    def remove_section(self, section: str) -> bool:
        name = self._find(section)
        if name is None:
            return False
        del self.co[name]
        return True

    def rename_section(self, old: str, new: str) -> None:
        name = self._find(old)
        if name is None:
            return
        self.co.rename(name, _disk_section(new))

    def save(self) -> None:
        from io import BytesIO

        from tide.core.fsutil import atomic_write_bytes

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        buf = BytesIO()
        self.co.write(buf)
        atomic_write_bytes(self.path, buf.getvalue())
