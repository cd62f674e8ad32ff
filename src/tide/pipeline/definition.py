"""``dvc.yaml``: strict validation, ``vars``, ``foreach``/``do``, ``matrix`` and ``${}`` interpolation,
resolved into frozen :class:`Stage` values."""

from __future__ import annotations

import itertools
import os

from tide.core import dvcschema, utf8
from tide.core.errors import FileFormatError, PathError
from tide.core.fsutil import fast_relpath
from tide.core.values import Value
from tide.pipeline import params as params_mod
from tide.pipeline.interpolate import InterpolationError, merge, resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Reader(Protocol):
        """Reads files of one version of the repository (the workspace or a git revision)."""

        def read_text(self, abspath: str) -> str | None:
            """The file's text, or ``None`` when it does not exist."""

YAML_NAME = "dvc.yaml"
TOP_KEYS = {"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"}
STAGE_KEYS = {"cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed",
              "desc", "meta", "vars"}
OUT_OPTS = {"cache", "persist", "remote", "push", "desc", "type", "labels", "meta"}
PLOT_OPTS = {"template", "x", "y", "x_label", "y_label", "title", "header"}
OUT_KINDS = ("outs", "metrics", "plots")


class WorkspaceReader:  # a Reader
    def read_text(self, abspath: str) -> str | None:
        try:
            return utf8.read(abspath)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except ValueError:  # a NUL byte in a name read from a user file (found by fuzzing)
            raise FileFormatError(f"{abspath!r} is not a valid file name")


class OutDef(Value):
    __slots__ = ("path", "abspath", "kind", "cache", "persist", "push", "remote", "options")
    _defaults = {"kind": "outs", "cache": True, "persist": False, "push": True, "remote": None, "options": dict}
    path: str  # as written, relative to the stage's wdir
    abspath: str
    kind: str  # outs | metrics | plots
    cache: bool
    persist: bool
    push: bool
    remote: str | None
    options: dict[str, Any]  # desc/type/labels/meta and plot options


class DepDef(Value):
    __slots__ = ("path", "abspath")
    path: str
    abspath: str


class ParamsDep(Value):
    __slots__ = ("path", "abspath", "keys")
    path: str  # params file as written (relative to wdir)
    abspath: str
    keys: tuple[str, ...] | None  # None: the whole file


class Stage(Value):
    __slots__ = ("name", "dvcfile", "root", "wdir", "cmd", "deps", "params", "outs", "frozen", "always_changed", "desc",
                 "meta", "raw_wdir")
    _defaults = {"deps": (), "params": (), "outs": (), "frozen": False, "always_changed": False, "desc": None,
                 "meta": None, "raw_wdir": None}
    name: str
    dvcfile: str  # absolute path of its dvc.yaml
    root: str
    wdir: str  # absolute
    cmd: str | list[str]
    deps: tuple[DepDef, ...]
    params: tuple[ParamsDep, ...]
    outs: tuple[OutDef, ...]
    frozen: bool
    always_changed: bool
    desc: str | None
    meta: Any
    raw_wdir: str | None

    @property
    def addressing(self) -> str:
        rel = os.path.relpath(self.dvcfile, self.root).replace(os.sep, "/")
        return self.name if rel == YAML_NAME else f"{rel}:{self.name}"

    @property
    def lockfile(self) -> str:
        return os.path.join(os.path.dirname(self.dvcfile), "dvc.lock")

    @property
    def cmds(self) -> list[str]:
        return list(self.cmd) if isinstance(self.cmd, list) else [self.cmd]


class Pipeline(Value):
    __slots__ = ("path", "stages", "metrics", "params", "plots")
    _defaults = {"metrics": (), "params": (), "plots": ()}
    path: str  # absolute path of dvc.yaml
    stages: tuple[Stage, ...]
    metrics: tuple[str, ...]  # top-level metrics files (absolute)
    params: tuple[str, ...]  # top-level params files (absolute)
    plots: tuple[tuple[str, dict[str, Any]], ...]  # (id, definition) top-level plots


def _where(root: str, path: str) -> str:
    return fast_relpath(root, path).replace(os.sep, "/")


def load(path: str, root: str, reader: Reader | None = None) -> Pipeline:
    reader = reader or WorkspaceReader()
    where = _where(root, path)
    text = reader.read_text(path)
    if text is None:
        raise FileFormatError(f"'{where}' does not exist")
    from tide.core.yamlio import loads

    # A text that can interpolate nothing (no ``${``, no ``vars``, no escape that could spell them) gives
    # the same pipeline whatever the params hold: parsed once (the same dvc.yaml at 200 experiment
    # commits); the default params file is still read and checked each time, as parse does.
    if "${" in text or "vars" in text or "\\" in text:
        return parse(loads(text, where), path, root, reader)
    key = (path, root, text)
    hit = _MEMO.get(key)
    if hit is None:
        hit = parse(loads(text, where), path, root, reader)
        if len(_MEMO) >= 64:
            del _MEMO[next(iter(_MEMO))]
        _MEMO[key] = hit
    else:
        _default_params(os.path.dirname(path), root, reader, where)
    return hit


_MEMO: dict[tuple[str, str, str], Pipeline] = {}  # (path, root, text) -> the pipeline (immutable)


def _default_params(base: str, root: str, reader: Reader, where: str) -> dict[str, Any] | None:
    """The pipeline's default params file (its variables), None when there is none."""
    default_params = os.path.join(base, params_mod.DEFAULT_PARAMS)
    text = reader.read_text(default_params)
    if text is None:
        return None
    loaded = params_mod.parse_text(text, default_params, _where(root, default_params))
    if not isinstance(loaded, dict):  # as dvc, which loads it as the pipeline's variables
        raise FileFormatError(
            f"{where}: failed to parse 'vars': expected a dictionary, got '{type(loaded).__name__}' "
            f"in file '{_where(root, default_params)}'"
        )
    return loaded


def parse(data: Any, path: str, root: str, reader: Reader | None = None) -> Pipeline:
    reader = reader or WorkspaceReader()
    where = _where(root, path)
    dvcschema.check_pipeline(data, where)  # the raw file, before interpolation, as dvc checks it
    data = data or {}
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise FileFormatError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(TOP_KEYS))})")
    base = os.path.dirname(path)
    ctx: dict[str, Any] = {}
    loaded = _default_params(base, root, reader, where)
    if loaded is not None:
        merge(ctx, loaded)
    _load_vars(data.get("vars"), ctx, base, root, reader, where)
    raw_stages = data.get("stages") or {}
    if not isinstance(raw_stages, dict):
        raise FileFormatError(f"{where}: 'stages' must be a mapping of stage names to definitions")
    stages: list[Stage] = []
    for name, body in raw_stages.items():
        stages.extend(_expand(str(name), body, ctx, path, root, reader))
    seen: set[str] = set()  # linear: a count per name was quadratic (32k stages took 14 s)
    dup = next((s.name for s in stages if s.name in seen or seen.add(s.name)), None)
    if dup:
        raise FileFormatError(f"{where}: stage '{dup}' is defined twice")

    def top_files(key: str) -> tuple[str, ...]:
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise FileFormatError(f"{where}: top-level '{key}' must be a list of paths")
        try:
            items = [resolve(i, ctx) for i in items]
        except InterpolationError as exc:
            raise FileFormatError(f"{where}: '{key}': {exc}")
        return tuple(os.path.normpath(os.path.join(base, i)) for i in items)

    plots = []
    raw_plots = data.get("plots") or []
    if not isinstance(raw_plots, list):
        raise FileFormatError(f"{where}: top-level 'plots' must be a list")
    for item in raw_plots:
        if isinstance(item, str):
            plots.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            (pid, props), = item.items()
            props = props or {}
            if not isinstance(props, dict):
                raise FileFormatError(f"{where}: plot '{pid}' must map to its options")
            bad = sorted(set(props) - PLOT_OPTS)
            if bad:
                raise FileFormatError(f"{where}: plot '{pid}': unknown key '{bad[0]}'")
            plots.append((str(pid), resolve(props, ctx)))
        else:
            raise FileFormatError(f"{where}: each top-level plot is a path or a single-key mapping")
    return Pipeline(path, tuple(stages), top_files("metrics"), top_files("params"), tuple(plots))


def _load_vars(items: Any, ctx: dict[str, Any], base: str, root: str, reader: Reader, where: str) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise FileFormatError(f"{where}: 'vars' must be a list of files or mappings")
    for item in items:
        if isinstance(item, dict):
            merge(ctx, resolve(item, ctx))
        elif isinstance(item, str):
            fname, _, keys = item.partition(":")
            fpath = os.path.normpath(os.path.join(base, fname))
            text = reader.read_text(fpath)
            if text is None:
                raise FileFormatError(f"{where}: vars file '{fname}' does not exist")
            loaded = params_mod.parse_text(text, fpath, _where(root, fpath))
            if not isinstance(loaded, dict):
                raise FileFormatError(f"{where}: vars file '{fname}' must hold a mapping")
            if keys:
                for k in keys.split(","):
                    k = k.strip()
                    if not params_mod.has_path(loaded, k):
                        raise FileFormatError(f"{where}: vars: '{k}' is not defined in '{fname}'")
                    merge(ctx, {k.split(".")[-1]: params_mod.get_path(loaded, k)})
            else:
                merge(ctx, loaded)
        else:
            raise FileFormatError(f"{where}: each 'vars' entry is a file name or a mapping")


def _item_name(value: Any, index: int, key: str = "") -> str:
    if isinstance(value, (str, int, float, bool)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{key}{index}"


def _expand(name: str, body: Any, ctx: dict[str, Any], path: str, root: str, reader: Reader) -> list[Stage]:
    where = f"{_where(root, path)}: stage '{name}'"
    if not isinstance(body, dict):
        raise FileFormatError(f"{where}: the definition must be a mapping")
    if "@" in name or ":" in name or "/" in name:
        raise FileFormatError(f"{where}: stage names cannot contain '@', ':' or '/'")
    if "foreach" in body or "do" in body:
        extra = sorted(set(body) - {"foreach", "do"})
        if extra or "do" not in body or "foreach" not in body:
            bad = extra[0] if extra else ("do" if "do" not in body else "foreach")
            raise FileFormatError(f"{where}: 'foreach' needs 'do' and allows no other key (found '{bad}')")
        try:
            seq = resolve(body["foreach"], ctx)
        except InterpolationError as exc:
            raise FileFormatError(f"{where}: foreach: {exc}")
        items: list[tuple[str, dict[str, Any]]] = []
        if isinstance(seq, list):
            for i, it in enumerate(seq):
                items.append((_item_name(it, i), {"item": it}))
        elif isinstance(seq, dict):
            for k, it in seq.items():
                items.append((str(k), {"key": k, "item": it}))
        else:
            raise FileFormatError(f"{where}: foreach must be a list or a mapping")
        out = []
        for suffix, extra_ctx in items:
            sub = {**ctx, **extra_ctx}
            out.append(_stage(f"{name}@{suffix}", body["do"], sub, path, root, reader))
        return out
    if "matrix" in body:
        matrix = body["matrix"]
        if not isinstance(matrix, dict) or not matrix:
            raise FileFormatError(f"{where}: 'matrix' must be a non-empty mapping of lists")
        axes = []
        for k, vals in matrix.items():
            try:
                vals = resolve(vals, ctx)
            except InterpolationError as exc:
                raise FileFormatError(f"{where}: matrix: {exc}")
            if not isinstance(vals, list):
                raise FileFormatError(f"{where}: matrix '{k}' must be a list")
            axes.append([(k, i, v) for i, v in enumerate(vals)])
        rest = {k: v for k, v in body.items() if k != "matrix"}
        out = []
        for combo in itertools.product(*axes):
            suffix = "-".join(_item_name(v, i, str(k)) for k, i, v in combo)
            sub = {**ctx, "item": {k: v for k, _, v in combo}}
            out.append(_stage(f"{name}@{suffix}", rest, sub, path, root, reader))
        return out
    return [_stage(name, body, ctx, path, root, reader)]


def _bool(d: dict, key: str, where: str) -> bool:
    v = d.get(key, False)
    if not isinstance(v, bool):
        raise FileFormatError(f"{where}: '{key}' must be true or false")
    return v


def _stage(name: str, body: Any, ctx: dict[str, Any], path: str, root: str, reader: Reader) -> Stage:
    where = f"{_where(root, path)}: stage '{name}'"
    if not isinstance(body, dict):
        raise FileFormatError(f"{where}: the definition must be a mapping")
    unknown = sorted(set(map(str, body)) - STAGE_KEYS)
    if unknown:
        raise FileFormatError(f"{where}: unknown key '{unknown[0]}'")
    base = os.path.dirname(path)
    ctx = dict(ctx)
    if "vars" in body:
        ctx = {k: v for k, v in ctx.items()}
        _load_vars(body["vars"], ctx, base, root, reader, where)
    try:
        cmd = resolve(body.get("cmd"), ctx, in_cmd=True)
        rest = {k: resolve(v, ctx) for k, v in body.items() if k not in ("cmd", "vars")}
    except InterpolationError as exc:
        raise FileFormatError(f"{where}: {exc}")
    if isinstance(cmd, (int, float)) and not isinstance(cmd, bool):
        cmd = str(cmd)
    if not cmd or not (isinstance(cmd, str) or (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd))):
        raise FileFormatError(f"{where}: 'cmd' is required and must be a string or a list of strings")
    raw_wdir = rest.get("wdir")
    if raw_wdir is not None and not isinstance(raw_wdir, str):
        raise FileFormatError(f"{where}: 'wdir' must be a path")
    wdir = os.path.normpath(os.path.join(base, raw_wdir or "."))
    _inside(root, wdir, raw_wdir or ".", where)

    deps_raw = rest.get("deps") or []
    if not isinstance(deps_raw, list) or not all(isinstance(d, str) and d for d in deps_raw):
        raise FileFormatError(f"{where}: 'deps' must be a list of paths")
    deps = tuple(DepDef(d, _abs(root, wdir, d, where, "dependency")) for d in deps_raw)
    params = _params(rest.get("params"), wdir, root, where)
    outs: list[OutDef] = []
    for kind in OUT_KINDS:
        items = rest.get(kind) or []
        if not isinstance(items, list):
            raise FileFormatError(f"{where}: '{kind}' must be a list")
        for item in items:
            outs.append(_out(item, kind, wdir, root, where))
    seen = set()
    for o in outs:
        if o.abspath in seen:
            raise FileFormatError(f"{where}: output '{o.path}' is listed twice")
        seen.add(o.abspath)
    return Stage(
        name, path, root, wdir, cmd, deps, params, tuple(outs),
        _bool(rest, "frozen", where), _bool(rest, "always_changed", where),
        rest.get("desc"), rest.get("meta"), raw_wdir,
    )


def _inside(root: str, abspath: str, shown: str, where: str) -> None:
    rel = fast_relpath(root, abspath)
    if rel == ".." or rel.startswith(".." + os.sep):
        raise PathError(f"{where}: '{shown}' is outside the repository")


def _abs(root: str, wdir: str, p: str, where: str, what: str) -> str:
    if "://" in p or os.path.isabs(p):
        raise PathError(f"{where}: {what} '{p}' is outside the repository (external paths are not supported)")
    a = os.path.normpath(os.path.join(wdir, p))
    _inside(root, a, p, where)
    return a


def _params(raw: Any, wdir: str, root: str, where: str) -> tuple[ParamsDep, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise FileFormatError(f"{where}: 'params' must be a list")
    files: dict[str, list[str] | None] = {}
    for item in raw:
        if isinstance(item, str):
            cur = files.setdefault(params_mod.DEFAULT_PARAMS, [])
            if cur is not None and item not in cur:
                cur.append(item)
        elif isinstance(item, dict):
            for fname, keys in item.items():
                if keys is None or keys == []:
                    files[str(fname)] = None
                    continue
                if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                    raise FileFormatError(f"{where}: params of '{fname}' must be a list of keys")
                cur = files.setdefault(str(fname), [])
                if cur is not None:
                    cur.extend(k for k in keys if k not in cur)
        else:
            raise FileFormatError(f"{where}: each 'params' entry is a key or a mapping of file to keys")
    return tuple(
        ParamsDep(f, _abs(root, wdir, f, where, "params file"), tuple(k) if k is not None else None)
        for f, k in files.items()
    )


def _out(item: Any, kind: str, wdir: str, root: str, where: str) -> OutDef:
    if isinstance(item, str):
        path, opts = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        (path, opts), = item.items()
        opts = opts or {}
        if not isinstance(opts, dict):
            raise FileFormatError(f"{where}: options of output '{path}' must be a mapping")
    else:
        raise FileFormatError(f"{where}: each entry of '{kind}' is a path or a single-key mapping")
    if not isinstance(path, str) or not path:
        raise FileFormatError(f"{where}: an entry of '{kind}' has no path")
    allowed = OUT_OPTS | (PLOT_OPTS if kind == "plots" else set())
    bad = sorted(set(map(str, opts)) - allowed)
    if bad:
        raise FileFormatError(f"{where}: output '{path}': unknown key '{bad[0]}'")
    for k in ("cache", "persist", "push"):
        if k in opts and not isinstance(opts[k], bool):
            raise FileFormatError(f"{where}: output '{path}': '{k}' must be true or false")
    abspath = _abs(root, wdir, path, where, "output")
    rel = fast_relpath(root, abspath)
    if rel == "." or rel.split(os.sep)[0] in (".dvc", ".git"):
        raise PathError(f"{where}: output '{path}' cannot be the repository root, .dvc/ or .git/")
    extra = {k: v for k, v in opts.items() if k not in ("cache", "persist", "push", "remote")}
    return OutDef(path, abspath, kind, opts.get("cache", True), opts.get("persist", False),
                  opts.get("push", True), opts.get("remote"), extra)
