"""Reading ``dvc.lock`` (schema 2.0) outputs, for commands that need every tracked output."""

from __future__ import annotations

import os

from tide.core import dvcschema, yamlio
from tide.core.errors import TideError
from tide.workspace.pointers import Out, parse_out

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

LOCK_NAME = "dvc.lock"


def parse_lock(data: Any, root: str, lock_path: str, where: str | None = None,
               wdirs: dict[str, str] | None = None) -> list[tuple[str, Out]]:
    """``(stage name, Out)`` for every output recorded in a parsed dvc.lock (checked against dvc's
    schema first: a file dvc refuses, such as one with a misspelt key, is refused whole).

    dvc records paths relative to the stage's ``wdir`` (from dvc.yaml): ``wdirs`` maps stage names to
    absolute working directories; a stage not in it works in the lock file's directory."""
    where = where or os.path.relpath(lock_path, root)
    dvcschema.check_lock(data, where)
    stages = data.get("stages") or {}
    base = os.path.dirname(lock_path)
    wdirs = wdirs or {}
    result: list[tuple[str, Out]] = []
    for name, stage in stages.items():  # the schema made each a mapping with lists of mappings
        for item in stage.get("outs") or []:
            result.append((name, parse_out(item, root, wdirs.get(name, base), f"{where}:{name}")))
    return result


def stage_wdirs(lock_path: str, root: str) -> dict[str, str]:
    """Working directories of the stages of the dvc.yaml beside ``lock_path`` that set ``wdir``."""
    from tide.pipeline import definition

    yaml_path = os.path.join(os.path.dirname(lock_path), definition.YAML_NAME)
    try:
        with open(yaml_path, encoding="utf-8", errors="replace") as f:
            if "wdir" not in f.read():  # most pipelines: no need to resolve the whole file
                return {}
    except FileNotFoundError:
        return {}
    return {s.name: s.wdir for s in definition.load(yaml_path, root).stages if s.raw_wdir not in (None, ".")}


def counted_outs(data: Any, root: str, lock_path: str, where: str | None = None,
                 reader: Any = None) -> list[tuple[str, Out]]:
    """``(stage, Out)`` of the outputs a parsed dvc.lock records that count, as in dvc, which takes a
    stage's outputs from dvc.yaml and only their hashes from dvc.lock (``StageLoader.fill_from_lock``):
    an output (or a whole stage) the lock lists but the dvc.yaml beside it (read through ``reader``, a
    ``definition.Reader``) no longer declares is none (no status, transfer or checkout; gc lets its
    object go); one declared ``cache: false`` is flagged so (dvc.lock does not record that flag). Paths
    resolve against each stage's ``wdir``. A dvc.yaml that exists but cannot be read keeps every output
    the lock lists, as cached (gc keeps more); no dvc.yaml at all: none counts (dvc sees no stage)."""
    from tide.pipeline.definition import YAML_NAME, WorkspaceReader, parse

    yaml_path = os.path.join(os.path.dirname(lock_path), YAML_NAME)
    reader = reader or WorkspaceReader()
    declared: dict[tuple[str, str], bool] | None = None
    wdirs: dict[str, str] = {}
    try:
        text = reader.read_text(yaml_path)
        if text is None:
            return []
        where_yaml = os.path.relpath(yaml_path, root).replace(os.sep, "/")
        pipe = parse(yamlio.loads(text, where_yaml), yaml_path, root, reader)
        declared = {(s.name, o.abspath): o.cache for s in pipe.stages for o in s.outs}
        wdirs = {s.name: s.wdir for s in pipe.stages}
    except TideError:
        pass
    found = []
    for st, o in parse_lock(data, root, lock_path, where, wdirs):
        if declared is not None:
            cache = declared.get((st, o.abspath))
            if cache is None:
                continue
            if not cache and o.use_cache:
                o = o.replace(extra={**o.extra, "cache": False})
        found.append((st, o))
    return found


def read_entries(lock_path: str, root: str) -> dict[str, dict[str, Any]]:
    """Every stage entry of a dvc.lock (``{}`` when the file does not exist)."""
    if not os.path.exists(lock_path):
        return {}
    where = os.path.relpath(lock_path, root)
    data = yamlio.load_file(lock_path, where)
    dvcschema.check_lock(data, where)
    return dict(data.get("stages") or {})


def write_entry(lock_path: str, root: str, name: str, entry: dict[str, Any]) -> tuple[bool, bool]:
    """Record one stage in dvc.lock the way dvc does: an existing entry is replaced where it is,
    a new one goes at the end; the file is replaced atomically. Returns ``(generated, modified)``: the
    file did not exist, the stage's entry differs from the one recorded (dvc logs "Generating lock
    file" and "Updating lock file" on these, and asks git to track the file only when modified)."""
    from tide.core.fsutil import atomic_write_text
    from tide.core.yamlstyle import dumps

    generated = not os.path.exists(lock_path)
    stages = read_entries(lock_path, root)
    modified = stages.get(name) != entry
    stages[name] = entry
    atomic_write_text(lock_path, dumps({"schema": "2.0", "stages": stages}))
    return generated, modified


def remove_entry(lock_path: str, root: str, name: str) -> None:
    """One stage out of dvc.lock; a lock file left with no stage is deleted, as dvc does."""
    from tide.core.fsutil import atomic_write_text
    from tide.core.yamlstyle import dumps

    stages = read_entries(lock_path, root)
    if name in stages:
        del stages[name]
        if not stages:  # as dvc: a lock file left without stages is deleted
            os.unlink(lock_path)
            return
        atomic_write_text(lock_path, dumps({"schema": "2.0", "stages": stages}))
