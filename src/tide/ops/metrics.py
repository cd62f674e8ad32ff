"""``tide metrics show|diff``: metrics of the workspace or revisions, in dvc's tables and JSON."""

from __future__ import annotations

from typing import Any

from tide.core.errors import FileFormatError, TideError
from tide.core.texttable import table  # callers import it from here too (it was defined here)
from tide.pipeline import metrics as m
from tide.pipeline.revfs import WORKSPACE, reader_for
from tide.workspace.repo import Repo

DEFAULT_PRECISION = 5


def fmt_value(v: Any, precision: int | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and precision:
        return str(round(v, precision))
    return str(v)


def revisions(repo: Repo, all_branches: bool, all_tags: bool, all_commits: bool) -> dict[str, str]:
    """``{name: revision}`` as dvc's brancher: the workspace, then each commit once, named by every branch
    and tag that points at it joined by commas (``main,v1``); a commit by its sha with ``-A``."""
    revs = {WORKSPACE: WORKSPACE}
    if repo.git is None or not (all_branches or all_tags or all_commits):
        return revs
    g = repo.git
    names: list[str] = []
    if all_commits:
        names += g.out("rev-list", "--all").split()
    else:
        if all_branches:
            names += g.out("for-each-ref", "--format=%(refname:short)", "refs/heads/").split()
        if all_tags:
            names += g.out("for-each-ref", "--format=%(refname:short)", "refs/tags/").split()
    by_sha: dict[str, list[str]] = {}
    for n in dict.fromkeys(names):
        by_sha.setdefault(g.resolve(n), []).append(n)
    revs.update({",".join(ns): ns[0] for ns in by_sha.values()})
    return revs


def hide_workspace(repo: Repo, result: dict[str, Any]) -> dict[str, Any]:
    """As dvc: the workspace is left out when it equals the revision named by the active branch alone."""
    if repo.git is None or WORKSPACE not in result:
        return result
    proc = repo.git.run("symbolic-ref", "HEAD", check=False)  # fails on a detached HEAD: nothing hidden
    ref = proc.stdout.decode().strip() if proc.returncode == 0 else ""
    branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ""
    if branch and result.get(WORKSPACE) == result.get(branch):
        result.pop(WORKSPACE)
    return result


def show(repo: Repo, targets: list[str] | None = None, revs: list[str] | dict[str, str] | None = None,
         warn=None) -> dict[str, Any]:
    """``{rev: {"data": {path: {"data": ...}}}}`` (the workspace alone is ``""`` as in dvc's JSON,
    ``workspace`` beside other revisions). A revision whose dvc.yaml cannot be loaded is
    ``{rev: {"error": {"type", "msg"}}}`` (dvc: ``YAMLValidationError``), with a warning (``warn``)."""
    revs = dict(revs) if isinstance(revs, dict) else {r: r for r in revs or [WORKSPACE]}
    out: dict[str, Any] = {}
    for name, rev in revs.items():
        key = "" if list(revs) == [WORKSPACE] else name
        try:
            out[key] = {"data": m.read_metrics(reader_for(repo, rev), targets)}
        except TideError as exc:
            kind = "YAMLValidationError" if isinstance(exc, FileFormatError) else type(exc).__name__
            out[key] = {"error": m.error_info(kind, str(exc))}
            if warn is not None:
                warn(f"WARNING: failed to load metrics in revision '{key}', {exc}")
    return out


def errored_revisions(result: dict[str, Any]) -> list[str]:
    """Revisions of a ``show`` result with an error anywhere (dvc names them on stderr)."""
    return [rev for rev, val in result.items()
            if "error" in val or any("error" in e for e in val.get("data", {}).values())]


def show_table(result: dict[str, Any], markdown: bool, precision: int, with_rev: bool) -> str:
    cols: list[str] = []
    rows: list[dict[str, str]] = []
    for rev, val in result.items():
        for path, entry in val.get("data", {}).items():
            data = entry.get("data")
            if "error" in entry:  # as dvc: a row of dashes, no column of its own
                flat = {}
            else:
                flat = m.flatten(data) if isinstance(data, dict) else {"": data}
            row = {"Revision": rev or WORKSPACE, "Path": path}
            for k, v in flat.items():
                if k not in cols:
                    cols.append(k)
                row[k] = fmt_value(v, precision)
            rows.append(row)
    headers = (["Revision"] if with_rev else []) + ["Path"] + sorted(cols)
    return table(headers, [[r.get(h, "-") for h in headers] for r in rows], markdown)


def diff(repo: Repo, a_rev: str = "HEAD", b_rev: str = WORKSPACE, targets: list[str] | None = None,
         with_unchanged: bool = False, warn=None) -> dict[str, Any]:
    if no_commits(repo):
        return {}
    old = at_rev(repo, a_rev, "metrics", lambda f: m.read_metrics(f, targets), warn)
    new = at_rev(repo, b_rev, "metrics", lambda f: m.read_metrics(f, targets), warn)
    return m.diff(old, new, with_unchanged)


def at_rev(repo: Repo, rev: str, what: str, read, warn=None) -> dict[str, Any]:
    """``read`` the metrics or params of one revision for a diff. As in dvc, a revision whose
    dvc.yaml cannot be loaded counts as having none, with a warning (``warn``), not as an error
    (without ``warn`` it stays an error: reports must not hide a broken pipeline)."""
    from tide.pipeline.interpolate import InterpolationError

    if not _has_commits(repo, rev):
        return {}
    try:
        return read(reader_for(repo, rev))
    except (FileFormatError, InterpolationError) as exc:
        if warn is None:
            raise
        warn(f"WARNING: failed to load {what} in revision '{rev}', {exc}")
        return {}


def no_commits(repo: Repo) -> bool:
    """A git repository without a commit yet: dvc's ``params/metrics/plots diff`` then compare nothing
    (``{}``), whichever revisions are named (``scm.no_commits``)."""
    return repo.git is not None and not repo.git.has_commits()


def _has_commits(repo: Repo, rev: str) -> bool:
    if rev == WORKSPACE:
        return True
    return repo.git is not None and repo.git.has_commits()


def diff_table(d: dict[str, Any], title: str, a_rev: str, b_rev: str, markdown: bool, precision: int | None,
               no_path: bool = False, show_change: bool = True) -> str:
    headers = ["Path", title, a_rev, b_rev] + (["Change"] if show_change else [])
    rows = []
    for path, entries in d.items():
        for key, e in sorted(entries.items()):
            row = [path, key, fmt_value(e.get("old"), precision), fmt_value(e.get("new"), precision)]
            if show_change:
                row.append(fmt_value(e.get("diff"), precision))
            rows.append(row)
    if no_path:
        headers, rows = headers[1:], [r[1:] for r in rows]
    return table(headers, rows, markdown)


def relative_to(repo: Repo, by_path: dict[str, Any], cwd: str) -> dict[str, Any]:
    """``by_path`` (root-relative paths) with its paths relative to ``cwd``, as dvc prints them from a
    subdirectory (``../m.json``); unchanged at the root or outside the repository."""
    import os

    cwd = os.path.realpath(cwd)
    root = os.path.realpath(repo.root)
    if cwd == root or not cwd.startswith(root + os.sep):
        return by_path
    return {os.path.relpath(os.path.join(root, p), cwd).replace(os.sep, "/"): v for p, v in by_path.items()}
