"""Reading ``dvc.lock`` (schema 2.0) outputs, for commands that need every tracked output."""

from __future__ import annotations

import os

from tide.core import yamlio
from tide.core.errors import FileFormatError
from tide.workspace.pointers import Out, _parse_out

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

LOCK_NAME = "dvc.lock"


def parse_lock(data: Any, root: str, lock_path: str) -> list[tuple[str, Out]]:
    """``(stage name, Out)`` for every output recorded in a parsed dvc.lock."""
    where = os.path.relpath(lock_path, root)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise FileFormatError(f"{where}: expected a mapping")
    stages = data.get("stages", {}) if "schema" in data else data
    if not isinstance(stages, dict):
        raise FileFormatError(f"{where}: 'stages' must be a mapping")
    base = os.path.dirname(lock_path)
    result: list[tuple[str, Out]] = []
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            raise FileFormatError(f"{where}: stage '{name}' must be a mapping")
        wdir = stage.get("wdir", ".")
        outs = stage.get("outs", [])
        if not isinstance(outs, list):
            raise FileFormatError(f"{where}: stage '{name}': 'outs' must be a list")
        stage_dir = os.path.normpath(os.path.join(base, wdir if isinstance(wdir, str) else "."))
        for item in outs:
            result.append((str(name), _parse_out(item, root, stage_dir, f"{where}:{name}")))
    return result


def lock_outputs(root: str, lock_paths: list[str]) -> list[tuple[str, str, Out]]:
    """``(lock file, stage, Out)`` for every output in the given dvc.lock files."""
    result = []
    for p in lock_paths:
        data = yamlio.load_file(p, os.path.relpath(p, root))
        for stage, out in parse_lock(data, root, p):
            result.append((p, stage, out))
    return result


def read_entries(lock_path: str, root: str) -> dict[str, dict[str, Any]]:
    """Every stage entry of a dvc.lock (``{}`` when the file does not exist)."""
    if not os.path.exists(lock_path):
        return {}
    from tide.core.yamlstyle import load_file

    where = os.path.relpath(lock_path, root)
    data = load_file(lock_path, where)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FileFormatError(f"{where}: expected a mapping")
    stages = data.get("stages", {}) if "schema" in data else data
    if not isinstance(stages, dict):
        raise FileFormatError(f"{where}: 'stages' must be a mapping")
    return {str(k): v for k, v in stages.items() if isinstance(v, dict)}


def write_entry(lock_path: str, root: str, name: str, entry: dict[str, Any]) -> None:
    """Record one stage in dvc.lock the way dvc does: an existing entry is replaced where it is,
    a new one goes at the end; the file is replaced atomically."""
    from tide.core.fsutil import atomic_write_text
    from tide.core.yamlstyle import dumps

    stages = read_entries(lock_path, root)
    stages[name] = entry
    atomic_write_text(lock_path, dumps({"schema": "2.0", "stages": stages}))


def remove_entry(lock_path: str, root: str, name: str) -> None:
    from tide.core.fsutil import atomic_write_text
    from tide.core.yamlstyle import dumps

    stages = read_entries(lock_path, root)
    if name in stages:
        del stages[name]
        atomic_write_text(lock_path, dumps({"schema": "2.0", "stages": stages}))
