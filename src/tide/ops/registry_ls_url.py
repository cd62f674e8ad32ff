"""``tide ls-url URL``: what is at a URL (a local path, ``s3://``, ``gs://``, ``http(s)://`` ...), as
``dvc list-url`` lists it: entries ``{"path", "isdir", "size"}`` and ``dvc ls``'s text and tree formats.

The order is dvc's: a local directory is read in the order the filesystem gives (``os.scandir``, as
fsspec's local walk does), a level's files before its directories, sub-directories walked depth
first; a remote's keys come from the storage backend's listing (sorted), directories being the
prefixes between keys. The tree (``-T``) is sorted by name, as dvc sorts it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from tide.core.config import Env
from tide.core.errors import MissingError, UsageError

# children(rel) -> [(name, isdir, size)] in listing order; rel "" is the URL itself
Lister = Callable[[str], list[tuple[str, bool, "int | None"]]]


def _local(url: str) -> str | None:
    if url.startswith("file://"):
        return url[len("file://"):]
    return None if "://" in url else url


def _open(url: str, options: dict[str, str] | None, env: Env, with_size: bool):
    """(kind of the URL: "file"/"dir"/None, its size, a Lister, the path dvc prints for a file)."""
    local = _local(url)
    if local is not None:
        top = os.path.abspath(local)

        def children(rel: str):
            out = []
            with os.scandir(os.path.join(top, rel) if rel else top) as it:
                for e in it:
                    try:
                        isdir = e.is_dir()
                        out.append((e.name, isdir, e.stat().st_size))
                    except OSError:
                        continue
            return out

        if os.path.isdir(top):
            return "dir", os.stat(top).st_size, children, top
        if os.path.exists(top):
            return "file", os.stat(top).st_size, children, top
        return None, None, children, top
    from tide.core.errors import StorageError
    from tide.ops.registry_url import open_parent

    backend, name = open_parent(url, options, env)
    try:
        keys = sorted(k[len(name) + 1:] for k in backend.list(name + "/"))
        if not keys:
            if backend.exists(name):
                return "file", backend.size(name) if with_size else None, lambda rel: [], url.split("://", 1)[-1]
            return None, None, lambda rel: [], url
    except StorageError as exc:
        raise MissingError(f"cannot list '{url}': {exc}")
    levels: dict[str, dict[str, tuple[bool, int | None]]] = {}
    for k in keys:
        parts = k.split("/")
        for i in range(len(parts)):
            parent, leaf = "/".join(parts[:i]), parts[i]
            isdir = i < len(parts) - 1
            level = levels.setdefault(parent, {})
            if leaf not in level:
                level[leaf] = (isdir, None if isdir or not with_size else backend.size(f"{name}/{k}"))

    def remote_children(rel: str):
        return [(n, d, s) for n, (d, s) in levels.get(rel, {}).items()]

    return "dir", None, remote_children, url


def ls_url(url: str, recursive: bool = False, maxdepth: int | None = None, options: dict[str, str] | None = None,
           env: Env | None = None, with_size: bool = False) -> list[dict]:
    if maxdepth is not None and maxdepth < 0:
        raise UsageError("-L/--level must not be negative")
    kind, size, children, shown = _open(url, options, env or Env(), with_size)
    if kind is None:
        raise MissingError(f"The path '{url}' does not exist")
    if maxdepth == 0 or kind == "file":
        return [{"path": shown, "isdir": False}]
    out: list[dict] = []

    def walk(rel: str, depth: int) -> None:
        # fsspec's walk: maxdepth N reads N levels; the last level's directories are listed as entries
        items = children(rel)
        files = [(n, d, s) for n, d, s in items if not d]
        dirs = [(n, d, s) for n, d, s in items if d]
        last = not recursive or (maxdepth is not None and depth >= maxdepth - 1)
        for n, d, s in files + (dirs if last else []):
            out.append({"path": f"{rel}/{n}" if rel else n, "isdir": d, "size": s})
        if last:
            return
        for n, _, _ in dirs:
            walk(f"{rel}/{n}" if rel else n, depth + 1)

    walk("", 0)
    return out


def ls_url_tree(url: str, maxdepth: int | None = None, options: dict[str, str] | None = None,
                env: Env | None = None, with_size: bool = False) -> dict:
    """dvc's ``_ls_tree`` over the URL: ``{name: {"isout", "isdir", "isexec", "size", "md5", "contents"}}``."""
    kind, size, children, shown = _open(url, options, env or Env(), with_size)
    if kind is None:
        raise MissingError(f"The path '{url}' does not exist")

    def entry(isdir: bool, sz: int | None) -> dict:
        return {"isout": False, "isdir": isdir, "isexec": False, "size": sz, "md5": None}

    def build(rel: str, isdir: bool, sz: int | None, depth: int | None) -> dict:
        e = entry(isdir, sz)
        if isdir and (depth is None or depth > 0):
            nxt = None if depth is None else depth - 1
            e["contents"] = {n: build(f"{rel}/{n}" if rel else n, d, s, nxt)
                             for n, d, s in sorted(children(rel), key=lambda x: x[0])}
        return e

    if url.startswith("file://"):
        name = url[len("file://"):]
    elif "://" in url:  # dvc names the top by its filesystem path (no scheme, no trailing slash)
        name = url.split("://", 1)[1].rstrip("/")
    else:
        name = url
    return {name: build("", kind == "dir", size, maxdepth)}
