"""``tide data status``: what changed between the last commit, the .dvc/dvc.lock files and the workspace,
in dvc's categories: ``committed`` (HEAD vs the files, to ``git commit``), ``uncommitted`` (the files vs the
data, to ``tide commit`` or ``checkout``), ``not_in_cache``, ``unchanged``, ``untracked`` (git's)."""

from __future__ import annotations

import collections
import os
from typing import Any

from tide.ops.diff import Side, keep_under, side_at_rev, target_roots, workspace_side
from tide.workspace.repo import Repo

ORDER = ("not_in_cache", "not_in_remote", "committed", "uncommitted", "untracked", "unchanged")


def data_status(repo: Repo, targets: list[str] | None = None, granular: bool = False,
                untracked_files: str = "no", cwd: str | None = None) -> dict[str, Any]:
    """dvc's shape: ``{"not_in_cache": [...], "committed": {"modified": [...], ...}, "uncommitted": {...},
    "untracked": [...], "unchanged": [...], "git": {"is_dirty": bool, "is_empty": bool}}`` (empty parts kept)."""
    git = repo.git
    has_head = bool(git and git.has_commits())
    index = side_at_rev(repo, None)
    work = workspace_side(repo)
    head = side_at_rev(repo, "HEAD") if has_head else (Side() if git is not None else None)  # no commit: all new
    roots = target_roots(repo, targets, cwd or os.getcwd()) if targets else None
    sides = [s for s in (index, work, head) if s is not None]
    if roots is not None:
        for s in sides:
            s.entries = keep_under(s.entries, roots)
    outputs = _top_level(index, work, head)
    uncommitted, same_u = _changes(index, work, granular, outputs)
    committed, same_c = _changes(head, index, granular, outputs) if head is not None else ({}, None)
    unchanged = same_u if same_c is None else [p for p in same_u if p in set(same_c)]
    not_in_cache = [_shown(p, e) for p, e in _ordered(index.entries)
                    if (granular or p in outputs) and e[0] and not repo.cache.exists(e[0], e[2])]
    untracked: list[str] = []
    dirty = False
    if git is not None:
        mode = "-uno" if untracked_files == "no" else "-uall"
        lines = git.out("status", "--porcelain", mode).splitlines()
        dirty = bool(lines)
        if untracked_files != "no":
            untracked = _untracked(repo, [ln[3:] for ln in lines if ln.startswith("?? ")], roots)
    return {"not_in_cache": not_in_cache, "not_in_remote": [], "committed": committed,
            "uncommitted": uncommitted, "untracked": untracked, "unchanged": unchanged,
            "git": {"is_dirty": dirty, "is_empty": git is not None and not has_head}}


def _ordered(entries: dict) -> list:
    return sorted(entries.items(), key=lambda kv: kv[0].split("/"))


def _shown(path: str, entry: tuple) -> str:
    return path + os.sep if entry[1] else path


def _top_level(*sides: Side | None) -> set[str]:
    """Paths that are outputs themselves (not files inside a tracked directory) on any side."""
    paths = {p for s in sides if s is not None for p in s.entries}
    dirs = {p for s in sides if s is not None for p, e in s.entries.items() if e[1]}
    return {p for p in paths if not any(p.startswith(d + "/") for d in dirs if d != p)}


def _changes(old: Side, new: Side, granular: bool, outputs: set[str]) -> tuple[dict[str, list], list[str]]:
    """Changes from ``old`` to ``new`` by kind, and the unchanged paths. Not granular: only the outputs
    themselves. The order is dvc_data's with renames: modifications in path order, then additions (a
    deleted entry of the same hash makes one a rename), then the deletions left, grouped by hash."""
    res: dict[str, list] = {}
    same: list[str] = []
    added: list[tuple[str, tuple]] = []
    deleted: list[tuple[str, tuple]] = []
    skip = tuple(d + "/" for d in old.unknown + new.unknown)
    for p in sorted(set(old.entries) | set(new.entries), key=lambda x: x.split("/")):
        if not granular and p not in outputs:
            continue
        if skip and (p + "/").startswith(skip) and (p + "/") not in skip:
            continue
        o, n = old.entries.get(p), new.entries.get(p)
        o, n = (o if o and o[0] else None), (n if n and n[0] else None)  # no hash (never run): absent, as dvc
        if o is None and n is None:
            continue
        if o is None:
            added.append((p, n))
        elif n is None:
            deleted.append((p, o))
        elif o[:2] != n[:2]:
            res.setdefault("modified", []).append(_shown(p, o))
        elif o[0]:
            same.append(_shown(p, o))
    queues: dict[Any, collections.deque] = {}
    for p, e in deleted:
        queues.setdefault(e[0], collections.deque()).appendleft((p, e))
    for p, e in added:
        q = queues.get(e[0]) if e[0] else None
        if q:
            dp, de = q.pop()
            res.setdefault("renamed", []).append({"old": _shown(dp, de), "new": _shown(p, e)})
        else:
            res.setdefault("added", []).append(_shown(p, e))
    for q in queues.values():
        for p, e in q:
            res.setdefault("deleted", []).append(_shown(p, e))
    return res, same


def _untracked(repo: Repo, paths: list[str], roots: list[str] | None) -> list[str]:
    git_root = repo.git.root if repo.git else repo.root
    out = []
    for p in paths:
        if p.startswith('"'):  # git quotes unusual names; -z is not needed for dvc's output of them
            p = p.strip('"')
        rel = os.path.relpath(os.path.join(git_root, p), repo.root)
        if rel.startswith(".."):
            continue
        if roots is None or any(rel == r or rel.startswith(r + os.sep) for r in roots):
            out.append(rel)
    return out
