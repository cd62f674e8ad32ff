"""The checks every ``tide.yaml`` section reader shares, without ``settings``'s dataclasses (a
command that only needs one section, such as ``status -c`` reading a remote's format, imports
this and not ``dataclasses``/``inspect``). ``tide.core.settings`` re-exports them."""

from __future__ import annotations

from tide.core.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

FILE_NAME = "tide.yaml"


def typed(section: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    value = section.get(key, default)
    if value is None:
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{FILE_NAME}: '{where}.{key}' must be a {names}, got {value!r}")
    return value


def only_keys(section: dict[str, Any], allowed: set[str], where: str) -> None:
    bad = sorted(set(section) - allowed)
    if bad:
        raise ConfigError(f"{FILE_NAME}: unknown key '{where}.{bad[0]}' (known: {', '.join(sorted(allowed))})")


def section(data: dict[str, Any], name: str) -> dict[str, Any]:
    """``Settings.section`` of the mapping ``data``."""
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{FILE_NAME}: '{name}' must be a mapping")
    return value
