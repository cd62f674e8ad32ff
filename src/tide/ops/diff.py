"""``tide diff``: tracked files that differ between two revisions (or a revision and the workspace)."""

from __future__ import annotations

from tide.core import manifest
from tide.core.errors import MissingError, TideError
from tide.ops.index import collect, outs_at_rev
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo

KINDS = ("added", "deleted", "modified", "renamed", "not in cache")


def _expand(repo: Repo, path: str, md5: str, legacy: bool, into: dict[str, str]) -> None:
    into[path + "/" if md5.endswith(".dir") else path] = md5
    if md5.endswith(".dir"):
        try:
            entries = manifest.parse(repo.cache.read_bytes(md5, legacy))
        except FileNotFoundError:
            return
        for e in entries:
            into[f"{path}/{e.relpath}"] = e.md5


def _from_outs(repo: Repo, outs: list[Out]) -> dict[str, str]:
    files: dict[str, str] = {}
    for o in outs:
        if o.md5:
            _expand(repo, repo.rel(o.abspath), o.md5, o.legacy, files)
    return files


def _from_workspace(repo: Repo) -> dict[str, str]:
    files: dict[str, str] = {}
    for t in collect(repo):
        try:
            res = repo.hasher.hash_path(t.out.abspath)
        except MissingError:
            continue
        path = repo.rel(t.out.abspath)
        if res.is_dir:
            files[path + "/"] = res.md5
            for f in res.files:
                files[f"{path}/{f.relpath}"] = f.md5
        else:
            files[path] = res.md5
    return files


def diff(repo: Repo, a_rev: str | None = None, b_rev: str | None = None) -> dict[str, list[dict[str, str]]]:
    if repo.git is None:
        raise TideError("tide diff needs git (the repository was initialised with --no-scm)")
    a_rev = a_rev or "HEAD"
    if a_rev == "HEAD" and not repo.git.has_commits():
        old: dict[str, str] = {}
    else:
        old = _from_outs(repo, outs_at_rev(repo, repo.git.resolve(a_rev)))
    new = _from_workspace(repo) if b_rev is None else _from_outs(repo, outs_at_rev(repo, repo.git.resolve(b_rev)))
    res: dict[str, list[dict[str, str]]] = {k: [] for k in KINDS}
    for p in sorted(set(old) | set(new)):
        if p not in old:
            res["added"].append({"path": p})
        elif p not in new:
            res["deleted"].append({"path": p})
        elif old[p] != new[p]:
            res["modified"].append({"path": p})
    return res
