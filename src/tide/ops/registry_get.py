"""``tide get URL PATH``: copy a file or directory of another repository (git- or dvc-tracked, at a
revision) into the working directory, data fetched from the source's cache or remote with the
transfer engine. ``materialize`` is shared with ``tide import``.

What PATH names is planned first (``plan``): a tracked output as a whole (``whole``: its objects go
through the cache untouched), or a set of files, each either an object (dvc-tracked, possibly inside
a tracked directory) or a git blob.
"""

from __future__ import annotations

import os
import shutil
from collections import namedtuple

from tide.core.errors import MissingError, PathError, TideError
from tide.objects.ref import ObjRef
from tide.ops.registry_ls import View
from tide.ops.registry_source import Source

# one file of the result: relpath inside it ("" for a single file), an ObjRef or None, the git
# path of a blob when ``ref`` is None, and the executable bit
Item = namedtuple("Item", "relpath ref blob isexec")


class Plan(namedtuple("Plan", "path isdir items whole")):
    """``whole``: the ``Out`` when PATH is exactly one tracked output (else None)."""

    __slots__ = ()

    @property
    def refs(self) -> list[ObjRef]:
        return list(dict.fromkeys(i.ref for i in self.items if i.ref is not None))


class OutputExists(TideError):
    pass


def plan(src: Source, path: str) -> Plan:
    path = path.replace(os.sep, "/").strip("/")
    if path in ("", "."):
        raise MissingError("name a file or directory of the repository")
    outs = dict(src.outs())
    whole = outs.get(path)
    view = View(src)
    view.expand_for(path, True)
    nodes = view.nodes(False)
    if path not in nodes and (hidden := src.ignored_file(path)) is not None:
        nodes[path] = {"isout": False, "isdir": False, "isexec": hidden.isexec, "size": hidden.size, "md5": None}
    if path not in nodes:
        raise MissingError(f"path '{path}' does not exist in '{src.url}'")
    node = nodes[path]
    legacy_of = _legacy_map(outs)
    if not node["isdir"]:
        return Plan(path, False, [_item("", path, node, view, legacy_of)], whole)
    items = []
    for p, info in sorted(nodes.items()):
        if p.startswith(path + "/") and not info["isdir"] and not (not info["isout"] and _dvc_file(p)):
            items.append(_item(p[len(path) + 1:], p, info, view, legacy_of))
    return Plan(path, True, items, whole)


def _dvc_file(path: str) -> bool:
    """dvc's own files, which ``dvc get`` leaves out of a directory (``dvcfiles=False``: ``.dvcignore``
    too)."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".dvc") or name in ("dvc.yaml", "dvc.lock", ".dvcignore")


def _legacy_map(outs: dict) -> dict[str, bool]:
    return {p: o.legacy for p, o in outs.items()}


def _item(rel: str, path: str, info: dict, view: View, legacy_of: dict[str, bool]) -> Item:
    if path in view.dvc and info.get("md5"):
        legacy = next((v for p, v in legacy_of.items() if path == p or path.startswith(p + "/")), False)
        return Item(rel, ObjRef(info["md5"], legacy), None, bool(info.get("isexec")))
    return Item(rel, None, path, bool(info.get("isexec")))


def fetch_plan(src: Source, pl: Plan, cache, jobs: int | None = None, progress=None) -> None:
    """Bring the plan's objects into ``cache`` (a whole directory with its manifest)."""
    if pl.whole is not None and pl.whole.is_dir:
        src.provide(cache, [], [ObjRef(pl.whole.md5, pl.whole.legacy)], jobs, progress)
    elif pl.refs:
        src.provide(cache, pl.refs, [], jobs, progress)


def materialize(src: Source, pl: Plan, cache, dst: str) -> None:
    """Write the plan's files at ``dst`` (which must not exist): into a temporary sibling, renamed
    into place at the end, so an interruption leaves nothing under the final name."""
    from tide.core.fsutil import tmp_name

    parent = os.path.dirname(os.path.abspath(dst)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tmp_name(dst)
    try:
        blobs = src.read_many([i.blob for i in pl.items if i.blob is not None])
        if pl.isdir:
            os.makedirs(tmp)
        batch: dict[bool, list[tuple[str, str]]] = {False: [], True: []}  # legacy -> (oid, target)
        for it in pl.items:
            target = os.path.normpath(os.path.join(tmp, it.relpath)) if it.relpath else tmp
            if target != tmp and not target.startswith(tmp + os.sep):  # a hostile source's path stays inside
                raise PathError(f"'{it.relpath}' from '{src.url}' is outside the target")
            if it.ref is not None and target != tmp and not it.isexec:
                batch[it.ref.legacy].append((it.ref.oid, target))  # each directory made once, below
                continue
            if it.ref is not None:
                cache.link(it.ref.oid, target, it.isexec, it.ref.legacy)
                continue
            data = blobs.get(it.blob)
            if data is None:
                raise MissingError(f"'{it.blob}' cannot be read from '{src.url}'")
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            if it.isexec:
                os.chmod(target, 0o755)
        for legacy, pairs in batch.items():  # the objects are present (the plan's cache holds them all)
            if pairs:
                cache.link_many(pairs, legacy)
        if os.path.isdir(dst) and not os.path.islink(dst):
            _swap(tmp, dst)
        else:
            os.replace(tmp, dst)
    except BaseException:
        remove_path(tmp)
        raise


def _swap(tmp: str, dst: str) -> None:
    old = dst + ".tide-old"
    os.replace(dst, old)
    os.replace(tmp, dst)
    remove_path(old)


def remove_path(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def complete_local_cache(src: Source, pl: Plan):
    """The source's own cache (read-only, copied from) when it holds every object of the plan."""
    from tide.objects.cache import ObjectCache
    from tide.objects.transfer import missing_from

    d = src.cache_dir()
    if not d or not os.path.isdir(d):
        return None
    cache = ObjectCache(d, ("copy",))
    for legacy in (False, True):
        refs = [r for r in pl.refs if r.legacy == legacy]
        if refs and missing_from(cache, refs):
            return None
    return cache


def get(url: str, path: str, out: str | None = None, rev: str | None = None, jobs: int | None = None,
        force: bool = False, env=None, progress=None, options: dict | None = None) -> str:
    """Copy PATH of the repository at URL (at ``rev``) to ``out`` (default: its base name here).
    ``options``: ``config``/``remote`` for the source (``registry_config.repo_options``)."""
    from tide.ops.registry_source import open_source

    dst = out or os.path.basename(path.rstrip("/\\")) or path
    with open_source(url, rev, env, **(options or {})) as src:
        pl = plan(src, path)
        if os.path.lexists(dst) and not force:
            kind = "directory" if os.path.isdir(dst) else "file"
            raise OutputExists(f"the {kind} '{dst}' already exists locally; to override it, re-run with --force")
        cache = complete_local_cache(src, pl)
        if cache is None:  # not all in the source's own cache: fetch into a scratch cache first
            cache = src.scratch_cache()
            fetch_plan(src, pl, cache, jobs, progress)
        if os.path.lexists(dst):
            remove_path(dst)
        materialize(src, pl, cache, dst)
    return dst
