"""``${...}`` interpolation in dvc.yaml, with the semantics of dvc's parser.

* A string that is exactly one ``${expr}`` takes the value with its type (a list stays a list).
* Inside a longer string values are converted to text: booleans as ``true``/``false``; in ``cmd``
  a mapping becomes ``--key value`` flags and a list its items separated by spaces.
* ``expr`` is a dotted path with optional indexes: ``train.lr``, ``models[0]``, ``item.m``.
* ``\\${`` is a literal ``${``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tide.core.errors import FileFormatError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# patterns for ``re``'s functions (its own cache compiles each once): ``re`` is imported only where a
# string holds ``${`` (it and typing were ~7 ms of every command that reads a dvc.yaml without any)
_EXPR = r"(?<!\\)\$\{\s*([^{}]*?)\s*\}"
_PART = r"([^.\[\]]+)|\[(\d+)\]"
_OPEN = r"(?<!\\)\$\{"


class InterpolationError(FileFormatError):
    pass


def lookup(ctx: Mapping[str, Any], expr: str) -> Any:
    import re

    if not expr or not re.fullmatch(r"[^.\[\]]+(?:\.[^.\[\]]+|\[\d+\])*", expr):
        raise InterpolationError(f"invalid expression '${{{expr}}}'")
    cur: Any = ctx
    done = ""
    for m in re.finditer(_PART, expr):
        key, idx = m.group(1), m.group(2)
        if key is not None:
            if isinstance(cur, Mapping) and key in cur:
                cur = cur[key]
            elif isinstance(cur, list) and key.isdigit() and int(key) < len(cur):
                cur = cur[int(key)]
            else:
                raise InterpolationError(f"'{done + key}' is not defined" if not done
                                         else f"'{done}' has no key '{key}'")
            done = done + key if not done else f"{done}.{key}"
        else:
            i = int(idx)
            if not isinstance(cur, list) or i >= len(cur):
                raise InterpolationError(f"'{done}' has no item [{i}]")
            cur = cur[i]
            done = f"{done}[{i}]"
    return cur


def has_expr(value: str) -> bool:
    import re

    return "${" in value and bool(re.search(_EXPR, value))


def _to_text(value: Any, expr: str, in_cmd: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, (str, int, float)):
        return str(value)
    if in_cmd and isinstance(value, Mapping):
        parts = []
        for k, v in value.items():
            if isinstance(v, bool):
                if v:
                    parts.append(f"--{k}")
            elif isinstance(v, list):
                parts.append(f"--{k} " + " ".join(_to_text(x, expr, True) for x in v))
            else:
                parts.append(f"--{k} {_to_text(v, expr, True)}")
        return " ".join(parts)
    if in_cmd and isinstance(value, list):
        return " ".join(_to_text(x, expr, True) for x in value)
    kind = "a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, list) else type(value).__name__
    raise InterpolationError(f"'${{{expr}}}' is {kind} and cannot be put inside a string")


def resolve_str(text: str, ctx: Mapping[str, Any], in_cmd: bool = False) -> Any:
    if "${" not in text:
        return text
    import re

    whole = re.fullmatch(_EXPR, text)
    if whole:
        return lookup(ctx, whole.group(1))
    starts = [m.start() for m in re.finditer(_EXPR, text)]
    for m in re.finditer(_OPEN, text):  # as dvc's parser: '${' whose expression holds another '${...}' is an error
        p = m.start()
        close = text.find("}", p)
        if p not in starts and close != -1 and any(p < st < close for st in starts):
            raise InterpolationError(f"failed to parse '{text}': nested interpolation at column {p + 1}")
    out = re.sub(_EXPR, lambda m: _to_text(lookup(ctx, m.group(1)), m.group(1), in_cmd), text)
    return out.replace("\\${", "${")


def resolve(value: Any, ctx: Mapping[str, Any], in_cmd: bool = False) -> Any:
    """Interpolate every string (and mapping key) inside ``value``."""
    if isinstance(value, str):
        return resolve_str(value, ctx, in_cmd)
    if isinstance(value, list):
        return [resolve(v, ctx, in_cmd) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = resolve_str(k, ctx) if isinstance(k, str) else k
            out[str(key) if not isinstance(key, (str, int, float, bool)) else key] = resolve(v, ctx, in_cmd)
        return out
    return value


def merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Merge ``new`` into the context ``into`` (mappings recursively; later values win)."""
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v
