"""``.dvc`` pointer files: parse strictly, write byte-identical to DVC 3, keep unknown keys."""

from __future__ import annotations

import os

from tide.core import dvcschema, utf8, yamlio
from tide.core.errors import FileFormatError, PathError
from tide.core.fsutil import atomic_write_text
from tide.core.hashing import is_md5

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

SUFFIX = ".dvc"
META_KEYS = ("size", "nfiles", "isexec")
# annotation/flag keys in DVC's dump order
TRAILING_KEYS = ("fs_config", "desc", "type", "labels", "meta", "cache", "metric", "plot", "persist", "remote", "push")
TOP_ORDER = ("md5", "frozen", "deps", "outs")


class Out:
    """One tracked output. ``path`` is as written (posix, relative to the pointer's directory).

    Immutable by convention; a plain class rather than a dataclass, whose import every command would
    pay (tests/foundation/test_fast_start.py keeps `dataclasses` off the fast path)."""

    __slots__ = ("path", "abspath", "md5", "size", "nfiles", "isexec", "hash_name", "extra")
    _FIELDS = __slots__

    def __init__(self, path: str, abspath: str, md5: str | None = None, size: int | None = None,
                 nfiles: int | None = None, isexec: bool = False, hash_name: str | None = "md5",
                 extra: dict[str, Any] | None = None) -> None:
        self.path = path
        self.abspath = abspath
        self.md5 = md5
        self.size = size
        self.nfiles = nfiles
        self.isexec = isexec
        self.hash_name = hash_name  # None: legacy entry without ``hash:`` (md5-dos2unix)
        self.extra: dict[str, Any] = {} if extra is None else extra

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Out) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # holds a dict, like the dataclass it replaced

    def __repr__(self) -> str:
        return "Out(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS) + ")"

    def replace(self, **changes: Any) -> Out:
        values = {f: getattr(self, f) for f in self._FIELDS}
        values.update(changes)
        return Out(**values)

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
        return self.replace(md5=md5, size=size, nfiles=nfiles, isexec=isexec and nfiles is None, hash_name="md5")


class PointerFile:
    __slots__ = ("path", "outs", "top")

    def __init__(self, path: str, outs: tuple[Out, ...], top: dict[str, Any] | None = None) -> None:
        self.path = path  # absolute path of the .dvc file
        self.outs = outs
        self.top: dict[str, Any] = {} if top is None else top  # other top-level keys, preserved

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PointerFile) and (
            (self.path, self.outs, self.top) == (other.path, other.outs, other.top))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PointerFile({self.path!r}, {self.outs!r}, {self.top!r})"

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

    def write(self, base: str | None = None) -> None:
        """``base``: the file's text to apply the data onto, as it was when the command started (dvc loads
        each stage once, so a command writing one ``.dvc`` file twice applies both onto that text; ``""``:
        the file did not exist); default: the file as it is now. A file that already holds that text is left
        as it is (``add`` of what did not change: no temporary name, no rename)."""
        now = read_text(self.path)
        text = text_keeping(self.path, self.dump(), now if base is None else base)
        if text != now:
            atomic_write_text(self.path, text)


def read_text(path: str) -> str:
    """A ``.dvc`` file's text for ``PointerFile.write(base=)``; ``""`` when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return ""


def text_keeping(path: str, data: dict[str, Any], base: str | None = None) -> str:
    """The text of ``data`` for the ``.dvc`` file at ``path``. As dvc, an existing file is rewritten by
    applying ``data`` onto its own parse (``serialize.to_single_stage_file``: ``apply_diff`` onto the
    round-trip load, for every command that rewrites one - add, commit, move, update, freeze...): its keys
    keep their order, new keys go last (``isexec`` after ``path`` when it is set later), comments and
    styles stay (N39). A file that does not exist or cannot be read is written fresh."""
    old_text = read_text(path) if base is None else base
    if not old_text:
        return yamlio.dumps(data)
    try:
        old = yamlio.loads(old_text, os.path.basename(path))
    except Exception:  # missing, unreadable, not YAML: written fresh, as dvc does without a stage text
        return yamlio.dumps(data)
    if not isinstance(old, dict):
        return yamlio.dumps(data)
    merged = apply_diff(data, yamlio.loads(old_text, path))  # a fresh copy to change
    if yamlio.dumps(old) != old_text:  # comments, flow style, quoting: ruamel's round trip keeps them
        edited = yamlio.round_trip_edit(old_text, lambda d: apply_diff(data, d))
        try:
            if edited is not None and yamlio.loads(edited, path) == merged:
                return edited
        except Exception:  # not what it should be: the checked way below
            pass
    return yamlio.dumps(merged)


def apply_diff(src: Any, dest: Any) -> Any:
    """dvc's ``utils.collections.apply_diff``: ``dest`` changed in place to equal ``src`` keeping its own
    order (mappings: changed values replaced, new keys appended, missing keys deleted; lists of the same
    length element by element, else replaced whole). Returns ``dest``."""
    def same(a: Any, b: Any) -> bool:
        return any(isinstance(a, t) and isinstance(b, t) for t in (str, dict, (list, tuple), bool))

    if isinstance(src, dict) and isinstance(dest, dict):
        for key, value in src.items():
            if isinstance(value, (dict, list, tuple)) and same(value, dest.get(key)):
                apply_diff(value, dest[key])
            elif key not in dest or value != dest[key]:
                dest[key] = value
        for key in set(dest) - set(src):
            del dest[key]
    elif isinstance(src, (list, tuple)) and isinstance(dest, list):
        if len(src) != len(dest):
            dest[:] = src
        else:
            for i, value in enumerate(src):
                if isinstance(value, (dict, list, tuple)) and same(value, dest[i]):
                    apply_diff(value, dest[i])
                elif value != dest[i]:
                    dest[i] = value
    return dest


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


def parse_out(item: Any, root: str, base_dir: str, where: str) -> Out:
    if not isinstance(item, dict):
        raise FileFormatError(f"{where}: each entry of 'outs' must be a mapping")
    path = item.get("path")
    if not isinstance(path, str):
        raise FileFormatError(f"{where}: an output has no 'path'")
    md5 = item.get("md5")
    if md5 == "":  # dvc reads an empty hash as none
        md5 = None
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
        data = yamlio.loads(utf8.read(path, where), where)
    except FileNotFoundError:
        from tide.core.errors import MissingError

        raise MissingError(f"'{where}' does not exist")
    except IsADirectoryError:
        raise FileFormatError(f"'{where}' is a directory, not a .dvc file")
    return parse(data, path, root)


def parse(data: Any, path: str, root: str, where: str | None = None) -> PointerFile:
    """Validate parsed YAML ``data`` of the pointer file at ``path`` (dvc's schema first, then tide's
    checks of what the values mean: hashes, sizes, paths inside the repository)."""
    where = where or os.path.relpath(path, root)
    dvcschema.check_pointer(data, where)
    if not isinstance(data, dict):
        raise FileFormatError(f"{where}: expected a mapping with an 'outs' list")
    outs = data.get("outs")
    if not isinstance(outs, list) or not outs:
        raise FileFormatError(f"{where}: 'outs' must be a non-empty list")
    base = os.path.dirname(path)
    parsed = tuple(parse_out(o, root, base, where) for o in outs)
    top = {k: v for k, v in data.items() if k != "outs"}
    return PointerFile(path, parsed, top)


def new(path: str, root: str, out_path: str) -> PointerFile:
    base = os.path.dirname(path)
    abspath = check_out_path(root, base, out_path, os.path.relpath(path, root))
    return PointerFile(path, (Out(out_path, abspath),))
