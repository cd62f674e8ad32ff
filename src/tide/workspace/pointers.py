"""``.dvc`` pointer files: parse strictly, write byte-identical to DVC 3, keep unknown keys."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from tide.core import yamlio, yamlstyle
from tide.core.errors import FileFormatError, PathError
from tide.core.fsutil import atomic_write_text
from tide.core.hashing import is_md5

SUFFIX = ".dvc"
META_KEYS = ("size", "nfiles", "isexec")
# annotation/flag keys in DVC's dump order
TRAILING_KEYS = ("fs_config", "desc", "type", "labels", "meta", "cache", "metric", "plot", "persist", "remote", "push")
TOP_ORDER = ("md5", "frozen", "deps", "outs")


@dataclass(frozen=True)
class Out:
    """One tracked output. ``path`` is as written (posix, relative to the pointer's directory)."""

    path: str
    abspath: str
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False
    hash_name: str | None = "md5"  # None: legacy entry without ``hash:`` (md5-dos2unix)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def legacy(self) -> bool:
        return self.hash_name is None

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    @property
    def use_cache(self) -> bool:
        return self.extra.get("cache", True) is not False

    def dump(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.md5 is not None:
            d["md5"] = self.md5
        if self.size is not None:
            d["size"] = self.size
        if self.nfiles is not None:
            d["nfiles"] = self.nfiles
        if self.isexec:
            d["isexec"] = True
        if self.hash_name is not None:
            d["hash"] = self.hash_name
        d["path"] = self.path
        for k in TRAILING_KEYS:
            if k in self.extra:
                d[k] = self.extra[k]
        for k, v in self.extra.items():
            if k not in d:
                d[k] = v
        return d

    def with_hash(self, md5: str, size: int, nfiles: int | None, isexec: bool) -> Out:
        return replace(self, md5=md5, size=size, nfiles=nfiles, isexec=isexec and nfiles is None, hash_name="md5")


@dataclass(frozen=True)
class PointerFile:
    path: str  # absolute path of the .dvc file
    outs: tuple[Out, ...]
    top: dict[str, Any] = field(default_factory=dict)  # other top-level keys, preserved

    def dump(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k in TOP_ORDER:
            if k == "outs":
                d["outs"] = [o.dump() for o in self.outs]
            elif k in self.top:
                d[k] = self.top[k]
        for k, v in self.top.items():
            d.setdefault(k, v)
        return d

    def write(self) -> None:
        atomic_write_text(self.path, yamlio.dumps(self.dump()))


def check_out_path(root: str, base_dir: str, path: str, where: str) -> str:
    """Resolve an output path and refuse anything outside the repository or inside .dvc/."""
    if not path or "\x00" in path:
        raise FileFormatError(f"{where}: output path is empty or invalid")
    if os.path.isabs(path) or "://" in path:
        raise PathError(f"{where}: output path '{path}' is outside the repository (external outputs are not supported)")
    abspath = os.path.normpath(os.path.join(base_dir, path))
    rel = os.path.relpath(abspath, root)
    if rel == ".." or rel.startswith(".." + os.sep) or rel == ".":
        raise PathError(f"{where}: output path '{path}' is outside the repository")
    first = rel.split(os.sep)[0]
    if first in (".dvc", ".git"):
        raise PathError(f"{where}: output path '{path}' is inside {first}/")
    # a symlinked parent directory must not lead outside the repository
    real_parent = os.path.realpath(os.path.dirname(abspath))
    real_root = os.path.realpath(root)
    if real_parent != real_root and not real_parent.startswith(real_root + os.sep):
        raise PathError(f"{where}: output path '{path}' leads outside the repository through a symlink")
    return abspath


def _parse_out(item: Any, root: str, base_dir: str, where: str) -> Out:
    if not isinstance(item, dict):
        raise FileFormatError(f"{where}: each entry of 'outs' must be a mapping")
    path = item.get("path")
    if not isinstance(path, str):
        raise FileFormatError(f"{where}: an output has no 'path'")
    md5 = item.get("md5")
    if md5 is not None and not is_md5(md5):
        raise FileFormatError(f"{where}: output '{path}' has an invalid md5 {md5!r}")
    size = item.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise FileFormatError(f"{where}: output '{path}' has an invalid size {size!r}")
    nfiles = item.get("nfiles")
    if nfiles is not None and (not isinstance(nfiles, int) or isinstance(nfiles, bool) or nfiles < 0):
        raise FileFormatError(f"{where}: output '{path}' has an invalid nfiles {nfiles!r}")
    isexec = item.get("isexec", False)
    if not isinstance(isexec, bool):
        raise FileFormatError(f"{where}: output '{path}' has an invalid isexec {isexec!r}")
    hash_name = item.get("hash")
    if hash_name not in (None, "md5"):
        raise FileFormatError(f"{where}: output '{path}' uses unsupported hash {hash_name!r}")
    for k in ("cache", "persist", "push"):
        if k in item and not isinstance(item[k], bool):
            raise FileFormatError(f"{where}: output '{path}': '{k}' must be true or false")
    extra = {k: v for k, v in item.items() if k not in ("path", "md5", "size", "nfiles", "isexec", "hash")}
    abspath = check_out_path(root, base_dir, path, where)
    return Out(path, abspath, md5, size, nfiles, isexec, hash_name, extra)


def load(path: str, root: str) -> PointerFile:
    where = os.path.relpath(path, root)
    try:
        data = yamlstyle.load_file(path, where)
    except FileNotFoundError:
        from tide.core.errors import MissingError

        raise MissingError(f"'{where}' does not exist")
    except IsADirectoryError:
        raise FileFormatError(f"'{where}' is a directory, not a .dvc file")
    return parse(data, path, root)


def parse(data: Any, path: str, root: str) -> PointerFile:
    """Validate parsed YAML ``data`` of the pointer file at ``path``."""
    where = os.path.relpath(path, root)
    if not isinstance(data, dict):
        raise FileFormatError(f"{where}: expected a mapping with an 'outs' list")
    outs = data.get("outs")
    if not isinstance(outs, list) or not outs:
        raise FileFormatError(f"{where}: 'outs' must be a non-empty list")
    base = os.path.dirname(path)
    parsed = tuple(_parse_out(o, root, base, where) for o in outs)
    top = {k: v for k, v in data.items() if k != "outs"}
    return PointerFile(path, parsed, top)


def new(path: str, root: str, out_path: str) -> PointerFile:
    base = os.path.dirname(path)
    abspath = check_out_path(root, base, out_path, os.path.relpath(path, root))
    return PointerFile(path, (Out(out_path, abspath),))
