"""YAML reading and writing in the style DVC writes (block style, keys in insertion order).

Reading uses PyYAML's C loader when available: any valid YAML is accepted, like DVC's safe loader.
Writing produces what ruamel.yaml (DVC's writer) produces for the same data: 2-space maps, list
items not indented under their key, plain scalars unless quoting is needed.
"""

from __future__ import annotations

import os

from tide.core.errors import FileFormatError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def _yaml():
    import yaml

    return yaml


def loads(text: str, where: str) -> Any:
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise FileFormatError(f"{where}: invalid YAML{loc}: {problem}")


def load_file(path: str | os.PathLike[str], where: str | None = None) -> Any:
    where = where or os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise FileFormatError(f"{where}: not valid UTF-8 text")
    return loads(text, where)


def dumps(data: Any) -> str:
    """``data`` as dvc (ruamel.yaml, YAML 1.2, width 80) would write it."""
    from tide.core.yamlstyle import dumps as dvc_dumps

    return dvc_dumps(data)
