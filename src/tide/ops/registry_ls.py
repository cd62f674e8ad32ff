"""``tide list/ls URL [PATH]``: the files of a repository at a revision, git-tracked and dvc-tracked
together, with dvc's entries (``isout``, ``isdir``, ``isexec``, ``size``, ``md5``, ``path``) and its
output formats (``format_entries``)."""

from __future__ import annotations

import os

from tide.core import manifest
from tide.core.errors import MissingError
from tide.ops.registry_source import Source

KEYS = ("isout", "isdir", "isexec", "size", "md5")


def _info(isout: bool, isdir: bool, isexec: bool, size: int | None, md5: str | None) -> dict:
    return {"isout": isout, "isdir": isdir, "isexec": isexec, "size": size, "md5": md5}


class View:
    """The merged tree of a source: git side and dvc side, as dvc's ``DVCFileSystem``."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.git = {p: _info(False, n.isdir, n.isexec, n.size, None) for p, n in src.tree().items()}
        self.dvc: dict[str, dict] = {}
        self.dir_outs: dict[str, object] = {}
        for rel, out in src.outs():
            self.dvc[rel] = _info(True, out.is_dir, out.isexec, out.size, out.md5)
            if out.is_dir:
                self.dir_outs[rel] = out
        self._expanded: set[str] = set()
        # files inside a directory the source itself imported: dvc lists them without a hash
        self.unhashed: set[str] = set()
        self._imported = src.imports()

    def expand(self, rel: str) -> None:
        """Add the files (and sub-directories) of the tracked directory ``rel`` from its manifest."""
        if rel in self._expanded:
            return
        self._expanded.add(rel)
        out = self.dir_outs[rel]
        raw = self.src.manifest(out.md5, out.legacy)
        for e in manifest.parse(raw, where=f"manifest {out.md5}"):
            path = f"{rel}/{e.relpath}"
            self.dvc[path] = _info(True, False, False, None, e.md5)
            if rel in self._imported:
                self.unhashed.add(path)
            parent = os.path.dirname(path)
            while parent != rel and parent not in self.dvc:
                self.dvc[parent] = _info(True, True, False, None, None)
                parent = os.path.dirname(parent)

    def expand_for(self, path: str, recursive: bool) -> None:
        for rel in list(self.dir_outs):
            if path == rel or path.startswith(rel + "/") or (recursive and (not path or rel.startswith(path + "/"))):
                self.expand(rel)

    def nodes(self, dvc_only: bool) -> dict[str, dict]:
        merged: dict[str, dict] = {}
        for p, d in self.dvc.items():
            g = self.git.get(p)
            if g is not None and not dvc_only:  # on disk too (a workspace): its sizes, dvc's identity
                merged[p] = {**g, "isout": d["isout"], "md5": d["md5"]}
            else:
                merged[p] = dict(d)
            parent = os.path.dirname(p)
            while parent and parent not in merged:  # directories leading to outputs
                git_dir = None if dvc_only else self.git.get(parent)
                merged[parent] = dict(git_dir or _info(False, True, False, None, None))
                parent = os.path.dirname(parent)
        if not dvc_only:
            for p, g in self.git.items():
                merged.setdefault(p, g)
        return merged


def _norm(path: str | None) -> str:
    path = (path or "").replace(os.sep, "/").strip("/")
    return "" if path in (".", "./") else path


def _root(src: Source) -> dict:
    """The repository's top as dvc's DVCFileSystem shows it (its size even with ``--dvc-only``)."""
    return _info(False, True, False, src.root_size(), None)


def _nodes(src: Source, path: str, recursive: bool, dvc_only: bool) -> dict[str, dict]:
    view = View(src)
    view.expand_for(path, recursive)
    nodes = view.nodes(dvc_only)
    for sub in src.subrepos():  # hidden from a listing above it, as dvc's DVCFileSystem hides it
        if not (path == sub or path.startswith(sub + "/")):
            for p in [p for p in nodes if p == sub or p.startswith(sub + "/")]:
                del nodes[p]
    if path and path not in nodes:
        raise MissingError(f"path '{path}' does not exist in '{src.url}'")
    for p in view.unhashed:  # shown without a hash (the objects still have theirs, for get)
        if p in nodes:
            nodes[p] = {**nodes[p], "md5": None}
    return nodes


def ls(src: Source, path: str | None = None, recursive: bool = False, dvc_only: bool = False,
       maxdepth: int | None = None) -> list[dict]:
    """dvc's ``Repo.ls``: ``maxdepth`` (``-L``) counts only with ``recursive``; at that depth
    directories are listed as entries; 0 lists PATH itself."""
    path = _norm(path)
    nodes = _nodes(src, path, recursive, dvc_only)
    maxdepth = maxdepth if recursive else None
    if maxdepth is not None and maxdepth < 0:
        from tide.core.errors import UsageError

        raise UsageError("-L/--level must not be negative")
    if (path and not nodes[path]["isdir"]) or maxdepth == 0:
        info = nodes[path] if path else _root(src)
        return [{**{k: info[k] for k in KEYS}, "path": os.path.basename(path) or os.curdir}]
    prefix = path + "/" if path else ""
    found = []
    for p, info in nodes.items():
        if not p.startswith(prefix):
            continue
        rest = p[len(prefix):]
        if recursive:
            depth = rest.count("/") + 1
            if maxdepth is not None and depth > maxdepth:
                continue
            if not info["isdir"] or depth == maxdepth:
                found.append((rest, info))
        elif "/" not in rest:
            found.append((rest, info))
    return [{**{k: info[k] for k in KEYS}, "path": rest} for rest, info in sorted(found, key=lambda x: x[0])]


def ls_tree(src: Source, path: str | None = None, dvc_only: bool = False, maxdepth: int | None = None) -> dict:
    """dvc's ``ls_tree``: ``{name: {**entry, "contents": {...}}}``, the top named as given (``.`` for the
    repository), directories' contents down to ``maxdepth`` levels, names sorted."""
    given = path or ""
    path = _norm(path)
    nodes = _nodes(src, path, True, dvc_only)
    children: dict[str, list[str]] = {}
    for p in nodes:
        children.setdefault(os.path.dirname(p), []).append(p)

    def build(p: str, info: dict, depth: int | None) -> dict:
        entry = {k: info[k] for k in KEYS}
        if info["isdir"] and (depth is None or depth > 0):
            nxt = None if depth is None else depth - 1
            entry["contents"] = {os.path.basename(c): build(c, nodes[c], nxt) for c in sorted(children.get(p, ()))}
        return entry

    top = nodes[path] if path else _root(src)
    return {given or os.curdir: build(path, top, maxdepth)}


def format_tree(tree: dict, with_size: bool = False, with_hash: bool = False) -> str:
    """The text ``dvc ls --tree`` prints (``├──``/``└──`` lines in dvc's table)."""
    rows: list[dict] = []

    def walk(entries: dict, depth: int, prefix: str) -> None:
        n = len(entries)
        for i, (name, entry) in enumerate(entries.items()):
            last = i >= n - 1
            part = ("└── " if last else "├── ") if depth > 0 else ""
            rows.append({**entry, "path": prefix + part + name})
            if entry.get("contents"):
                walk(entry["contents"], depth + 1, prefix + (("    " if last else "│   ") if depth > 0 else ""))

    walk(tree, 0, "")
    return format_entries(rows, with_size, with_hash)


def naturalsize(value: float) -> str:
    """dvc's ``naturalsize`` (base 1024, tqdm's format_sizeof)."""
    if value < 1024:
        return f"{value:.0f}"
    num = float(value)
    for unit in ("", "k", "M", "G", "T", "P", "E", "Z"):
        if abs(num) < 999.5:
            if abs(num) < 99.95:
                if abs(num) < 9.995:
                    return f"{num:1.2f}{unit}"
                return f"{num:2.1f}{unit}"
            return f"{num:3.0f}{unit}"
        num /= 1024
    return f"{num:3.1f}Y"


def format_entries(entries: list[dict], with_size: bool = False, with_hash: bool = False) -> str:
    """The plain text ``dvc ls`` prints (a tabulate ``plain`` table when sizes or hashes are shown)."""
    if not (with_size or with_hash):
        return "\n".join(e["path"] for e in entries)
    rows = []
    for e in entries:
        row = []
        if with_size:
            size = e.get("size")
            row.append("" if size is None or (size <= 0 and e.get("isdir")) else naturalsize(size))
        if with_hash:
            row.append(e.get("md5") or "-")
        row.append(e["path"])
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            if i == 0 and with_size:
                cells.append(c.rjust(widths[i]))
            elif i == len(r) - 1:
                cells.append(c)
            else:
                cells.append(c.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
