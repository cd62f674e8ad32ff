"""DVC-compatible configuration (``.dvc/config``, ``.dvc/config.local``, global, system).

This is the only module that reads environment variables for settings. Files are INI in the
dialect of ``configobj`` (the library DVC itself uses), so dvc and tide read and write the same
bytes. Remote sections are named ``remote "NAME"`` on disk and ``remote.NAME`` in option names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from tide.core.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

LEVELS = ("system", "global", "repo", "local")

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
    "hydra": {"enabled", "config_dir", "config_module", "config_name", "plugins_path"},
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


class Env:
    """The environment values tide's settings depend on, read once."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values: Mapping[str, str] = dict(os.environ) if values is None else values

    def __repr__(self) -> str:
        return "Env(...)"  # never print the values: they hold credentials

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Env) and dict(self.values) == dict(other.values)

    __hash__ = None  # type: ignore[assignment]

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


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_NOT_PLAIN = frozenset(" \t\"',#")


def _read_simple(raw: bytes) -> dict[str, dict[str, str]] | None:
    """The sections of a config file in the plain form dvc writes (``[core]``,
    ``['remote "name"']``, ``    key = value`` with an unquoted value free of spaces and commas,
    ``#`` comment lines), as configobj would read it; None for anything else (configobj decides).
    Importing configobj costs more than the rest of a no-change ``tide status``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text or "\t" in text or text.startswith("\ufeff"):
        return None
    out: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for line in text.split("\n"):
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        if body[0] != "[":
            key, sep, value = body.partition(" = ")
            if (section is None or not sep or not _is_word(key) or key in section or not value
                    or not _NOT_PLAIN.isdisjoint(value)):
                return None
            section[key] = value
            continue
        name = _simple_section(body)
        if name is None or name in out:
            return None
        section = out[name] = {}
    return out


def _is_word(text: str) -> bool:
    return text.isascii() and text.isidentifier()


def _simple_section(line: str) -> str | None:
    """``core`` for ``[core]``, ``remote "x"`` for ``['remote "x"']``; None for other forms."""
    if not line.endswith("]"):
        return None
    inner = line[1:-1]
    if _is_word(inner) and inner.islower():
        return inner
    if len(inner) < 2 or inner[0] != "'" or inner[-1] != "'":
        return None
    kind, _, quoted = inner[1:-1].partition(" ")
    name = quoted[1:-1]
    if (kind not in ("remote", "machine", "db") or len(quoted) < 3 or quoted[0] != '"' or quoted[-1] != '"'
            or not _NAME_CHARS.issuperset(name)):
        return None
    return f'{kind} "{name}"'


def _section_key(name: str) -> str:
    """``remote.NAME`` for a section ``remote "NAME"`` (any ``KIND "NAME"`` likewise), else the name."""
    if '"' in name:
        parts = name.strip().split(None, 1)
        if len(parts) == 2:
            kind, quoted = parts[0], parts[1].rstrip()
            if (len(quoted) >= 2 and quoted[0] == '"' and quoted[-1] == '"'
                    and all(c.isalnum() or c == "_" for c in kind)):
                return f"{kind.lower()}.{quoted[1:-1].lower()}"  # dvc lower-cases every name
    return name.strip().lower()


def _disk_section(key: str) -> str:
    if "." in key:
        kind, name = key.split(".", 1)
        return f'{kind} "{name}"'
    return key


class Config:
    """Config of one repository (``dvc_dir`` may be None outside a repo)."""

    __slots__ = ("dvc_dir", "env")

    def __init__(self, dvc_dir: str | None, env: Env | None = None) -> None:
        self.dvc_dir = dvc_dir
        self.env = env if env is not None else Env()

    def path(self, level: str) -> str:
        if level in ("repo", "local"):
            if self.dvc_dir is None:
                raise ConfigError(f"--{'project' if level == 'repo' else 'local'} needs a repository")
            return os.path.join(self.dvc_dir, "config" if level == "repo" else "config.local")
        return os.path.join(self.env.config_dir(level), "config")

    def read_level(self, level: str) -> dict[str, dict[str, str]]:
        """The sections of one level as ``{"core": {...}, "remote.NAME": {...}}`` (keys lower-case)."""
        path = self.path(level) if (level not in ("repo", "local") or self.dvc_dir) else None
        if not path:
            return {}
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}")
        co = _read_simple(raw)
        if co is None:  # anything beyond the plain form dvc writes: configobj decides
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


# dvc's config schema order: a section a command creates goes after the file's own sections, in this
# order; named sections (``remote "x"``, ``machine "x"``, ``db "x"``) always come last, remotes first.
_SCHEMA_ORDER = ("core", "cache", "state", "index", "feature", "plots", "exp", "parsing", "hydra", "studio")
_NAMED_ORDER = ("remote", "machine", "db")
# options holding local paths: dvc writes them relative to the config file's directory
PATH_KEYS = {
    "cache": ("dir",),
    "remote": ("url", "gdrive_user_credentials_file", "gdrive_service_account_json_file_path",
               "credentialpath", "configpath", "keyfile", "cert_path", "key_path"),
    "machine": ("startup_script", "setup_script"),
}


def _named_kind(section_key: str) -> str | None:
    kind = section_key.split(".", 1)[0] if "." in section_key else None
    return kind if kind in _NAMED_ORDER else None


class ConfigEditor:
    """Read-modify-write of one config file (configobj round trip, comments kept) that writes the
    bytes dvc writes: dvc (dvc/config.py ``Config.edit``) loads the file into a dict with lower-cased
    names, the named sections gathered first and the schema's missing sections appended, and writes
    ``compact(conf)`` with the named sections moved to the end. So: the file's own plain sections
    keep their order, a new plain section goes after them (schema order), empty plain sections are
    dropped, remote/machine/db sections come last (an empty one is kept)."""

    def __init__(self, config: Config, level: str) -> None:
        from configobj import ConfigObj, ConfigObjError

        self.path = config.path(level)
        try:
            self.co = ConfigObj(
                self.path if os.path.exists(self.path) else None,
                encoding="utf-8", interpolation=False, write_empty_values=False,
            )
        except (ConfigObjError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: malformed config file: {str(exc).splitlines()[0]}")
        self.co.filename = self.path
        self.co.indent_type = "    "
        self._lower_names()
        self.loaded = frozenset(_section_key(n) for n in self.co.sections)

    def _lower_names(self) -> None:
        """dvc lower-cases section and option names when it loads a file (``_lower_keys``)."""
        for name in list(self.co.sections):
            disk = _disk_section(_section_key(name.lower()))
            if disk != name:
                if disk in self.co:  # the later duplicate wins, in the earlier one's place
                    self.co[disk].clear()
                    self.co[disk].update(self.co[name])
                    del self.co[name]
                else:
                    self.co.rename(name, disk)
            sec = self.co[disk]
            if isinstance(sec, Mapping):
                for key in list(sec.scalars):
                    if key != key.lower():
                        if key.lower() in sec:
                            sec[key.lower()] = sec[key]
                            del sec[key]
                        else:
                            sec.rename(key, key.lower())

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
        del self.co[name][key]  # an emptied plain section is dropped when saved, a named one kept
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

    def _normalize(self) -> None:
        plain, named = [], []
        for name in self.co.sections:
            key = _section_key(name)
            if _named_kind(key):
                named.append(name)
            elif self.co[name]:
                plain.append(name)
        for name in [n for n in self.co.sections if n not in plain and n not in named]:
            del self.co[name]  # configobj keeps the comments of a deleted section: drop them too
            self.co.comments.pop(name, None)
            self.co.inline_comments.pop(name, None)

        def new_rank(name: str) -> int:
            key = _section_key(name)
            return _SCHEMA_ORDER.index(key) if key in _SCHEMA_ORDER else len(_SCHEMA_ORDER)

        old = [n for n in plain if _section_key(n) in self.loaded]
        new = sorted((n for n in plain if _section_key(n) not in self.loaded), key=new_rank)
        named.sort(key=lambda n: _NAMED_ORDER.index(_named_kind(_section_key(n)) or "remote"))
        self.co.sections[:] = old + new + named
        # dvc writes no blank lines (it drops comments too; tide keeps '#' comment lines)
        self.co.initial_comment[:] = [c for c in self.co.initial_comment if c.strip()]
        self.co.final_comment[:] = [c for c in self.co.final_comment if c.strip()]
        for sec in [self.co] + [self.co[n] for n in self.co.sections]:
            for key, lines in sec.comments.items():
                sec.comments[key] = [c for c in lines if c.strip()]
        conf_dir = os.path.dirname(os.path.abspath(self.path))
        for name in self.co.sections:
            key = _section_key(name)
            for opt in PATH_KEYS.get(_named_kind(key) or key, ()):
                value = self.co[name].get(opt)
                if isinstance(value, str):
                    self.co[name][opt] = relative_to_config(value, conf_dir)

    def save(self) -> None:
        from io import BytesIO

        from tide.core.fsutil import atomic_write_bytes

        self._normalize()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        buf = BytesIO()
        self.co.write(buf)
        atomic_write_bytes(self.path, buf.getvalue())


def relative_to_config(value: str, conf_dir: str, cwd: str | None = None) -> str:
    """A path option as dvc writes it (``Config._to_relpath``): URLs, absolute and ``~`` paths as
    given, a relative path relative to the config file's directory (``cwd`` is what a new value
    is relative to; a value read from the file is relative to ``conf_dir`` already)."""
    import re

    if not value or re.match(r"\w+://", value) or os.path.isabs(value) or os.path.expanduser(value) != value:
        return value
    absolute = os.path.abspath(os.path.join(cwd if cwd is not None else conf_dir, value))
    return os.path.relpath(absolute, conf_dir).replace(os.sep, "/")
