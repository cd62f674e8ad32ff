"""A stage's recorded state (its dvc.lock entry) against the workspace: hashing deps, params and
outs into a lock entry in dvc's exact shape, and dvc's status vocabulary for the differences."""

from __future__ import annotations

import os

from tide.core import manifest
from tide.core.errors import FileFormatError, MissingError, PipelineError
from tide.core.values import Value
from tide.objects.cache import ObjectCache
from tide.pipeline import params as params_mod
from tide.pipeline.definition import DepDef, OutDef, ParamsDep, Stage
from tide.workspace.hashing import Hasher, HashResult

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def _rel(root: str, p: str) -> str:
    return os.path.relpath(p, root).replace(os.sep, "/")


def hash_entry(path: str, res: HashResult) -> dict[str, Any]:
    """``path, hash, md5, size, nfiles, isexec`` in dvc.lock's key order."""
    d: dict[str, Any] = {"path": path, "hash": "md5", "md5": res.md5, "size": res.size}
    if res.nfiles is not None:
        d["nfiles"] = res.nfiles
    elif res.isexec:
        d["isexec"] = True
    return d


def read_params(dep: ParamsDep, root: str, strict: bool = True) -> dict[str, Any] | None:
    """Values of ``dep`` as dvc.lock records them, or ``None`` if the file is missing."""
    if not os.path.exists(dep.abspath):
        if strict:
            raise MissingError(f"parameters file '{_rel(root, dep.abspath)}' does not exist")
        return None
    if os.path.isdir(dep.abspath):
        raise FileFormatError(f"'{_rel(root, dep.abspath)}' is a directory, expected a parameters file")
    data = params_mod.load_file(dep.abspath, _rel(root, dep.abspath))
    values = params_mod.select(data, list(dep.keys) if dep.keys else None)
    if strict and dep.keys:
        missing = [k for k in dep.keys if k not in values]
        if missing:
            raise PipelineError(
                f"parameters {', '.join(repr(m) for m in missing)} are missing from '{_rel(root, dep.abspath)}'"
            )
    return values


def params_entry(stage: Stage, root: str) -> dict[str, dict[str, Any]]:
    """``params:`` of a lock entry: params.yaml first, then other files by name; keys sorted."""
    out: dict[str, dict[str, Any]] = {}
    for dep in sorted(stage.params, key=lambda d: d.path):
        values = read_params(dep, root) or {}
        kv = {k: values[k] for k in sorted(values)}
        out[dep.path] = kv
    if params_mod.DEFAULT_PARAMS in out:
        out = {params_mod.DEFAULT_PARAMS: out.pop(params_mod.DEFAULT_PARAMS), **out}
    return out


def _hashed_entries(
    stage: Stage, items: tuple[DepDef, ...] | tuple[OutDef, ...], what: str, root: str, hasher: Hasher
) -> list[dict[str, Any]]:
    """Lock entries of the stage's deps or outs (``what`` names them in errors), sorted by path."""
    out = []
    for item in sorted(items, key=lambda i: i.path):
        try:
            res = hasher.hash_path(item.abspath, want_files=False)  # the oid, size and count only
        except MissingError:
            raise MissingError(f"stage '{stage.addressing}': {what} '{_rel(root, item.abspath)}' does not exist")
        out.append(hash_entry(item.path, res))
    return out


def current_entry(stage: Stage, root: str, hasher: Hasher, with_outs: bool = True) -> dict[str, Any]:
    """The lock entry the stage has now (deps hashed; outs hashed if ``with_outs``)."""
    entry: dict[str, Any] = {"cmd": stage.cmd}
    deps = _hashed_entries(stage, stage.deps, "dependency", root, hasher)
    if deps:
        entry["deps"] = deps
    params = params_entry(stage, root)
    if params:
        entry["params"] = params
    if with_outs:
        outs = _hashed_entries(stage, stage.outs, "output", root, hasher)
        if outs:
            entry["outs"] = outs
    return entry


class StageStatus(Value):
    __slots__ = ("deps", "outs", "cmd_changed", "always_changed")
    deps: dict[str, Any]  # path -> state, or params file -> {key: state}
    outs: dict[str, str]
    cmd_changed: bool
    always_changed: bool

    @property
    def changed(self) -> bool:
        return bool(self.deps or self.outs or self.cmd_changed or self.always_changed)

    def as_dvc(self) -> list[Any]:
        """dvc's ``status --json`` list for this stage."""
        out: list[Any] = []
        if self.deps:
            out.append({"changed deps": self.deps})
        if self.outs:
            out.append({"changed outs": self.outs})
        if self.always_changed:
            out.append("always changed")
        if self.cmd_changed:
            out.append("changed command")
        return out


def _by_path(items: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i.get("path")): i for i in items if isinstance(i, dict)}


def _same_file(rec: dict[str, Any] | None, res: HashResult) -> bool:
    return bool(rec) and rec.get("md5") == res.md5


def legacy_record(rec: Any) -> bool:
    """A dvc.lock entry written by DVC 2.x: an ``md5`` without ``hash:`` (md5-dos2unix, the 2.x cache)."""
    return isinstance(rec, dict) and bool(rec.get("md5")) and "hash" not in rec


def dep_state(path: str, rec: dict[str, Any] | None, hasher: Hasher) -> str | None:
    if not os.path.lexists(path):
        return "deleted"
    try:
        res = hasher.hash_path(path, want_files=False)
    except MissingError:
        return "deleted"
    if rec is None:
        return "modified"
    if not (_same_file(rec, res) or (legacy_record(rec) and legacy_same(path, str(rec["md5"]), res, hasher))):
        return "modified"
    return None


def legacy_same(path: str, want: str, res: HashResult, hasher: Hasher) -> bool:
    """Whether ``path`` (``res``: its md5 hash) is what a 2.x record's ``want`` says, hashed as DVC 2.x did
    (md5-dos2unix: a text file with CRLF hashes otherwise than with md5), as dvc compares such a record
    (workspace.status does the same for ``.dvc`` files)."""
    if want.endswith(".dir") != res.is_dir:
        return False
    if res.is_dir:
        return hasher.legacy_dir_oid(path) == want
    from tide.core.hashing import file_md5_dos2unix

    return file_md5_dos2unix(path) == want


def out_cached(md5: str, cache: ObjectCache, state=None, legacy: bool = False) -> bool:
    """Whether the cache holds the object (a directory: and every file object), each found object's
    mode checked as dvc-data's ``check`` does (``exists_protected``). With the ``state``, a directory
    found complete is remembered with the cache's fingerprint, as ``status`` does
    (workspace.status.cache_has): while no object is added or removed, no listing again."""
    if legacy:  # a 2.x record: its objects are in the 2.x cache layout
        if not cache.exists_protected(md5, True):
            return False
        try:
            entries = manifest.parse(cache.read_bytes(md5, True)) if md5.endswith(".dir") else []
        except (OSError, FileFormatError):
            return False
        return all(cache.exists_protected(e.md5, True) for e in entries)
    if not cache.exists_protected(md5):
        return False
    if md5.endswith(".dir"):
        from tide.objects.ref import ObjRef
        from tide.workspace.status import known_complete, record_complete

        fps: dict = {}
        if state is not None and known_complete(md5, False, cache, state, fps):
            return True
        try:
            entries = manifest.parse(cache.read_bytes(md5))
        except (OSError, FileFormatError):
            return False
        # listed in bulk (one listdir per prefix), then each object's mode checked as dvc-data does
        if cache.missing(e.md5 for e in entries) or not all(cache.exists_protected(e.md5) for e in entries):
            return False
        if state is not None:
            record_complete([ObjRef(md5, False)], state, fps)
    return True


def params_state(dep: ParamsDep, rec: Any, root: str) -> dict[str, str] | str | None:
    actual = read_params(dep, root, strict=False)
    if actual is None:
        return "deleted"
    if not isinstance(rec, dict):
        return "new"
    keys = list(dep.keys) if dep.keys else list(dict.fromkeys([*actual, *rec]))
    st: dict[str, str] = {}
    for k in keys:
        if k not in actual:
            st[k] = "deleted"
        elif k not in rec:
            st[k] = "new"
        elif actual[k] != rec[k]:
            st[k] = "modified"
    return st or None


def stage_status(stage: Stage, lock: dict[str, Any] | None, root: str, hasher: Hasher,
                 cache: ObjectCache, allow_missing: bool = False) -> StageStatus:
    lock = lock or {}
    deps: dict[str, Any] = {}
    if not stage.frozen:
        recs = _by_path(lock.get("deps"))
        for d in stage.deps:
            st = dep_state(d.abspath, recs.get(d.path), hasher)
            if st:
                deps[_rel(root, d.abspath)] = st
        precs = lock.get("params") if isinstance(lock.get("params"), dict) else {}
        for p in stage.params:
            st = params_state(p, precs.get(p.path) if lock else None, root)
            if st:
                deps[_rel(root, p.abspath)] = st
    outs: dict[str, str] = {}
    recs = _by_path(lock.get("outs"))
    for o in stage.outs:
        rec = recs.get(o.path)
        if rec and o.cache and rec.get("md5") and not out_cached(str(rec["md5"]), cache, hasher.state,
                                                                  legacy_record(rec)):
            st: str | None = "not in cache"
        else:
            st = dep_state(o.abspath, rec, hasher)
        if st and not (allow_missing and st in ("deleted", "not in cache")):
            outs[_rel(root, o.abspath)] = st
    cmd_changed = bool(lock) and lock.get("cmd") != stage.cmd
    # dvc's "callback" stage: a command with no dependencies and no outputs runs on every repro
    callback = bool(stage.cmd) and not (stage.deps or stage.params or stage.outs)
    return StageStatus(deps, outs, cmd_changed, stage.always_changed or callback)
