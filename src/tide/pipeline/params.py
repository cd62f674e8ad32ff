"""Parameter files (YAML, JSON, TOML, Python) and dotted-key lookup, as dvc reads them."""

from __future__ import annotations

import os

from tide.core.errors import FileFormatError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time of exp show)
if TYPE_CHECKING:
    import ast
    from typing import Any

DEFAULT_PARAMS = "params.yaml"
SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".py")


def parse_text(text: str, name: str, where: str) -> Any:
    """Parse a params/metrics file's text by its extension."""
    ext = os.path.splitext(name)[1].lower()
    if ext == ".json":
        import json  # (deferred: json pulls in re, ~4 ms of every command that reads a pipeline)

        try:
            return json.loads(text)  # an empty file too is corrupt, as dvc's parse_json (YAML/TOML: {})
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{where}: invalid JSON (line {exc.lineno}): {exc.msg}")
        except RecursionError:  # found by fuzzing, as the cases below
            raise FileFormatError(f"{where}: invalid JSON: nested too deeply")
    if ext == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FileFormatError(f"{where}: invalid TOML: {exc}")
        except RecursionError:
            raise FileFormatError(f"{where}: invalid TOML: nested too deeply")
    if ext == ".py":
        return _python_params(text, where)
    from tide.core.yamlio import loads

    data = loads(text, where)
    return {} if data is None else data


def load_file(path: str, where: str | None = None) -> Any:
    from tide.core import utf8

    where = where or path
    return parse_text(utf8.read(path, where), path, where)


def _python_params(text: str, where: str) -> dict[str, Any]:
    """Module-level constants and class attributes of a Python file (dvc's ``.py`` params)."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise FileFormatError(f"{where}: invalid Python (line {exc.lineno}): {exc.msg}")
    except (RecursionError, MemoryError):
        raise FileFormatError(f"{where}: invalid Python: nested too deeply")

    def assigns(body: list[ast.stmt]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for node in body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                name, value = node.target.id, node.value
            elif isinstance(node, ast.ClassDef):
                out[node.name] = assigns(node.body)
                continue
            else:
                continue
            try:
                out[name] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                continue  # not a literal, or one that cannot be built ({[]: 1}): not a param
        return out

    return assigns(tree.body)


_MISSING = object()


def get_path(data: Any, key: str) -> Any:
    """``data["a"]["b"]`` for ``a.b``; list items by index (``a.0``). Returns ``_MISSING`` if absent."""
    cur = data
    for part in key.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def has_path(data: Any, key: str) -> bool:
    return get_path(data, key) is not _MISSING


def select(data: Any, keys: list[str] | None) -> dict[str, Any]:
    """Values recorded in dvc.lock: the whole file for ``None``/``[]``, else ``{dotted key: value}``."""
    if not keys:
        return data if isinstance(data, dict) else {}
    out: dict[str, Any] = {}
    for k in keys:
        v = get_path(data, k)
        if v is not _MISSING:
            out[k] = v
    return out


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists are leaves)."""
    out: dict[str, Any] = {}
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out
