"""``tide du URL [PATH]``: disk usage of a repository's files, git-tracked and dvc-tracked together, as
``dvc du``: the size of each entry of PATH (files of tracked directories counted from their manifests), then
PATH's total; ``summarize``: the total only. As dvc's file system, ``.dvc`` files and ``.dvcignore`` are
not counted. dvc lists the entries in no stable order; tide sorts them."""

from __future__ import annotations

import os

from tide.core.errors import MissingError, TideError
from tide.ops.registry_ls import View
from tide.ops.registry_source import Source


def _hidden(p: str) -> bool:
    name = p.rsplit("/", 1)[-1]
    return name.endswith(".dvc") or name == ".dvcignore"


def du(src: Source, path: str | None = None, summarize: bool = False) -> list[tuple[str, int]]:
    path = (path or "").replace(os.sep, "/").strip("/")
    if path in (".", "./"):
        path = ""
    view = View(src)
    for rel in list(view.dir_outs):
        try:
            view.expand(rel)
        except TideError:  # the manifest is nowhere: the directory counts by the size its .dvc file records
            pass
    nodes = {p: n for p, n in view.nodes(False).items() if not _hidden(p)}
    if path and path not in nodes:
        raise MissingError(f"path '{path}' does not exist in '{src.url}'")
    sizes = {p: (n.get("size") or 0) for p, n in nodes.items() if not n["isdir"] or
             (p in view.dir_outs and not any(q.startswith(p + "/") for q in nodes))}

    def total(p: str) -> int:
        if p in sizes:
            return sizes[p]
        prefix = p + "/" if p else ""
        return sum(s for q, s in sizes.items() if q.startswith(prefix))

    if summarize or (path and not nodes[path]["isdir"]):
        return [(path, total(path))]
    prefix = path + "/" if path else ""
    children = sorted(p for p in nodes if p.startswith(prefix) and "/" not in p[len(prefix):])
    rows = [(p, total(p)) for p in children]
    rows.append((path, sum(s for _, s in rows)))
    return rows


def render(rows: list[tuple[str, int]]) -> str:
    """dvc's table: sizes left-aligned in dvc's ``naturalsize``, two spaces, the path."""
    from tide.ops.registry_ls import naturalsize

    cells = [(naturalsize(s), p) for p, s in rows]
    width = max(len(c[0]) for c in cells)
    return "\n".join(f"{s.ljust(width)}  {p}".rstrip() for s, p in cells)
